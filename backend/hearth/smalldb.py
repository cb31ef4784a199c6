"""One small SQLite file beside the main database (keys, batches): opened on first use, WAL,
autocommit, one connection shared by threads under its owner's lock."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path


class SmallDb:
    def __init__(
        self, path: Path, schema: Sequence[str], columns: Sequence[tuple[str, str, str]] = ()
    ):
        """`columns`: (table, column, declaration) that a file made by an older Hearth lacks
        and gets on opening; `schema` already has them for a new file."""
        self.path = path
        self._schema = schema
        self._columns = columns
        self.lock = threading.Lock()  # held by the owner around every use of `db()`
        self._conn: sqlite3.Connection | None = None

    def db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            # WAL and NORMAL: a committed row survives a crash of the app (not of the OS), and
            # a write never waits behind a reader.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            for statement in self._schema:
                conn.execute(statement)
            for table, column, declaration in self._columns:
                have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
