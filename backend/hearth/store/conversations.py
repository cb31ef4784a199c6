"""Conversations and their messages: the store the chat routes and the API use."""

from __future__ import annotations

import builtins
import json
import re
from enum import Enum
from typing import Any, Final, Literal

from sqlalchemy import column, delete, func, or_, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hearth.errors import BadRequest, NotFound
from hearth.store.db import session_scope
from hearth.store.models import FINISH_REASONS, ROLES, Conversation, Message, iso, utcnow

ExportFormat = Literal["markdown", "json"]

DEFAULT_TITLE = "New chat"
AUTO_TITLE_CHARS = 60
MAX_PAGE = 200
EXPORT_VERSION = 1


class _Unset(Enum):
    UNSET = "UNSET"


# Tells "leave as is" apart from None, which clears a field (e.g. the system prompt).
UNSET: Final = _Unset.UNSET


class ConversationStore:
    """Synchronous and thread-safe; each method is one short transaction."""

    def __init__(self, engine: Engine):
        self._engine = engine
        with engine.connect() as conn:
            # Absent when the SQLite build had no FTS5 at migration time; see migrations v3.
            self._fts = (
                conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'message_fts'"
                ).first()
                is not None
            )

    # Conversations

    def create(
        self,
        title: str | None = None,
        system_prompt: str | None = None,
        model: str | None = None,
    ) -> Conversation:
        now = utcnow()
        conversation = Conversation(
            title=_clean_title(title),
            system_prompt=system_prompt,
            model=model,
            created_at=now,
            updated_at=now,
        )
        with session_scope(self._engine, write=True) as session:
            session.add(conversation)
        return conversation

    def get(self, conversation_id: str) -> Conversation:
        with session_scope(self._engine) as session:
            return _conversation(session, conversation_id)

    def update(
        self,
        conversation_id: str,
        *,
        title: str | _Unset | None = UNSET,
        system_prompt: str | _Unset | None = UNSET,
        model: str | _Unset | None = UNSET,
    ) -> Conversation:
        """Change the given fields; None clears one. Any change counts as an update."""
        with session_scope(self._engine, write=True) as session:
            conversation = _conversation(session, conversation_id)
            if title is not UNSET:
                conversation.title = _clean_title(title)
            if system_prompt is not UNSET:
                conversation.system_prompt = system_prompt
            if model is not UNSET:
                conversation.model = model
            conversation.updated_at = utcnow()
            session.add(conversation)
        return conversation

    def delete(self, conversation_id: str) -> None:
        """Delete a conversation and, by ON DELETE CASCADE, its messages."""
        with session_scope(self._engine, write=True) as session:
            session.delete(_conversation(session, conversation_id))

    def list(
        self, offset: int = 0, limit: int = 50, query: str | None = None
    ) -> tuple[builtins.list[Conversation], int]:
        """A page of conversations, most recently updated first, and the total that match.

        `query` matches words (and word prefixes) in titles or in any one message.
        """
        if offset < 0 or not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"offset must be >= 0 and limit between 1 and {MAX_PAGE}")
        condition = self._search_condition(query.strip()) if query and query.strip() else None
        items = select(Conversation)
        count = select(func.count()).select_from(Conversation)
        if condition is not None:
            items = items.where(condition)
            count = count.where(condition)
        # rowid breaks ties between timestamps equal on a coarse clock: newer insert first.
        items = (
            items.order_by(col(Conversation.updated_at).desc(), text("conversation.rowid DESC"))
            .offset(offset)
            .limit(limit)
        )
        with session_scope(self._engine) as session:
            return builtins.list(session.exec(items).all()), session.exec(count).one()

    # Messages

    def messages(self, conversation_id: str) -> builtins.list[Message]:
        with session_scope(self._engine) as session:
            _conversation(session, conversation_id)
            return _messages(session, conversation_id)

    def get_message(self, message_id: int) -> Message:
        with session_scope(self._engine) as session:
            return _message(session, message_id)

    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        model: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        ttft_ms: float | None = None,
        tokens_per_s: float | None = None,
        finish_reason: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Message:
        """Append a message, committed on return, so that a crash afterwards keeps it.

        The first user message of an untitled conversation also becomes its title.
        """
        if role not in ROLES:
            raise BadRequest(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        _check_finish_reason(finish_reason)
        message = Message(
            conversation_id=conversation_id,
            role=role,
            content=content,
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            ttft_ms=ttft_ms,
            tokens_per_s=tokens_per_s,
            finish_reason=finish_reason,
            meta=meta,
        )
        with session_scope(self._engine, write=True) as session:
            conversation = _conversation(session, conversation_id)
            if role == "user" and conversation.title in (None, DEFAULT_TITLE):
                has_user_message = session.exec(
                    select(Message.id).where(
                        Message.conversation_id == conversation_id, Message.role == "user"
                    )
                ).first()
                if has_user_message is None:
                    conversation.title = auto_title(content)
            conversation.updated_at = message.created_at
            session.add(conversation)
            session.add(message)
        return message

    def update_message(
        self,
        message_id: int,
        *,
        content: str | _Unset = UNSET,
        model: str | _Unset | None = UNSET,
        prompt_tokens: int | _Unset | None = UNSET,
        completion_tokens: int | _Unset | None = UNSET,
        ttft_ms: float | _Unset | None = UNSET,
        tokens_per_s: float | _Unset | None = UNSET,
        finish_reason: str | _Unset | None = UNSET,
        meta: dict[str, Any] | _Unset | None = UNSET,
    ) -> Message:
        """Change the given fields of a message (e.g. the stats once a stream ends)."""
        fields = {
            "content": content,
            "model": model,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "ttft_ms": ttft_ms,
            "tokens_per_s": tokens_per_s,
            "finish_reason": finish_reason,
            "meta": meta,
        }
        changes = {name: value for name, value in fields.items() if value is not UNSET}
        if not isinstance(finish_reason, _Unset):
            _check_finish_reason(finish_reason)
        if content is None:
            raise BadRequest("message content cannot be null")
        with session_scope(self._engine, write=True) as session:
            message = _message(session, message_id)
            for name, value in changes.items():
                setattr(message, name, value)
            session.add(message)
            conversation = _conversation(session, message.conversation_id)
            conversation.updated_at = utcnow()
            session.add(conversation)
        return message

    def delete_messages_from(self, conversation_id: str, message_id: int) -> int:
        """Delete a message and every later one of its conversation (regenerate, edit)."""
        with session_scope(self._engine, write=True) as session:
            conversation = _conversation(session, conversation_id)
            message = session.get(Message, message_id)
            if message is None or message.conversation_id != conversation_id:
                raise NotFound(f"message {message_id} not found in conversation {conversation_id}")
            result = session.exec(
                delete(Message).where(
                    col(Message.conversation_id) == conversation_id,
                    col(Message.id) >= message_id,
                )
            )
            conversation.updated_at = utcnow()
            session.add(conversation)
            return int(result.rowcount)

    # Export

    def export(self, conversation_id: str, fmt: ExportFormat) -> tuple[str, str, str]:
        """(content_type, filename, text) of a conversation as Markdown or JSON."""
        if fmt not in ("markdown", "json"):
            raise BadRequest(f"export format must be markdown or json, not {fmt!r}")
        with session_scope(self._engine) as session:
            conversation = _conversation(session, conversation_id)
            messages = _messages(session, conversation_id)
        stem = _filename_stem(conversation)
        if fmt == "json":
            document = {
                "format": "hearth.conversation",
                "version": EXPORT_VERSION,
                "exported_at": iso(utcnow()),
                "conversation": conversation.to_dict(),
                "messages": [m.to_dict() for m in messages],
            }
            body = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
            return "application/json; charset=utf-8", f"{stem}.json", body
        return "text/markdown; charset=utf-8", f"{stem}.md", to_markdown(conversation, messages)

    # Search

    def _search_condition(self, query: str) -> Any:
        match = fts_query(query) if self._fts else None
        if match is None:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", query) + "%"
            in_messages = select(Message.conversation_id).where(
                col(Message.content).like(pattern, escape="\\")
            )
            return or_(
                col(Conversation.title).like(pattern, escape="\\"),
                col(Conversation.id).in_(in_messages),
            )
        matching = text(
            "SELECT conversation_id FROM conversation_fts WHERE conversation_fts MATCH :q "
            "UNION SELECT m.conversation_id FROM message_fts "
            "JOIN message AS m ON m.id = message_fts.rowid WHERE message_fts MATCH :q"
        ).bindparams(q=match)
        return col(Conversation.id).in_(matching.columns(column("conversation_id")))


def fts_query(query: str) -> str | None:
    """An FTS5 expression matching every word of `query` as a word prefix; None if no words.

    Words are quoted, so operators and punctuation typed by the user are never FTS syntax.
    """
    words = re.findall(r"[^\W_]+", query)
    return " ".join(f'"{word}"*' for word in words) or None


def auto_title(content: str) -> str:
    """A title from a first message: one line, cut at a word boundary near AUTO_TITLE_CHARS."""
    flat = " ".join(content.split())
    if not flat:
        return DEFAULT_TITLE
    if len(flat) <= AUTO_TITLE_CHARS:
        return flat
    # +1: a word that ends exactly at the limit is kept whole.
    head = flat[: AUTO_TITLE_CHARS + 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else ""
    # One long word (a URL, a path): cut inside it rather than leave a stub.
    if len(cut) < AUTO_TITLE_CHARS // 2:
        cut = flat[:AUTO_TITLE_CHARS]
    return cut.rstrip(" ,.;:-") + "…"


def to_markdown(conversation: Conversation, messages: builtins.list[Message]) -> str:
    """A readable transcript; message contents are already Markdown and go in verbatim."""
    lines = [f"# {conversation.title or DEFAULT_TITLE}", ""]
    if conversation.model:
        lines.append(f"- Model: {conversation.model}")
    lines += [f"- Created: {iso(conversation.created_at)}", f"- Exported: {iso(utcnow())}", ""]
    if conversation.system_prompt:
        lines += ["## System prompt", "", conversation.system_prompt.strip(), ""]
    for message in messages:
        heading = f"## {message.role.capitalize()}"
        if message.role == "assistant" and message.model:
            heading += f" ({message.model})"
        lines += [heading, "", message.content.strip(), ""]
    return "\n".join(lines)


def _filename_stem(conversation: Conversation) -> str:
    # ASCII only: the name goes into a Content-Disposition header and onto any filesystem.
    slug = re.sub(r"[^a-z0-9]+", "-", (conversation.title or "").lower()).strip("-")[:60]
    return slug.rstrip("-") or f"conversation-{conversation.id[:8]}"


def _clean_title(title: str | None) -> str | None:
    if title is None:
        return None
    return " ".join(title.split()) or None


def _check_finish_reason(finish_reason: str | None) -> None:
    if finish_reason is not None and finish_reason not in FINISH_REASONS:
        raise BadRequest(
            f"finish_reason must be one of {', '.join(FINISH_REASONS)}, not {finish_reason!r}"
        )


def _conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


def _message(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"message {message_id} not found")
    return message


def _messages(session: Session, conversation_id: str) -> builtins.list[Message]:
    statement = (
        select(Message).where(Message.conversation_id == conversation_id).order_by(col(Message.id))
    )
    return builtins.list(session.exec(statement).all())
