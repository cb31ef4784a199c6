"""Opening the database file: pragmas, versioned migrations, refusals with reasons."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from hearth.errors import HearthError
from hearth.store.conversations import ConversationStore
from hearth.store.db import close_database, open_database
from hearth.store.migrations import LATEST_VERSION, fts5_available
from hearth.store.models import Conversation, Message
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

# Frozen copy of what the first release wrote (migrations v1). It is copied, not imported,
# on purpose: this test must keep describing the old files users have even if someone
# edits the v1 step by mistake.
V1_SCHEMA = """
CREATE TABLE conversation (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT,
    system_prompt TEXT,
    model TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE message (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content TEXT NOT NULL,
    model TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    ttft_ms REAL,
    tokens_per_s REAL,
    finish_reason TEXT CHECK (finish_reason IN ('stop', 'length', 'stopped', 'error')),
    created_at TEXT NOT NULL
);
CREATE INDEX ix_conversation_updated_at ON conversation (updated_at);
INSERT INTO conversation VALUES
    ('c0ffee', 'Sourdough starter', NULL, 'smollm', '2024-03-01T10:00:00.000000Z',
     '2024-03-01T10:05:00.000000Z');
INSERT INTO message (conversation_id, role, content, model, prompt_tokens, completion_tokens,
                     ttft_ms, tokens_per_s, finish_reason, created_at) VALUES
    ('c0ffee', 'user', 'How often should I feed rye flour?', NULL, NULL, NULL, NULL, NULL, NULL,
     '2024-03-01T10:00:00.000000Z'),
    ('c0ffee', 'assistant', 'Twice a day at room temperature.', 'smollm', 12, 8, 35.5, 41.0,
     'stop', '2024-03-01T10:05:00.000000Z');
PRAGMA user_version = 1;
"""


def _pragma(engine: Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def _sqlite(path: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(path))


def test_new_file_is_created_in_wal_mode_at_the_latest_version(engine: Engine, db_path: Path):
    assert db_path.is_file()
    assert _pragma(engine, "journal_mode") == "wal"
    assert _pragma(engine, "foreign_keys") == 1
    assert _pragma(engine, "synchronous") == 2  # FULL
    assert _pragma(engine, "busy_timeout") == 5000
    assert _pragma(engine, "user_version") == LATEST_VERSION


def test_reopening_a_current_file_changes_nothing(db_path: Path):
    engine = open_database(db_path)
    ConversationStore(engine).create(title="kept")
    close_database(engine)

    engine = open_database(db_path)
    items, total = ConversationStore(engine).list()
    close_database(engine)
    assert [c.title for c in items] == ["kept"]
    assert total == 1


def test_models_match_the_migrated_schema(engine: Engine):
    with engine.connect() as conn:
        for table in (Conversation.__table__, Message.__table__):
            rows = conn.exec_driver_sql(f"PRAGMA table_info({table.name})").all()
            assert {row[1] for row in rows} == set(table.columns.keys()), table.name
    assert set(SQLModel.metadata.tables) >= {"conversation", "message"}


def test_v1_file_upgrades_in_place_and_keeps_its_rows(db_path: Path):
    db_path.parent.mkdir(parents=True)
    with _sqlite(db_path) as conn:
        conn.executescript(V1_SCHEMA)

    engine = open_database(db_path)
    try:
        assert _pragma(engine, "user_version") == LATEST_VERSION
        store = ConversationStore(engine)
        conversation = store.get("c0ffee")
        assert conversation.title == "Sourdough starter"
        assert conversation.updated_at.isoformat() == "2024-03-01T10:05:00+00:00"
        old = store.messages("c0ffee")
        assert [(m.role, m.content, m.meta) for m in old] == [
            ("user", "How often should I feed rye flour?", None),
            ("assistant", "Twice a day at room temperature.", None),
        ]
        assert (old[1].prompt_tokens, old[1].ttft_ms, old[1].finish_reason) == (12, 35.5, "stop")

        # The search index covers rows written before it existed.
        assert [c.id for c in store.list(query="rye")[0]] == ["c0ffee"]
        assert [c.id for c in store.list(query="sourdough")[0]] == ["c0ffee"]

        added = store.add_message("c0ffee", "user", "And in the fridge?", meta={"k": 1})
        assert added.id == 3
        assert store.get_message(3).meta == {"k": 1}
    finally:
        close_database(engine)


def test_file_from_a_newer_schema_is_refused_and_left_untouched(db_path: Path):
    db_path.parent.mkdir(parents=True)
    with _sqlite(db_path) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
        conn.commit()

    with pytest.raises(HearthError) as caught:
        open_database(db_path)

    assert caught.value.code == "database_too_new"
    assert str(db_path) in caught.value.message
    with _sqlite(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION + 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_corrupt_file_is_refused_with_its_name(db_path: Path):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database, it only has its name\n" * 200)

    with pytest.raises(HearthError) as caught:
        open_database(db_path)

    assert caught.value.code == "database_corrupt"
    assert str(db_path) in caught.value.message


def test_unopenable_path_says_which(tmp_path: Path):
    directory = tmp_path / "a-directory"
    directory.mkdir()

    with pytest.raises(HearthError) as caught:
        open_database(directory)

    assert caught.value.code == "database_unavailable"
    assert str(directory) in caught.value.message


def _has_fts5() -> bool:
    with closing(sqlite3.connect(":memory:")) as conn:
        return fts5_available(conn)


@pytest.mark.skipif(not _has_fts5(), reason="this SQLite has no FTS5")
def test_search_index_exists_when_fts5_does(engine: Engine):
    with engine.connect() as conn:
        names = {
            row[0]
            for row in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    assert {"message_fts", "conversation_fts"} <= names
