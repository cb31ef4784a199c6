"""Files, batches and each batch's request lines in SQLite (`<data dir>/batches.sqlite3`).

A file's bytes live on disk under `<data dir>/files/<file id>`, not in SQLite: an upload is
copied there in blocks as it arrives and a download is streamed from there, so neither holds a
file of tens of megabytes in memory, and the database stays small enough that each finished
line's write is quick. The bytes are in place (written, synced, renamed) before the row that
names them is committed, so a crash leaves at worst bytes without a row, which the next start
removes; never a row without its bytes.

Each line's answer is committed as soon as it is known: a restart, or a kill -9, loses at most
the lines that were running then, and they run again."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hearth.batches.lines import RequestLine
from hearth.batches.records import (
    BATCH_COLUMNS,
    COMPLETION_WINDOW_S,
    Batch,
    Counts,
    FileRecord,
    Status,
)
from hearth.batches.results import NOT_RUN, LineState, new_id, not_run, state_of
from hearth.errors import BadRequest, Conflict, HearthError, NotFound
from hearth.files import CHUNK, fsync_dir
from hearth.smalldb import SmallDb

FILENAME = "batches.sqlite3"
FILES_DIR = "files"
_TEMP_PREFIX = ".upload-"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS file (
        id TEXT PRIMARY KEY,
        filename TEXT NOT NULL,
        purpose TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        owner INTEGER
    )""",
    """CREATE TABLE IF NOT EXISTS batch (
        id TEXT PRIMARY KEY,
        input_file_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        completion_window TEXT NOT NULL,
        status TEXT NOT NULL,
        errors TEXT,
        metadata TEXT,
        output_file_id TEXT,
        error_file_id TEXT,
        created_at INTEGER NOT NULL,
        in_progress_at INTEGER,
        expires_at INTEGER NOT NULL,
        finalizing_at INTEGER,
        completed_at INTEGER,
        failed_at INTEGER,
        expired_at INTEGER,
        cancelling_at INTEGER,
        cancelled_at INTEGER,
        owner INTEGER
    )""",
    """CREATE TABLE IF NOT EXISTS batch_line (
        batch_id TEXT NOT NULL,
        line INTEGER NOT NULL,
        custom_id TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'completed', 'failed')),
        result TEXT,
        PRIMARY KEY (batch_id, line)
    )""",
    "CREATE INDEX IF NOT EXISTS ix_line_state ON batch_line (batch_id, state, line)",
)
# Whose a file or batch is: the API key that made it (keys.sqlite3's id); NULL for the app's own
# token. Files made before owners were kept have none, so only the app and admin keys see them.
_OWNER_COLUMNS = (("file", "owner", "INTEGER"), ("batch", "owner", "INTEGER"))


@dataclass(frozen=True)
class PendingLine:
    batch_id: str
    line: int
    custom_id: str
    endpoint: str
    body: str  # the request's JSON, as the file had it
    owner: int | None  # the API key whose batch it is: its tokens count against that key

    @property
    def key(self) -> tuple[str, int]:
        return self.batch_id, self.line


class FileTooLarge(HearthError):
    code = "file_too_large"
    status = 413


