"""Libraries, their documents and which conversations use them, in the app's SQLite file.

Synchronous and thread-safe like ConversationStore: each method is one short transaction.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from hearth.docs.records import DOCUMENT_STATUSES, ConversationLibrary, DocDocument, DocLibrary
from hearth.errors import BadRequest, Conflict, NotFound
from hearth.store.db import session_scope
from hearth.store.models import Conversation, utcnow

MAX_NAME = 200


def clean_name(name: str) -> str:
    flat = " ".join(name.split())
    if not flat:
        raise BadRequest("A library needs a name.")
    if len(flat) > MAX_NAME:
        raise BadRequest(f"A library name has at most {MAX_NAME} characters.")
    return flat


class DocCatalog:
    def __init__(self, engine: Engine):
        self._engine = engine

    # Libraries

    def create_library(self, name: str) -> DocLibrary:
        name = clean_name(name)
        with session_scope(self._engine, write=True) as session:
            _refuse_duplicate(session, name, None)
            library = DocLibrary(name=name)
            session.add(library)
        return library

    def library(self, library_id: str) -> DocLibrary:
        with session_scope(self._engine) as session:
            return _library(session, library_id)

    def libraries(self) -> builtins.list[DocLibrary]:
        with session_scope(self._engine) as session:
            statement = select(DocLibrary).order_by(func.lower(DocLibrary.name))
            return builtins.list(session.exec(statement).all())

    def rename_library(self, library_id: str, name: str) -> DocLibrary:
        name = clean_name(name)
        with session_scope(self._engine, write=True) as session:
            library = _library(session, library_id)
            _refuse_duplicate(session, name, library_id)
            library.name = name
            library.updated_at = utcnow()
            session.add(library)
        return library

    def delete_library(self, library_id: str) -> None:
        """The library, its document rows and attachments (ON DELETE CASCADE)."""
        with session_scope(self._engine, write=True) as session:
            session.delete(_library(session, library_id))

    def set_identity(self, library_id: str, model: str | None, sha256: str | None) -> None:
        with session_scope(self._engine, write=True) as session:
            library = _library(session, library_id)
            library.embedding_model = model
            library.embedding_sha256 = sha256
            library.updated_at = utcnow()
            session.add(library)

    def stats(self) -> dict[str, dict[str, int]]:
        """Per library: documents by status and chunk total."""
        statement = select(
            DocDocument.library_id,
            DocDocument.status,
            func.count(),
            func.coalesce(func.sum(DocDocument.chunks), 0),
        ).group_by(DocDocument.library_id, DocDocument.status)
        out: dict[str, dict[str, int]] = {}
        with session_scope(self._engine) as session:
            for library_id, status, n, chunks in session.exec(statement).all():
                entry = out.setdefault(
                    library_id,
                    {"documents": 0, "indexed": 0, "failed": 0, "pending": 0, "chunks": 0},
                )
                entry["documents"] += int(n)
                entry[status] = int(n)
                entry["chunks"] += int(chunks)
        return out

    # Documents

    def documents(self, library_id: str) -> builtins.list[DocDocument]:
        with session_scope(self._engine) as session:
            _library(session, library_id)
            statement = (
                select(DocDocument)
                .where(DocDocument.library_id == library_id)
                .order_by(func.lower(DocDocument.name), col(DocDocument.path))
            )
            return builtins.list(session.exec(statement).all())

    def document(self, library_id: str, document_id: str) -> DocDocument:
        with session_scope(self._engine) as session:
            document = session.get(DocDocument, document_id)
            if document is None or document.library_id != library_id:
                raise NotFound(f"document {document_id} not found in library {library_id}")
            return document

    def document_at(self, library_id: str, path: str) -> DocDocument | None:
        with session_scope(self._engine) as session:
            statement = select(DocDocument).where(
                DocDocument.library_id == library_id, DocDocument.path == path
            )
            return session.exec(statement).first()

    def save_document(self, library_id: str, path: str, **fields: Any) -> DocDocument:
        """Insert or update the row for `path` in the library with the given fields."""
        if "status" in fields and fields["status"] not in DOCUMENT_STATUSES:
            raise BadRequest(f"status must be one of {', '.join(DOCUMENT_STATUSES)}")
        with session_scope(self._engine, write=True) as session:
            _library(session, library_id)
            statement = select(DocDocument).where(
                DocDocument.library_id == library_id, DocDocument.path == path
            )
            document = session.exec(statement).first()
            if document is None:
                document = DocDocument(library_id=library_id, path=path, name=fields["name"])
            for name, value in fields.items():
                setattr(document, name, value)
            document.updated_at = utcnow()
            session.add(document)
        return document

    def delete_document(self, library_id: str, document_id: str) -> DocDocument:
        with session_scope(self._engine, write=True) as session:
            document = session.get(DocDocument, document_id)
            if document is None or document.library_id != library_id:
                raise NotFound(f"document {document_id} not found in library {library_id}")
            session.delete(document)
        return document

    def mark_all_pending(self, library_id: str) -> int:
        """Before a re-index: every indexed document must be embedded again."""
        with session_scope(self._engine, write=True) as session:
            documents = session.exec(
                select(DocDocument).where(
                    DocDocument.library_id == library_id, DocDocument.status == "indexed"
                )
            ).all()
            for document in documents:
                document.status = "pending"
                document.chunks = 0
                session.add(document)
            return len(documents)

    # Conversations

    def attached(self, conversation_id: str) -> builtins.list[DocLibrary]:
        with session_scope(self._engine) as session:
            _conversation(session, conversation_id)
            statement = (
                select(DocLibrary)
                .join(
                    ConversationLibrary, col(ConversationLibrary.library_id) == col(DocLibrary.id)
                )
                .where(ConversationLibrary.conversation_id == conversation_id)
                .order_by(func.lower(DocLibrary.name))
            )
            return builtins.list(session.exec(statement).all())

    def attach(self, conversation_id: str, library_ids: builtins.list[str]) -> None:
        """Make exactly these libraries the conversation's (an empty list detaches all)."""
        with session_scope(self._engine, write=True) as session:
            _conversation(session, conversation_id)
            for library_id in library_ids:
                _library(session, library_id)
            session.exec(
                delete(ConversationLibrary).where(
                    col(ConversationLibrary.conversation_id) == conversation_id
                )
            )
            for library_id in dict.fromkeys(library_ids):
                session.add(
                    ConversationLibrary(conversation_id=conversation_id, library_id=library_id)
                )


def _library(session: Session, library_id: str) -> DocLibrary:
    library = session.get(DocLibrary, library_id)
    if library is None:
        raise NotFound(f"library {library_id} not found", code="library_not_found")
    return library


def _conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


def _refuse_duplicate(session: Session, name: str, library_id: str | None) -> None:
    statement = select(DocLibrary.id).where(func.lower(DocLibrary.name) == name.lower())
    if library_id is not None:
        statement = statement.where(DocLibrary.id != library_id)
    if session.exec(statement).first() is not None:
        raise Conflict(f"A library named {name!r} already exists.", code="library_exists")
