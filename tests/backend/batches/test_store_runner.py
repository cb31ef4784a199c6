"""The batch store on a real SQLite file, and the runner over the scripted engine, in this
process: what a restart finds (cancelling ends cancelled, validating and in_progress go on),
the output files' order and shape, and the window running out."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import threading

import pytest
from hearth.batches.runner import BatchRunner
from hearth.batches.store import BatchStore, FileTooLarge
from hearth.engine.manager import ModelManager
from hearth.errors import NotFound
from hearth.security import SecurityConfig, body_limit
from hearth.settings import Settings

from tests.backend.fake_engine import FakeFactory

CHAT = "/v1/chat/completions"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _jsonl(*custom_ids: str, url: str = CHAT) -> bytes:
    body = {"messages": [{"role": "user", "content": "Hi"}]}
    rows = [{"custom_id": c, "method": "POST", "url": url, "body": body} for c in custom_ids]
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def _batch(store: BatchStore, content: bytes) -> str:
    source = store.add_file("in.jsonl", "batch", io.BytesIO(content), 1 << 20)
    return store.create_batch(source.id, CHAT, "24h", {"job": "test"}).id


def _content(store: BatchStore, file_id: str | None) -> list[dict]:
    assert file_id is not None
    return [json.loads(x) for x in store.content_path(file_id).read_text().splitlines()]


async def _until(predicate, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := predicate()):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)
    return value


def _run(store: BatchStore, factory: FakeFactory, work) -> None:
    """`work(runner)` with a started runner over the scripted engine, then everything stopped."""

    async def main() -> None:
        manager = ModelManager(factory)
        runner = BatchRunner(store, manager, Settings.load(None))
        await runner.start()
        try:
            await work(runner)
        finally:
            await runner.stop()
            manager.close()

    asyncio.run(main())


def test_files_are_listed_in_pages_and_deleted_with_their_bytes(tmp_path):
    store = BatchStore(tmp_path)
    made = [store.add_file(f"{i}.jsonl", "batch", io.BytesIO(b"x" * i), 100) for i in range(3)]
    page, more = store.files(None, 2, None, "desc")
    assert [f.id for f in page] == [made[2].id, made[1].id] and more
    page, more = store.files(None, 2, page[-1].id, "desc")
    assert [f.id for f in page] == [made[0].id] and not more
    assert [f.id for f in store.files(None, 10, made[0].id, "asc")[0]] == [made[1].id, made[2].id]
    assert store.files("batch_output", 10, None, "desc") == ([], False)
    assert store.files(None, 10, "file-unknown", "desc") == ([], False)
    assert store.file(made[2].id).bytes == 2
    store.delete_file(made[2].id)
    assert not (tmp_path / "files" / made[2].id).exists()
    with pytest.raises(FileTooLarge):
        store.add_file("big.jsonl", "batch", io.BytesIO(b"x" * 101), 100)
    assert {p.name for p in (tmp_path / "files").iterdir()} == {made[0].id, made[1].id}
    store.close()


def test_bytes_no_row_names_are_swept_at_start(tmp_path):
    store = BatchStore(tmp_path)
    kept = store.add_file("in.jsonl", "batch", io.BytesIO(b"{}"), 100)
    (tmp_path / "files" / "file-halfwritten").write_bytes(b"{")
    (tmp_path / "files" / ".upload-abc").write_bytes(b"{")
    store.sweep()
    assert [p.name for p in (tmp_path / "files").iterdir()] == [kept.id]


def test_the_upload_path_has_its_own_body_limit():
    config = SecurityConfig(token="t", max_body_bytes=1000, path_limits={"/v1/files": 5000})
    assert body_limit("/v1/files", config) == 5000
    assert body_limit("/v1/chat/completions", config) == 1000
    assert body_limit("/api/models/upload", config) is None


def test_a_batch_runs_to_completed_with_outputs_in_line_order(tmp_path):
    store = BatchStore(tmp_path)
    factory = FakeFactory()
    bad = b'{"custom_id": "bad", "method": "POST", "url": "%s", "body": {"messages": []}}\n' % (
        CHAT.encode()
    )
    batch_id = _batch(store, _jsonl("a", "b") + bad + _jsonl("c"))

    async def work(runner):
        await _until(lambda: store.batch(batch_id).status == "completed")

    _run(store, factory, work)
    batch = store.batch(batch_id)
    assert batch.counts.to_dict() == {"total": 4, "completed": 3, "failed": 1}
    assert batch.in_progress_at and batch.finalizing_at and batch.completed_at
    assert batch.metadata == {"job": "test"}
    output = _content(store, batch.output_file_id)
    assert [o["custom_id"] for o in output] == ["a", "b", "c"]
    answer = output[0]["response"]["body"]
    assert answer["choices"][0]["message"]["content"] == "Hello from the fake engine."
    errors = _content(store, batch.error_file_id)
    assert [(e["custom_id"], e["response"]["status_code"]) for e in errors] == [("bad", 422)]
    assert store.file(batch.output_file_id).purpose == "batch_output"
    store.close()


def test_at_start_cancelling_ends_cancelled_and_validating_goes_on(tmp_path):
    store = BatchStore(tmp_path)
    cancelling = _batch(store, _jsonl("a", "b"))
    store.cancel(cancelling)  # before the runner validated it: it never ran
    validating = _batch(store, _jsonl("c"))
    store.close()

    store = BatchStore(tmp_path)  # "the next start"

    async def work(runner):
        await _until(lambda: store.batch(validating).status == "completed")
        await _until(lambda: store.batch(cancelling).status == "cancelled")

    _run(store, FakeFactory(), work)
    gone = store.batch(cancelling)
    assert gone.cancelled_at and gone.output_file_id is None and gone.counts.total == 0
    assert [o["custom_id"] for o in _content(store, store.batch(validating).output_file_id)] == [
        "c"
    ]


def test_a_batch_in_progress_resumes_with_what_was_done_kept(tmp_path):
    store = BatchStore(tmp_path)
    factory = FakeFactory()
    batch_id = _batch(store, _jsonl("a", "b", "c"))

    async def first(runner):
        await _until(lambda: store.batch(batch_id).counts.completed >= 1)

    factory.enqueue("first")
    factory.enqueue("held", gate=threading.Event(), gate_at=0)  # never opened
    _run(store, factory, first)  # stops with "b" held at its gate: it stays pending
    assert store.batch(batch_id).status == "in_progress"
    db = sqlite3.connect(tmp_path / "batches.sqlite3")
    done = dict(db.execute("SELECT custom_id, result FROM batch_line WHERE state != 'pending'"))
    db.close()
    assert list(done) == ["a"]

    async def second(runner):
        await _until(lambda: store.batch(batch_id).status == "completed")

    _run(store, factory, second)
    output = _content(store, store.batch(batch_id).output_file_id)
    assert [o["custom_id"] for o in output] == ["a", "b", "c"]
    assert output[0] == json.loads(done["a"])  # answered once, not again


def test_a_batch_past_its_window_expires_with_the_rest_unrun(tmp_path):
    clock = Clock()
    store = BatchStore(tmp_path, clock=clock)
    factory = FakeFactory()
    batch_id = _batch(store, _jsonl("a", "b"))
    opened = threading.Event()
    held = factory.enqueue("slow", gate=opened, gate_at=0)

    async def work(runner):
        await _until(held.reached.is_set)
        clock.now += 25 * 3600
        runner.wake()
        await _until(lambda: store.batch(batch_id).status == "expired")

    _run(store, factory, work)
    batch = store.batch(batch_id)
    assert batch.expired_at and batch.output_file_id is None
    errors = _content(store, batch.error_file_id)
    assert [(e["custom_id"], e["error"]["code"]) for e in errors] == [
        ("a", "batch_expired"),
        ("b", "batch_expired"),
    ]


def test_the_runner_follows_the_managers_parallel_setting(tmp_path):
    class Manager:  # only what the runner reads of a model manager here
        parallel = 1

    manager = Manager()
    runner = BatchRunner(BatchStore(tmp_path), manager, Settings.load(None))  # type: ignore[arg-type]
    assert runner.parallel == 1
    manager.parallel = 4  # the setting changed: the next pick follows it
    assert runner.parallel == 4
    del manager.parallel, Manager.parallel  # a manager without the setting decodes one at a time
    assert runner.parallel == 1


def test_a_store_from_before_owners_gains_them_and_keeps_its_rows_for_the_app(tmp_path):
    """batches.sqlite3 written by an older Hearth: no owner columns. Opened, it gets them; its
    files and batches belong to nobody, so the app sees them and no API key does."""
    old = sqlite3.connect(tmp_path / "batches.sqlite3")
    old.execute(
        "CREATE TABLE file (id TEXT PRIMARY KEY, filename TEXT NOT NULL, purpose TEXT NOT NULL,"
        " bytes INTEGER NOT NULL, created_at INTEGER NOT NULL)"
    )
    old.execute("INSERT INTO file VALUES ('file-old', 'old.jsonl', 'batch', 3, 1)")
    old.commit()
    old.close()
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "file-old").write_bytes(b"{}\n")

    store = BatchStore(tmp_path)
    assert store.file("file-old").filename == "old.jsonl"
    with pytest.raises(NotFound):
        store.file("file-old", viewer=7)
    mine = store.add_file("new.jsonl", "batch", io.BytesIO(_jsonl("a")), 1 << 20, owner=7)
    assert [f.id for f in store.files(None, 10, None, "desc", viewer=7)[0]] == [mine.id]
    assert {f.id for f in store.files(None, 10, None, "desc")[0]} == {mine.id, "file-old"}
    batch = store.create_batch(mine.id, CHAT, "24h", None, owner=7, viewer=7)
    assert store.batch(batch.id, viewer=7).id == batch.id
    with pytest.raises(NotFound):
        store.batch(batch.id, viewer=8)
    store.close()
