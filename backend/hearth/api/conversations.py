"""Conversation routes: list/search, create, rename, delete, messages and export.

Routes are plain `def`: the store is synchronous, and FastAPI runs them in its threadpool.
Delete is the exception: it also stops and removes the files attached in the conversation.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from hearth.api.deps import DocsDep, StoreDep
from hearth.api.params import Offset
from hearth.store.conversations import MAX_PAGE

MAX_TITLE = 200
MAX_SYSTEM_PROMPT = 20_000
MAX_MODEL = 500
MAX_QUERY = 200

router = APIRouter(prefix="/api/conversations", tags=["conversations"])


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(
        None, max_length=MAX_TITLE, description="None: set from the first message"
    )
    system_prompt: str | None = Field(None, max_length=MAX_SYSTEM_PROMPT)
    model: str | None = Field(None, max_length=MAX_MODEL, description="Model id used for replies")


class ConversationPatch(ConversationCreate):
    """Only the fields sent are changed; an explicit null clears one."""


@router.get("")
def list_conversations(
    store: StoreDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    q: Annotated[str | None, Query(max_length=MAX_QUERY, description="Words to find")] = None,
) -> dict[str, Any]:
    items, total = store.list(offset=offset, limit=limit, query=q)
    # A search result says why it was found: the matching piece of a message, words marked.
    found = store.snippets([c.id for c in items], q) if q and q.strip() else None
    return {
        "items": [
            c.to_dict() if found is None else {**c.to_dict(), "snippet": found.get(c.id)}
            for c in items
        ],
        "total": total,
        "offset": offset,
        "limit": limit,
    }


@router.post("", status_code=201)
def create_conversation(store: StoreDep, body: ConversationCreate) -> dict[str, Any]:
    return store.create(
        title=body.title, system_prompt=body.system_prompt, model=body.model
    ).to_dict()


@router.get("/{conversation_id}")
def get_conversation(store: StoreDep, conversation_id: str) -> dict[str, Any]:
    return store.get(conversation_id).to_dict()


@router.patch("/{conversation_id}")
def update_conversation(
    store: StoreDep, conversation_id: str, body: ConversationPatch
) -> dict[str, Any]:
    changes = body.model_dump(include=body.model_fields_set)
    return store.update(conversation_id, **changes).to_dict()


@router.delete("/{conversation_id}", status_code=204)
async def delete_conversation(store: StoreDep, docs: DocsDep, conversation_id: str) -> Response:
    """Deletes the conversation, its messages, and the files attached in it (their library,
    vectors and stored copies). Shared libraries it used stay."""
    owned = await docs.release_conversation(conversation_id)
    await asyncio.to_thread(store.delete, conversation_id)  # the owned rows go with it
    await docs.purge(owned)
    return Response(status_code=204)


@router.get("/{conversation_id}/messages")
def list_messages(store: StoreDep, conversation_id: str) -> list[dict[str, Any]]:
    """The active path, first to last; each message with `sibling_ids` (its alternatives,
    itself included, oldest first), `alternative` (its 1-based place there), `alternatives`."""
    return [step.to_dict() for step in store.path(conversation_id)]


@router.get("/{conversation_id}/export")
def export_conversation(
    store: StoreDep,
    conversation_id: str,
    fmt: Annotated[Literal["markdown", "json"], Query(alias="format")] = "markdown",
) -> Response:
    content_type, filename, text = store.export(conversation_id, fmt)
    return Response(
        content=text,
        media_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
