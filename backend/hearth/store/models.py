"""SQLModel classes mapped onto the schema that migrations.py builds."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from uuid import uuid4

from sqlalchemy import JSON
from sqlalchemy.engine import Dialect
from sqlalchemy.types import String, TypeDecorator
from sqlmodel import Field, SQLModel

ROLES = ("system", "user", "assistant")
FINISH_REASONS = ("stop", "length", "stopped", "error")

# Fixed width, so that text order in SQLite is time order (ORDER BY updated_at).
_STORED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, as the API returns timestamps."""
    return value.astimezone(timezone.utc).strftime(_STORED_FORMAT)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes stored as fixed-width ISO text (SQLAlchemy's DateTime drops the zone)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use hearth.store.models.utcnow()")
        return iso(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class Conversation(SQLModel, table=True):
    id: str = Field(default_factory=lambda: uuid4().hex, primary_key=True)
    # None until set by the user or from the first user message; the UI shows "New chat".
    title: str | None = None
    system_prompt: str | None = None
    model: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "system_prompt": self.system_prompt,
            "model": self.model,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class Message(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", ondelete="CASCADE")
    # The message this one follows; None for a first message. Messages with the same parent are
    # alternatives (a regenerated answer, an edited question); see hearth.store.branches.
    parent_id: int | None = Field(default=None, foreign_key="message.id")
    # The alternative shown among its siblings; the active path follows these from the root.
    active: bool = True
    role: str
    content: str
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: float | None = None
    tokens_per_s: float | None = None
    finish_reason: str | None = None
    # none_as_null: "no meta" is SQL NULL, not the JSON text 'null'.
    meta: dict[str, Any] | None = Field(default=None, sa_type=JSON(none_as_null=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "parent_id": self.parent_id,
            "role": self.role,
            "content": self.content,
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_ms": self.ttft_ms,
            "tokens_per_s": self.tokens_per_s,
            "finish_reason": self.finish_reason,
            "meta": self.meta,
            "created_at": iso(self.created_at),
        }