class BatchStore:
    def __init__(self, data_dir: Path, clock=time.time):
        self.path = Path(data_dir) / FILENAME
        self.files_dir = Path(data_dir) / FILES_DIR
        self._clock = clock
        self._small = SmallDb(self.path, _SCHEMA, _OWNER_COLUMNS)
        self._lock = self._small.lock
        self._files_ready = False

    def _db(self) -> sqlite3.Connection:
        if not self._files_ready:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            self._files_ready = True
        return self._small.db()

    def close(self) -> None:
        self._small.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def now(self) -> int:
        return int(self._clock())

    # -- files ----------------------------------------------------------------------------------

    def sweep(self) -> None:
        """Remove bytes no row names: an upload or an output that a crash interrupted."""
        with self._lock:
            known = {row[0] for row in self._db().execute("SELECT id FROM file")}
        for path in self.files_dir.iterdir():
            if path.name not in known:
                with contextlib.suppress(OSError):
                    path.unlink()

    def add_file(
        self, filename: str, purpose: str, source: IO[bytes], limit: int, owner: int | None = None
    ) -> FileRecord:
        """Copy `source` in as a new file; more than `limit` bytes is refused (413)."""
        file_id = new_id("file-")
        size = self._write(file_id, _blocks(source, limit))
        record = FileRecord(file_id, filename, purpose, size, self.now())
        return self._insert_file(record, owner=owner)

    def file(self, file_id: str, viewer: int | None = None) -> FileRecord:
        """`viewer`: an API key that sees only its own files (None: every file)."""
        mine, args = _mine(viewer)
        with self._lock:
            row = (
                self._db()
                .execute(f"SELECT {_FILE_COLUMNS} FROM file WHERE id = ?{mine}", (file_id, *args))
                .fetchone()
            )
        if row is None:
            raise NotFound(f"No such file: {file_id}", code="file_not_found")
        return FileRecord(*row)

    def files(
        self,
        purpose: str | None,
        limit: int,
        after: str | None,
        order: str,
        viewer: int | None = None,
    ) -> tuple[list[FileRecord], bool]:
        """A page of files, newest first for order "desc"; and whether more follow."""
        where, args = _page("file", after, order)
        if purpose is not None:
            where, args = f"{where} AND purpose = ?", [*args, purpose]
        mine, owner = _mine(viewer)
        where, args = where + mine, [*args, *owner]
        with self._lock:
            rows = (
                self._db()
                .execute(
                    f"SELECT {_FILE_COLUMNS} FROM file WHERE {where}"
                    f" ORDER BY rowid {'DESC' if order == 'desc' else 'ASC'} LIMIT ?",
                    (*args, limit + 1),
                )
                .fetchall()
            )
        return [FileRecord(*row) for row in rows[:limit]], len(rows) > limit

    def content_path(self, file_id: str, viewer: int | None = None) -> Path:
        self.file(file_id, viewer)
        return self.files_dir / file_id

    def delete_file(self, file_id: str, viewer: int | None = None) -> None:
        """The row first, then the bytes: a crash in between leaves bytes the next start
        removes. A batch made from the file keeps its own copy of the requests."""
        mine, args = _mine(viewer)
        with self._transaction() as db:
            gone = db.execute(f"DELETE FROM file WHERE id = ?{mine}", (file_id, *args)).rowcount
            if gone == 0:
                raise NotFound(f"No such file: {file_id}", code="file_not_found")
        with contextlib.suppress(FileNotFoundError):
            (self.files_dir / file_id).unlink()

    def _write(self, file_id: str, blocks: Iterable[bytes]) -> int:
        with self._lock:
            self._db()  # makes the folder
        fd, tmp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self.files_dir)
        size = 0
        try:
            with os.fdopen(fd, "wb") as fh:
                for block in blocks:
                    fh.write(block)
                    size += len(block)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.files_dir / file_id)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(self.files_dir)
        return size

    def _insert_file(
        self, record: FileRecord, db: sqlite3.Connection | None = None, owner: int | None = None
    ) -> FileRecord:
        values = (
            record.id,
            record.filename,
            record.purpose,
            record.bytes,
            record.created_at,
            owner,
        )
        statement = f"INSERT INTO file ({_FILE_COLUMNS}, owner) VALUES (?, ?, ?, ?, ?, ?)"
        if db is not None:
            db.execute(statement, values)
        else:
            with self._transaction() as conn:
                conn.execute(statement, values)
        return record

    # -- batches --------------------------------------------------------------------------------

    def create_batch(
        self,
        input_file_id: str,
        endpoint: str,
        completion_window: str,
        metadata: dict[str, str] | None,
        owner: int | None = None,
        viewer: int | None = None,
    ) -> Batch:
        """A batch of `owner`'s (an API key, or None for the app) from a file `viewer` sees."""
        source = self.file(input_file_id, viewer)
        if source.purpose != "batch":
            raise BadRequest(
                f"File {input_file_id} was not uploaded with purpose 'batch'.",
                code="invalid_input_file",
            )
        batch_id, now = new_id("batch_"), self.now()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO batch (id, input_file_id, endpoint, completion_window, status,"
                " metadata, created_at, expires_at, owner)"
                " VALUES (?, ?, ?, ?, 'validating', ?, ?, ?, ?)",
                (
                    batch_id,
                    input_file_id,
                    endpoint,
                    completion_window,
                    None if metadata is None else json.dumps(metadata),
                    now,
                    now + COMPLETION_WINDOW_S[completion_window],
                    owner,
                ),
            )
        return self.batch(batch_id)

    def batch(self, batch_id: str, viewer: int | None = None) -> Batch:
        mine, args = _mine(viewer)
        found = self._batches(f"id = ?{mine}", [batch_id, *args])
        if not found:
            raise NotFound(f"No such batch: {batch_id}", code="batch_not_found")
        return found[0]

    def batches(
        self, limit: int, after: str | None, viewer: int | None = None
    ) -> tuple[list[Batch], bool]:
        """A page of batches, newest first; and whether more follow."""
        where, args = _page("batch", after, "desc")
        mine, owner = _mine(viewer)
        found = self._batches(where + mine, [*args, *owner], limit + 1)
        return found[:limit], len(found) > limit

    def with_status(self, *statuses: Status) -> list[Batch]:
        """Oldest first: the order they run in."""
        marks = ", ".join("?" * len(statuses))
        return self._batches(f"status IN ({marks})", list(statuses), order="ASC")

    def _batches(
        self, where: str, args: list[Any], limit: int = -1, order: str = "DESC"
    ) -> list[Batch]:
        with self._lock:
            db = self._db()
            rows = db.execute(
                f"SELECT {', '.join(BATCH_COLUMNS)} FROM batch WHERE {where}"
                f" ORDER BY rowid {order} LIMIT ?",
                (*args, limit),
            ).fetchall()
            ids = [row[0] for row in rows]
            counts = _counts(db, ids)
        return [_batch(row, counts.get(row[0], Counts())) for row in rows]

    def start(self, batch_id: str, requests: list[RequestLine]) -> bool:
        """A validated batch's lines, and in_progress, at once; False when it was cancelled
        meanwhile (then nothing is kept)."""
        with self._transaction() as db:
            moved = db.execute(
                "UPDATE batch SET status = 'in_progress', in_progress_at = ?"
                " WHERE id = ? AND status = 'validating'",
                (self.now(), batch_id),
            ).rowcount
            if not moved:
                return False
            db.executemany(
                "INSERT INTO batch_line (batch_id, line, custom_id, body) VALUES (?, ?, ?, ?)",
                [(batch_id, r.line, r.custom_id, json.dumps(r.body)) for r in requests],
            )
        return True

    def fail(self, batch_id: str, errors: dict[str, Any]) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE batch SET status = 'failed', failed_at = ?, errors = ?"
                " WHERE id = ? AND status = 'validating'",
                (self.now(), json.dumps(errors), batch_id),
            )

    def cancel(self, batch_id: str, viewer: int | None = None) -> Batch:
        """Cancelling (the runner stops its lines, then ends it cancelled); a batch already
        cancelling or cancelled is left as it is."""
        batch = self.batch(batch_id, viewer)
        if batch.status in ("cancelling", "cancelled"):
            return batch
        with self._transaction() as db:
            moved = db.execute(
                "UPDATE batch SET status = 'cancelling', cancelling_at = ?"
                " WHERE id = ? AND status IN ('validating', 'in_progress')",
                (self.now(), batch_id),
            ).rowcount
        if not moved:
            raise Conflict(
                f"Batch {batch_id} is {self.batch(batch_id).status}: it cannot be cancelled.",
                code="batch_not_cancellable",
            )
        return self.batch(batch_id)

    # -- lines ----------------------------------------------------------------------------------

    def pending(self, limit: int, running: set[tuple[str, int]]) -> list[PendingLine]:
        """The next lines to run: in_progress batches oldest first, each in line order; none
        of a batch whose window has passed, and none of `running`."""
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT l.batch_id, l.line, l.custom_id, b.endpoint, l.body, b.owner"
                    " FROM batch b JOIN batch_line l ON l.batch_id = b.id"
                    " WHERE b.status = 'in_progress' AND b.expires_at > ? AND l.state = 'pending'"
                    " ORDER BY b.rowid, l.line LIMIT ?",
                    (self.now(), limit + len(running)),
                )
                .fetchall()
            )
        lines = [PendingLine(*row) for row in rows]
        return [p for p in lines if p.key not in running][:limit]

    def finish_line(self, batch_id: str, line: int, result: dict[str, Any]) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE batch_line SET state = ?, result = ?"
                " WHERE batch_id = ? AND line = ? AND state = 'pending'",
                (state_of(result), json.dumps(result), batch_id, line),
            )

    def has_pending(self, batch_id: str) -> bool:
        with self._lock:
            row = (
                self._db()
                .execute(
                    "SELECT 1 FROM batch_line WHERE batch_id = ? AND state = 'pending' LIMIT 1",
                    (batch_id,),
                )
                .fetchone()
            )
        return row is not None

    def finalize(self, batch_id: str, status: Status) -> Batch:
        """Write the output file (the answered lines) and the error file (the refused ones,
        and for a cancelled or expired batch those that never ran), then end the batch as
        `status`. Done again from the start if a crash interrupts it."""
        if status == "completed":
            with self._transaction() as db:
                db.execute(
                    "UPDATE batch SET status = 'finalizing', finalizing_at = ?"
                    " WHERE id = ? AND status IN ('in_progress', 'finalizing')",
                    (self.now(), batch_id),
                )
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT custom_id, state, result FROM batch_line"
                    " WHERE batch_id = ? ORDER BY line",
                    (batch_id,),
                )
                .fetchall()
            )
            (owner,) = (
                self._db().execute("SELECT owner FROM batch WHERE id = ?", (batch_id,)).fetchone()
            )
        output, errors = _split(rows, status)
        made: list[FileRecord] = []
        for lines, kind in ((output, "output"), (errors, "error")):
            if lines:
                file_id = new_id("file-")
                size = self._write(file_id, lines)
                name = f"{batch_id}_{kind}.jsonl"
                made.append(FileRecord(file_id, name, "batch_output", size, self.now()))
        output_id = made[0].id if output else None
        error_id = made[-1].id if errors else None
        with self._transaction() as db:
            for record in made:
                self._insert_file(record, db, owner)  # the batch's results are its owner's
            db.execute(
                f"UPDATE batch SET status = ?, {status}_at = ?, output_file_id = ?,"
                " error_file_id = ? WHERE id = ?",
                (status, self.now(), output_id, error_id, batch_id),
            )
        return self.batch(batch_id)


