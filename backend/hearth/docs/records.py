"""SQLModel classes mapped onto the document tables that store/migrations.py (v4, v6) builds."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlmodel import Field, SQLModel

from hearth.store.models import UtcDateTime, iso, utcnow

DOCUMENT_STATUSES = ("indexed", "failed", "pending")


class DocLibrary(SQLModel, table=True):
    __tablename__ = "doc_library"

    id: str = Field(default_factory=lambda: uuid4().hex, primary_key=True)
    name: str
    embedding_model: str | None = None
    embedding_sha256: str | None = None
    # Set: the files attached in that one chat, hidden from the Documents page and other chats.
    conversation_id: str | None = Field(
        default=None, foreign_key="conversation.id", ondelete="CASCADE"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "conversation_id": self.conversation_id,
            "embedding_model": (
                {"name": self.embedding_model, "sha256": self.embedding_sha256}
                if self.embedding_model
                else None
            ),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class DocDocument(SQLModel, table=True):
    __tablename__ = "doc_document"

    id: str = Field(default_factory=lambda: uuid4().hex, primary_key=True)
    library_id: str = Field(foreign_key="doc_library.id", ondelete="CASCADE")
    path: str
    name: str
    kind: str | None = None
    size: int | None = None
    sha256: str | None = None
    status: str = "pending"
    reason_code: str | None = None
    reason: str | None = None
    pages: int | None = None
    chunks: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "library_id": self.library_id,
            "path": self.path,
            "name": self.name,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "status": self.status,
            "reason_code": self.reason_code,
            "reason": self.reason,
            "pages": self.pages,
            "chunks": self.chunks,
            "updated_at": iso(self.updated_at),
        }


class ConversationLibrary(SQLModel, table=True):
    __tablename__ = "conversation_library"

    conversation_id: str = Field(primary_key=True)
    library_id: str = Field(primary_key=True)
