"""API keys for other programs (admin only, see hearth.keys.roles): make one (its secret shown
once), list them with their last use, change a key's limits, revoke one; and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from hearth.api.deps import KeysDep
from hearth.api.params import SQLITE_MAX_INT, RowId
from hearth.jsonvalues import INTEGRAL
from hearth.keys.roles import Role
from hearth.keys.store import MAX_NAME

router = APIRouter(prefix="/api/admin", tags=["keys"])

Limit = Annotated[int, Field(ge=1, le=1_000_000), INTEGRAL] | None


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    requests_per_minute: Limit = Field(default=None, description="null: no limit")
    tokens_per_minute: Limit = Field(
        default=None, description="Generated tokens per minute; null: no limit"
    )


class NewKey(Limits):
    name: str = Field(min_length=1, max_length=MAX_NAME, pattern=r"\S")
    role: Role = Field(
        description="read: models, status, metrics; user: also chat, "
        "completions, embeddings, conversations, documents; admin: everything"
    )


@router.get("/keys")
async def list_keys(keys: KeysDep) -> dict[str, Any]:
    return {"keys": [k.to_dict() for k in keys.store.all()]}


@router.post("/keys", status_code=201)
async def create_key(body: NewKey, keys: KeysDep) -> dict[str, Any]:
    """The key's secret is in this answer only: Hearth keeps just its hash."""
    key, secret = keys.store.create(
        body.name.strip(), body.role, body.requests_per_minute, body.tokens_per_minute
    )
    return {**key.to_dict(), "secret": secret}


@router.patch("/keys/{key_id}")
async def change_limits(key_id: RowId, body: Limits, keys: KeysDep) -> dict[str, Any]:
    return keys.store.update_limits(
        key_id, body.requests_per_minute, body.tokens_per_minute
    ).to_dict()


@router.delete("/keys/{key_id}")
async def revoke_key(key_id: RowId, keys: KeysDep) -> dict[str, Any]:
    """Revoked at once: the next request with it is refused. Its audit rows stay."""
    return keys.store.revoke(key_id).to_dict()


@router.get("/audit")
async def audit_log(
    keys: KeysDep,
    key_id: Annotated[int | None, Query(ge=1, le=SQLITE_MAX_INT)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Newest first: which key called which route, the status and when; never the content."""
    return {"entries": keys.store.audit(limit, key_id)}
