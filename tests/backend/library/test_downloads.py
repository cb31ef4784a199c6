"""Download jobs for catalogue models, against a real HTTP server and a real models folder."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from hearth.errors import Conflict, NotFound
from hearth.library.downloads import DownloadManager
from hearth.library.library import ModelLibrary
from hearth.net.download import Downloader

pytestmark = pytest.mark.anyio


@pytest.fixture
def payload(stories_path: Path) -> bytes:
    return stories_path.read_bytes()


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def catalogue_path(tmp_path: Path, file_server, payload: bytes) -> Path:
    """A catalogue whose URLs point at the test server."""
    half = len(payload) // 2
    file_server.add("/stories.gguf", data=payload)
    file_server.add("/slow.gguf", data=payload, gate_at=half)
    file_server.add("/slow2.gguf", data=payload, gate_at=half)
    file_server.add("/noise.gguf", data=os.urandom(40_000))

    def entry(id_: str, path: str, sha: str | None = None) -> dict:
        return {
            "id": id_,
            "name": id_.title(),
            "kind": "chat",
            "url": file_server.url(path),
            "filename": f"{id_}.gguf",
            "size": None,
            "sha256": sha,
            "license": "mit",
        }

    sha = hashlib.sha256(payload).hexdigest()
    models = [
        entry("stories", "/stories.gguf", sha),
        entry("slow", "/slow.gguf", sha),
        entry("slow2", "/slow2.gguf"),
        entry("noise", "/noise.gguf"),
        entry("missing", "/missing.gguf"),
    ]
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps({"version": 1, "models": models}))
    return path


@asynccontextmanager
async def manager(
    models_dir: Path, catalogue_path: Path, **options
) -> AsyncIterator[DownloadManager]:
    async with httpx.AsyncClient(timeout=5) as client:
        downloader = Downloader(client=client, retry_delay=0, progress_interval=0, reserve=0)
        downloads = DownloadManager(
            ModelLibrary(models_dir), catalogue_path, downloader=downloader, **options
        )
        try:
            yield downloads
        finally:
            await downloads.aclose()


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.005)


async def states_until_end(downloads: DownloadManager, job_id: str) -> list[dict]:
    return [snapshot async for snapshot in downloads.subscribe(job_id)]


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_a_catalogue_download_lands_in_the_library(models_dir, catalogue_path, payload):
    async with manager(models_dir, catalogue_path) as downloads:
        job = await downloads.start("stories")
        assert job["state"] == "queued"
        events = await states_until_end(downloads, job["id"])
        final = downloads.get_job(job["id"])
        installed = downloads.library.get("stories.gguf")
    states = [e["state"] for e in events]
    assert states[-1] == "done"
    assert "downloading" in states and "verifying" in states
    assert final["verified"] == "pinned"
    assert final["bytes_done"] == final["bytes_total"] == len(payload)
    assert final["error"] is None
    assert installed.ok and installed.info.architecture == "llama"
    assert files(models_dir) == ["stories.gguf"]


async def test_start_refuses_unknown_installed_and_duplicate(models_dir, catalogue_path):
    async with manager(models_dir, catalogue_path) as downloads:
        with pytest.raises(NotFound):
            await downloads.start("nope")
        job = await downloads.start("slow")
        with pytest.raises(Conflict) as caught:
            await downloads.start("slow")
        assert caught.value.code == "download_exists"
        await downloads.cancel(job["id"])

        first = await downloads.start("stories")
        await states_until_end(downloads, first["id"])
        with pytest.raises(Conflict) as caught:
            await downloads.start("stories")
        assert caught.value.code == "already_installed"


async def test_pause_and_resume(models_dir, catalogue_path, file_server, payload):
    half = len(payload) // 2
    async with manager(models_dir, catalogue_path) as downloads:
        job = await downloads.start("slow")
        await wait_until(lambda: downloads.get_job(job["id"])["bytes_done"] >= half)
        watcher = asyncio.create_task(states_until_end(downloads, job["id"]))
        paused = await downloads.pause(job["id"])
        assert (paused["state"], paused["resumable"]) == ("paused", True)
        assert (models_dir / "slow.gguf.part").stat().st_size == half
        with pytest.raises(Conflict):
            await downloads.pause(job["id"])

        file_server.routes["/slow.gguf"].gate.set()
        resumed = await downloads.resume(job["id"])
        assert resumed["state"] == "queued"
        events = await watcher
    states = [e["state"] for e in events]
    assert states[0] == "downloading" and "paused" in states and states[-1] == "done"
    assert file_server.ranges("/slow.gguf") == [None, f"bytes={half}-"]
    assert files(models_dir) == ["slow.gguf"]


async def test_cancel_removes_the_part_and_then_forgets_the_job(
    models_dir, catalogue_path, payload
):
    async with manager(models_dir, catalogue_path) as downloads:
        job = await downloads.start("slow")
        await wait_until(lambda: downloads.get_job(job["id"])["bytes_done"] > 0)
        cancelled = await downloads.cancel(job["id"])
        assert cancelled["state"] == "cancelled"
        assert files(models_dir) == []
        with pytest.raises(Conflict):
            await downloads.resume(job["id"])
        await downloads.cancel(job["id"])  # a finished job: dismissed from the list
        assert downloads.list_jobs() == []
        with pytest.raises(NotFound):
            downloads.get_job(job["id"])


async def test_a_file_that_is_not_a_model_fails_and_leaves_nothing(models_dir, catalogue_path):
    async with manager(models_dir, catalogue_path) as downloads:
        job = await downloads.start("noise")
        events = await states_until_end(downloads, job["id"])
    assert (events[-1]["state"], events[-1]["resumable"]) == ("failed", False)  # nothing kept
    assert events[-1]["error"]["code"] == "not_gguf"
    assert files(models_dir) == []


async def test_a_missing_url_fails_with_its_code_and_can_be_retried(models_dir, catalogue_path):
    async with manager(models_dir, catalogue_path) as downloads:
        job = await downloads.start("missing")
        events = await states_until_end(downloads, job["id"])
        assert events[-1]["error"]["code"] == "http_not_found"
        await downloads.resume(job["id"])
        events = await states_until_end(downloads, job["id"])
        assert events[-1]["state"] == "failed"


async def test_only_max_concurrent_jobs_run_at_once(models_dir, catalogue_path, file_server):
    async with manager(models_dir, catalogue_path, max_concurrent=1) as downloads:
        first = await downloads.start("slow")
        second = await downloads.start("slow2")
        await wait_until(lambda: downloads.get_job(first["id"])["bytes_done"] > 0)
        assert downloads.get_job(second["id"])["state"] == "queued"
        assert (await downloads.pause(second["id"]))["state"] == "paused"
        assert (await downloads.cancel(second["id"]))["state"] == "cancelled"
        file_server.routes["/slow.gguf"].gate.set()
        events = await states_until_end(downloads, first["id"])
        assert events[-1]["state"] == "done"
        assert downloads.job_for("slow")["state"] == "done"
        assert downloads.job_for("stories") is None


async def test_shutdown_keeps_partial_files_for_next_time(models_dir, catalogue_path, payload):
    async with manager(models_dir, catalogue_path) as downloads:
        job = await downloads.start("slow")
        await wait_until(lambda: downloads.get_job(job["id"])["bytes_done"] > 0)
    assert downloads.get_job(job["id"])["state"] == "paused"
    assert files(models_dir) == ["slow.gguf.part"]
