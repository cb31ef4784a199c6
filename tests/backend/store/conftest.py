"""A real SQLite file per test, opened and migrated the way the app opens it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hearth.store.conversations import ConversationStore
from hearth.store.db import close_database, database_path, open_database
from sqlalchemy.engine import Engine


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return database_path(tmp_path / "data")


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    engine = open_database(db_path)
    yield engine
    close_database(engine)


@pytest.fixture
def store(engine: Engine) -> ConversationStore:
    return ConversationStore(engine)
