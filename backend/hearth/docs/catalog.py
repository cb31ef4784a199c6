"""Libraries, their documents and which conversations use them, in the app's SQLite file.

A library is shared (the Documents page's, attached to any chat that ticks it) or a chat's own
(conversation_id set: the files attached in that chat). A chat's own library is always
attached to it, to no other, and goes with it.

Synchronous and thread-safe like ConversationStore: each method is one short transaction.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, or_, select

from hearth.docs.records import DOCUMENT_STATUSES, ConversationLibrary, DocDocument, DocLibrary
from hearth.errors import BadRequest, Conflict, NotFound
from hearth.store.db import session_scope
from hearth.store.models import Conversation, utcnow

MAX_NAME = 200
OWN_LIBRARY_NAME = "Files in this chat"


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

    def libraries(self, *, owned: bool = False) -> builtins.list[DocLibrary]:
        """The shared libraries; with `owned`, every chat's own library too."""
        with session_scope(self._engine) as session:
            statement = select(DocLibrary).order_by(func.lower(DocLibrary.name))
            if not owned:
                statement = statement.where(col(DocLibrary.conversation_id).is_(None))
            return builtins.list(session.exec(statement).all())

    def library_ids(self) -> set[str]:
        with session_scope(self._engine) as session:
            return set(session.exec(select(DocLibrary.id)).all())

    def own_library(self, conversation_id: str, *, create: bool = False) -> DocLibrary | None:
        """The conversation's own library; made on the first attachment when `create`."""
        # One write transaction (BEGIN IMMEDIATE) for the look and the insert: two files
        # dropped at once on a new chat must end in one library, not a unique-index error.
        with session_scope(self._engine, write=create) as session:
            _conversation(session, conversation_id)
            statement = select(DocLibrary).where(DocLibrary.conversation_id == conversation_id)
            library = session.exec(statement).first()
            if library is None and create:
                library = DocLibrary(name=OWN_LIBRARY_NAME, conversation_id=conversation_id)
                session.add(library)
            return library

    def owned_by(self, conversation_id: str) -> builtins.list[str]:
        """Ids of the libraries that go when the conversation goes (none if it is not there)."""
        with session_scope(self._engine) as session:
            statement = select(DocLibrary.id).where(DocLibrary.conversation_id == conversation_id)
            return builtins.list(session.exec(statement).all())

    def rename_library(self, library_id: str, name: str) -> DocLibrary:
        name = clean_name(name)
        with session_scope(self._engine, write=True) as session:
            library = _library(session, library_id)
            if library.conversation_id is None:  # names are unique among shared libraries
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
        """The libraries the conversation's questions search: its own first, then the ticked."""
        with session_scope(self._engine) as session:
            _conversation(session, conversation_id)
            ticked = select(ConversationLibrary.library_id).where(
                ConversationLibrary.conversation_id == conversation_id
            )
            statement = (
                select(DocLibrary)
                .where(
                    or_(
                        col(DocLibrary.id).in_(ticked),
                        DocLibrary.conversation_id == conversation_id,
                    )
                )
                .order_by(col(DocLibrary.conversation_id).is_(None), func.lower(DocLibrary.name))
            )
            return builtins.list(session.exec(statement).all())

    def attach(self, conversation_id: str, library_ids: builtins.list[str]) -> None:
        """Make exactly these shared libraries the conversation's (an empty list detaches
        all). Its own library stays attached whether listed or not; another chat's own
        library cannot be attached."""
        with session_scope(self._engine, write=True) as session:
            _conversation(session, conversation_id)
            shared = []
            for library_id in library_ids:
                library = _library(session, library_id)
                if library.conversation_id is None:
                    shared.append(library_id)
                elif library.conversation_id != conversation_id:
                    raise BadRequest(
                        "Those files belong to another chat; add them to a library on the "
                        "Documents page to use them here.",
                        code="library_of_another_chat",
                    )
            session.exec(
                delete(ConversationLibrary).where(
                    col(ConversationLibrary.conversation_id) == conversation_id
                )
            )
            for library_id in dict.fromkeys(shared):
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
    statement = select(DocLibrary.id).where(
        func.lower(DocLibrary.name) == name.lower(), col(DocLibrary.conversation_id).is_(None)
    )
    if library_id is not None:
        statement = statement.where(DocLibrary.id != library_id)
    if session.exec(statement).first() is not None:
        raise Conflict(f"A library named {name!r} already exists.", code="library_exists")
