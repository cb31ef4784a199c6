"""Conversations and their messages: the store the chat routes and the API use."""

from __future__ import annotations

import builtins
import json
import re
from enum import Enum
from typing import Any, Final, Literal

from sqlalchemy import column, func, or_, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hearth.errors import BadRequest, NotFound
from hearth.store import branches, snippets
from hearth.store.branches import Step, active_path
from hearth.store.db import session_scope
from hearth.store.models import FINISH_REASONS, ROLES, Conversation, Message, iso, utcnow

ExportFormat = Literal["markdown", "json"]

DEFAULT_TITLE = "New chat"
AUTO_TITLE_CHARS = 60
MAX_PAGE = 200
EXPORT_VERSION = 1


class Unset(Enum):
    UNSET = "UNSET"


# Tells "leave as is" apart from None, which clears a field (e.g. the system prompt).
UNSET: Final = Unset.UNSET


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
        title: str | Unset | None = UNSET,
        system_prompt: str | Unset | None = UNSET,
        model: str | Unset | None = UNSET,
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
        """The active path: the messages the conversation shows, and an answer's history."""
        return [step.message for step in self.path(conversation_id)]

    def path(self, conversation_id: str) -> builtins.list[Step]:
        """The active path, each message with the ids of its alternatives."""
        with session_scope(self._engine) as session:
            _conversation(session, conversation_id)
            return active_path(_messages(session, conversation_id))

    def lineage(self, conversation_id: str, message_id: int) -> builtins.list[Message]:
        """A message and those it follows, first to last, whichever alternatives are shown."""
        with session_scope(self._engine) as session:
            _in_conversation(session, conversation_id, message_id)
            return branches.lineage(_messages(session, conversation_id), message_id)

    def get_message(self, message_id: int) -> Message:
        with session_scope(self._engine) as session:
            return _message(session, message_id)

    def select(self, conversation_id: str, message_id: int) -> builtins.list[Step]:
        """Show this alternative instead of its siblings; returns the new active path.

        The branch below it comes back as it was left: its own choices are kept.
        """
        with session_scope(self._engine, write=True) as session:
            message = _in_conversation(session, conversation_id, message_id)
            if not message.active:
                _hide_siblings(session, conversation_id, message.parent_id)
                message.active = True
                session.add(message)
            # Not an update of the conversation: flipping alternatives does not move it up
            # the list of recent chats.
            session.flush()
            return active_path(_messages(session, conversation_id))

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
        parent_id: int | Unset | None = UNSET,
    ) -> Message:
        """Add a message, committed on return, so that a crash afterwards keeps it.

        It follows `parent_id` (None: a new first message) or, by default, the last message of
        the active path. It becomes the shown alternative of its siblings, which are kept. The
        first user message of an untitled conversation also becomes its title.
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
            if isinstance(parent_id, Unset):
                message.parent_id = branches.last_id(_tree(session, conversation_id))
            else:
                if parent_id is not None:
                    _in_conversation(session, conversation_id, parent_id)
                message.parent_id = parent_id
            _hide_siblings(session, conversation_id, message.parent_id)
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
        content: str | Unset = UNSET,
        model: str | Unset | None = UNSET,
        prompt_tokens: int | Unset | None = UNSET,
        completion_tokens: int | Unset | None = UNSET,
        ttft_ms: float | Unset | None = UNSET,
        tokens_per_s: float | Unset | None = UNSET,
        finish_reason: str | Unset | None = UNSET,
        meta: dict[str, Any] | Unset | None = UNSET,
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
        if not isinstance(finish_reason, Unset):
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

    # Export

    def export(self, conversation_id: str, fmt: ExportFormat) -> tuple[str, str, str]:
        """(content_type, filename, text) of a conversation as Markdown or JSON.

        Only the active path is exported: the conversation as it reads now, not the
        alternatives it was chosen from (a transcript with every branch would not read as one).
        """
        if fmt not in ("markdown", "json"):
            raise BadRequest(f"export format must be markdown or json, not {fmt!r}")
        with session_scope(self._engine) as session:
            conversation = _conversation(session, conversation_id)
            messages = [step.message for step in active_path(_messages(session, conversation_id))]
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

    def snippets(self, conversation_ids: builtins.list[str], query: str) -> dict[str, Any]:
        """For a page of search results: per conversation, the piece of a message that matched,
        as parts {"text", "match"}; absent for one found by its title alone."""
        query = query.strip()
        match = fts_query(query) if self._fts else None
        with self._engine.connect() as conn:
            if match is not None:
                return snippets.fts_snippets(conn, conversation_ids, match)
            return snippets.like_snippets(conn, conversation_ids, query) if query else {}


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


def _in_conversation(session: Session, conversation_id: str, message_id: int) -> Message:
    _conversation(session, conversation_id)
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation_id:
        raise NotFound(f"message {message_id} not found in conversation {conversation_id}")
    return message


def _hide_siblings(session: Session, conversation_id: str, parent_id: int | None) -> None:
    # Before the new shown one is written: the unique index allows one shown per group.
    session.exec(
        update(Message)
        .where(
            col(Message.conversation_id) == conversation_id,
            col(Message.parent_id).is_not_distinct_from(parent_id),
            col(Message.active).is_(True),
        )
        .values(active=False)
    )


def _tree(session: Session, conversation_id: str) -> builtins.list[Any]:
    # Only the columns the tree needs: appending to a long conversation reads no contents.
    statement = select(Message.id, Message.parent_id, Message.active).where(
        Message.conversation_id == conversation_id
    )
    return builtins.list(session.exec(statement).all())


def _messages(session: Session, conversation_id: str) -> builtins.list[Message]:
    """Every message of the conversation, all branches, in id order."""
    statement = (
        select(Message).where(Message.conversation_id == conversation_id).order_by(col(Message.id))
    )
    return builtins.list(session.exec(statement).all())
