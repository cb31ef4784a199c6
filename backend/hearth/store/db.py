"""Open the SQLite database file: connection pragmas, migrations, engine and sessions."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import URL, event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from hearth.errors import HearthError
from hearth.store.migrations import check_version, migrate

log = logging.getLogger(__name__)

DB_FILENAME = "hearth.sqlite3"

# Readers wait this long for a writer rather than failing with "database is locked";
# writes are one message each, so a wait this long means something is stuck.
BUSY_TIMEOUT_MS = 5000

# WAL alone already survives kill -9: a commit is in the -wal file (OS page cache) before
# COMMIT returns. FULL also fsyncs the WAL on each commit, which keeps the last messages
# through a power cut or OS crash (laptop battery). We commit a few times per exchange,
# so the extra fsync per commit costs nothing a user can notice.
SYNCHRONOUS = "FULL"

# Execution option read by the "begin" hook below; see session_scope.
_BEGIN_MODE = "hearth_begin_mode"


def database_path(data_dir: Path) -> Path:
    """Where the chat database lives inside the user data dir."""
    return data_dir / DB_FILENAME


def configure_connection(conn: sqlite3.Connection) -> None:
    """Per-connection pragmas; journal_mode is stored in the file, the others are not."""
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def open_database(path: Path) -> Engine:
    """Open (creating if needed) and migrate the database at `path`; raises HearthError."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see migrations.migrate).
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            # Refuse a newer file before anything, even the journal mode, is written to it.
            check_version(conn, name=str(path))
            configure_connection(conn)
            migrate(conn, name=str(path))
    except sqlite3.OperationalError as e:
        raise HearthError(
            f"Could not open the chat database {path}: {e}", code="database_unavailable"
        ) from e
    except sqlite3.DatabaseError as e:
        raise HearthError(
            f"The chat database {path} is damaged or is not a Hearth database ({e}). "
            "Move it aside to start with an empty history.",
            code="database_corrupt",
        ) from e
    return _create_engine(path)


def close_database(engine: Engine) -> None:
    """Close every pooled connection, so the WAL is checkpointed and the file released."""
    engine.dispose()


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session in one transaction; `write=True` commits on success.

    Writes start with BEGIN IMMEDIATE: a deferred transaction that reads first and then
    writes fails at once with SQLITE_BUSY (busy_timeout does not apply) when another
    connection committed in between. Taking the write lock up front makes writers queue.
    """
    with engine.connect() as conn:
        conn.execution_options(**{_BEGIN_MODE: "IMMEDIATE" if write else "DEFERRED"})
        with Session(bind=conn, expire_on_commit=False) as session:
            yield session
            if write:
                session.commit()


def _create_engine(path: Path) -> Engine:
    # URL.create rather than an f-string: a path with "?" or "#" must not be parsed.
    engine = create_engine(
        URL.create("sqlite", database=str(path)),
        connect_args={"check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Stop the sqlite3 module from emitting its own BEGIN; _on_begin does it.
        dbapi_conn.isolation_level = None
        configure_connection(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    log.info("chat database at %s", path)
    return engine
