"""Versioned schema migrations, tracked in PRAGMA user_version.

Each step runs in its own transaction together with the user_version bump, so a crash
mid-upgrade leaves the file at the previous version. Steps are append-only: a released step
is never edited, because users' files were already built by it; change the schema with a new
step. The SQLModel classes in models.py map onto this schema and never create tables.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from hearth.errors import HearthError

log = logging.getLogger(__name__)

Step = Callable[[sqlite3.Connection], None]


def _run(conn: sqlite3.Connection, *statements: str) -> None:
    # One execute per statement: executescript() would COMMIT our open transaction first.
    for statement in statements:
        conn.execute(statement)


def _v1_initial(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        """CREATE TABLE conversation (
            id TEXT PRIMARY KEY NOT NULL,
            title TEXT,
            system_prompt TEXT,
            model TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        # AUTOINCREMENT: ids of deleted messages (regenerate) are never reused, so a client
        # holding an old id can never address a different message.
        """CREATE TABLE message (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            content TEXT NOT NULL,
            model TEXT,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            ttft_ms REAL,
            tokens_per_s REAL,
            finish_reason TEXT
                CHECK (finish_reason IN ('stop', 'length', 'stopped', 'error')),
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX ix_conversation_updated_at ON conversation (updated_at)",
    )


def _v2_message_meta(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        # Free-form JSON (citations, sampling settings) without a migration per feature.
        "ALTER TABLE message ADD COLUMN meta TEXT",
        # Serves both "messages of a conversation in order" and the ON DELETE CASCADE lookup,
        # which scanned the whole message table in v1.
        "CREATE INDEX ix_message_conversation ON message (conversation_id, id)",
    )


def fts5_available(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite build has the FTS5 extension (python.org builds do)."""
    options = {row[0] for row in conn.execute("PRAGMA compile_options")}
    return "ENABLE_FTS5" in options


def _v3_search(conn: sqlite3.Connection) -> None:
    if not fts5_available(conn):
        # Search then falls back to LIKE; the version still advances so that the file does
        # not retry on every start. A later step can add the index once FTS5 is there.
        log.warning("SQLite lacks FTS5; conversation search will use slower LIKE matching")
        return
    _run(
        conn,
        # Message text is not copied: the index reads it from message by rowid (= message.id,
        # stable because it is an INTEGER PRIMARY KEY).
        """CREATE VIRTUAL TABLE message_fts USING fts5(
            content, content='message', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
        )""",
        # Titles are copied with the conversation id: conversation's rowid is implicit and
        # VACUUM may renumber it, so it cannot be the link.
        """CREATE VIRTUAL TABLE conversation_fts USING fts5(
            conversation_id UNINDEXED, title, tokenize='unicode61 remove_diacritics 2'
        )""",
        """CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
            INSERT INTO message_fts (rowid, content) VALUES (new.id, new.content);
        END""",
        """CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
            INSERT INTO message_fts (message_fts, rowid, content)
                VALUES ('delete', old.id, old.content);
        END""",
        """CREATE TRIGGER message_fts_update AFTER UPDATE OF content ON message BEGIN
            INSERT INTO message_fts (message_fts, rowid, content)
                VALUES ('delete', old.id, old.content);
            INSERT INTO message_fts (rowid, content) VALUES (new.id, new.content);
        END""",
        """CREATE TRIGGER conversation_fts_insert AFTER INSERT ON conversation BEGIN
            INSERT INTO conversation_fts (conversation_id, title) VALUES (new.id, new.title);
        END""",
        """CREATE TRIGGER conversation_fts_delete AFTER DELETE ON conversation BEGIN
            DELETE FROM conversation_fts WHERE conversation_id = old.id;
        END""",
        """CREATE TRIGGER conversation_fts_update AFTER UPDATE OF title ON conversation BEGIN
            UPDATE conversation_fts SET title = new.title WHERE conversation_id = old.id;
        END""",
        # Index what an earlier version already stored.
        "INSERT INTO message_fts (message_fts) VALUES ('rebuild')",
        "INSERT INTO conversation_fts (conversation_id, title) SELECT id, title FROM conversation",
    )


def _v4_documents(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        # A library of documents; its vectors live in chromadb (one collection per library).
        # The embedding model that built them is mirrored here so that listing libraries
        # never has to import chromadb.
        """CREATE TABLE doc_library (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            embedding_model TEXT,
            embedding_sha256 TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        # One row per file added, indexed or not: a failed file keeps its reason for the UI.
        """CREATE TABLE doc_document (
            id TEXT PRIMARY KEY NOT NULL,
            library_id TEXT NOT NULL REFERENCES doc_library(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT,
            size INTEGER,
            sha256 TEXT,
            status TEXT NOT NULL CHECK (status IN ('indexed', 'failed', 'pending')),
            reason_code TEXT,
            reason TEXT,
            pages INTEGER,
            chunks INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL,
            UNIQUE (library_id, path)
        )""",
        """CREATE TABLE conversation_library (
            conversation_id TEXT NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
            library_id TEXT NOT NULL REFERENCES doc_library(id) ON DELETE CASCADE,
            PRIMARY KEY (conversation_id, library_id)
        )""",
        "CREATE INDEX ix_conversation_library_library ON conversation_library (library_id)",
    )


def _v5_answer_history(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        # Messages become a tree: regenerate and edit add a sibling instead of deleting what
        # was there. No ON DELETE action: a message is only ever deleted with its whole
        # conversation (one statement, so the check passes), and a lone delete that would
        # orphan a branch is refused rather than cascading down a chain thousands deep.
        "ALTER TABLE message ADD COLUMN parent_id INTEGER REFERENCES message(id)",
        # Which sibling is shown; a new message starts shown, as every v4 message was.
        "ALTER TABLE message ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))",
        # Up to v4 a conversation was one line in id order: each message follows the one before.
        """UPDATE message SET parent_id = (
            SELECT MAX(p.id) FROM message AS p
            WHERE p.conversation_id = message.conversation_id AND p.id < message.id
        )""",
        # Children of a message; also what the foreign key check reads on every delete, which
        # would otherwise scan the table once per deleted message.
        "CREATE INDEX ix_message_parent ON message (parent_id)",
        # At most one shown alternative per group. First messages have no parent: 0 stands in
        # for it (AUTOINCREMENT ids start at 1), as NULLs would never collide in a unique index.
        """CREATE UNIQUE INDEX ux_message_shown ON message (conversation_id, IFNULL(parent_id, 0))
            WHERE active = 1""",
    )


def _v6_conversation_files(conn: sqlite3.Connection) -> None:
    _run(
        conn,
        # A library can belong to one conversation: the files attached in that chat. NULL (every
        # v5 library) is a shared library of the Documents page. The row goes with its
        # conversation, atomically, so a deleted chat's files can never show up as a library;
        # the service then removes their vectors and stored copies (outside SQLite).
        "ALTER TABLE doc_library ADD COLUMN conversation_id TEXT "
        "REFERENCES conversation(id) ON DELETE CASCADE",
        # At most one per conversation; also what the cascade reads on every conversation delete.
        """CREATE UNIQUE INDEX ux_doc_library_conversation ON doc_library (conversation_id)
            WHERE conversation_id IS NOT NULL""",
    )


MIGRATIONS: list[tuple[int, Step]] = [
    (1, _v1_initial),
    (2, _v2_message_meta),
    (3, _v3_search),
    (4, _v4_documents),
    (5, _v5_answer_history),
    (6, _v6_conversation_files),
]
LATEST_VERSION = MIGRATIONS[-1][0]


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_version(conn: sqlite3.Connection, *, name: str) -> int:
    """The file's schema version; refuses a file written by a newer Hearth."""
    version = schema_version(conn)
    if version > LATEST_VERSION:
        raise HearthError(
            f"The chat database {name} was written by a newer version of Hearth "
            f"(schema v{version}; this version understands up to v{LATEST_VERSION}). "
            "Update Hearth to open it.",
            code="database_too_new",
        )
    return version


def migrate(conn: sqlite3.Connection, *, name: str) -> int:
    """Bring the schema to LATEST_VERSION; `conn` must have isolation_level=None."""
    for version, step in MIGRATIONS:
        if version <= check_version(conn, name=name):
            continue
        # IMMEDIATE, then re-read inside the lock: a second process opening the same file at
        # the same moment waits here and then finds the step already done.
        conn.execute("BEGIN IMMEDIATE")
        try:
            if check_version(conn, name=name) < version:
                step(conn)
                conn.execute(f"PRAGMA user_version = {version}")
                log.info("migrated %s to schema v%d", name, version)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return schema_version(conn)