_FILE_COLUMNS = "id, filename, purpose, bytes, created_at"


def _mine(viewer: int | None) -> tuple[str, list[Any]]:
    """The clause that keeps an API key to its own rows; none for the app (it sees all)."""
    return ("", []) if viewer is None else (" AND owner = ?", [viewer])


def _blocks(source: IO[bytes], limit: int) -> Iterator[bytes]:
    seen = 0
    while block := source.read(CHUNK):
        seen += len(block)
        if seen > limit:
            raise FileTooLarge(f"A file is at most {limit} bytes.")
        yield block


def _page(table: str, after: str | None, order: str) -> tuple[str, list[Any]]:
    """The rows past `after` in this order; an id not there has nothing after it."""
    if after is None:
        return "1", []
    if order == "desc":
        return f"rowid < COALESCE((SELECT rowid FROM {table} WHERE id = ?), 0)", [after]
    return f"rowid > COALESCE((SELECT rowid FROM {table} WHERE id = ?), 1e18)", [after]


def _counts(db: sqlite3.Connection, ids: list[str]) -> dict[str, Counts]:
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    tally: dict[str, dict[str, int]] = {}
    for batch_id, state, n in db.execute(
        f"SELECT batch_id, state, COUNT(*) FROM batch_line WHERE batch_id IN ({marks})"
        " GROUP BY batch_id, state",
        ids,
    ):
        tally.setdefault(batch_id, {})[state] = n
    return {
        batch_id: Counts(
            total=sum(by_state.values()),
            completed=by_state.get("completed", 0),
            failed=by_state.get("failed", 0),
        )
        for batch_id, by_state in tally.items()
    }


def _batch(row: tuple, counts: Counts) -> Batch:
    values = dict(zip(BATCH_COLUMNS, row, strict=True))
    for name in ("errors", "metadata"):
        if values[name] is not None:
            values[name] = json.loads(values[name])
    return Batch(**values, counts=counts)


def _split(rows: list[tuple[str, LineState, str | None]], status: Status) -> tuple[list, list]:
    """(output lines, error lines) as JSONL bytes, in the input's order."""
    output: list[bytes] = []
    errors: list[bytes] = []
    for custom_id, state, result in rows:
        if state == "pending":
            if status not in NOT_RUN:
                continue
            code, message = NOT_RUN[status]
            errors.append(_jsonl(not_run(custom_id, code, message)))
        elif result is not None:
            (output if state == "completed" else errors).append(result.encode() + b"\n")
    return output, errors


def _jsonl(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode() + b"\n"
