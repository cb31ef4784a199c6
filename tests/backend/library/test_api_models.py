"""The /api/models routes on a small app with the same error handler shape as Hearth's."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from hearth.api.models import router
from hearth.app import install_error_handlers
from hearth.library.downloads import DownloadManager
from hearth.library.library import ModelLibrary
from hearth.net.download import Downloader

pytestmark = pytest.mark.anyio


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def catalogue_path(tmp_path: Path, file_server, stories_path: Path) -> Path:
    payload = stories_path.read_bytes()
    file_server.add("/stories.gguf", data=payload)
    file_server.add("/slow.gguf", data=payload, gate_at=len(payload) // 2)
    models = [
        {
            "id": name,
            "name": name.title(),
            "description": "a test model",
            "kind": "chat",
            "url": file_server.url(f"/{name}.gguf"),
            "filename": f"{name}.gguf",
            "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "license": "mit",
        }
        for name in ("stories", "slow")
    ]
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps({"version": 1, "models": models}))
    return path


@asynccontextmanager
async def api(models_dir: Path, catalogue_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    async with httpx.AsyncClient(timeout=5) as http:
        downloader = Downloader(client=http, retry_delay=0, progress_interval=0, reserve=0)
        app.state.library = ModelLibrary(models_dir)
        app.state.downloads = DownloadManager(
            app.state.library, catalogue_path, downloader=downloader
        )
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hearth") as client:
                yield client
        finally:
            await app.state.downloads.aclose()


def sse_events(body: str) -> list[tuple[str, dict]]:
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_list_shows_header_info_and_broken_files(
    models_dir, catalogue_path, smollm_path, tmp_path
):
    models_dir.mkdir()
    shutil.copy(smollm_path, models_dir / "smollm.gguf")
    (models_dir / "broken.gguf").write_bytes(b"nope")
    async with api(models_dir, catalogue_path) as client:
        response = await client.get("/api/models")
    assert response.status_code == 200
    models = {m["id"]: m for m in response.json()["models"]}
    smollm = models["smollm.gguf"]
    assert smollm["ok"] is True and smollm["kind"] == "chat" and smollm["error"] is None
    assert smollm["info"]["quantization"] == "Q4_1"
    assert smollm["info"]["context_length"] == 8192
    assert smollm["info"]["has_chat_template"] is True
    assert smollm["info"]["tool_format"] == "generic"
    assert len(smollm["info"]["layer_bytes"]) == 30
    broken = models["broken.gguf"]
    assert broken["ok"] is False and broken["info"] is None
    assert broken["error"]["code"] == "not_gguf"


async def test_import_get_and_delete(models_dir, catalogue_path, tiny_chat, stories_path, tmp_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(stories_path.read_bytes()[:2000])
    async with api(models_dir, catalogue_path) as client:
        created = await client.post("/api/models/import", json={"path": str(tiny_chat)})
        again = await client.post("/api/models/import", json={"path": str(tiny_chat)})
        broken = await client.post("/api/models/import", json={"path": str(cut)})
        one = await client.get("/api/models/tiny-chat.gguf")
        deleted = await client.delete("/api/models/tiny-chat.gguf")
        gone = await client.get("/api/models/tiny-chat.gguf")
    assert created.status_code == 201 and created.json()["id"] == "tiny-chat.gguf"
    assert (again.status_code, again.json()["code"]) == (409, "model_exists")
    assert (broken.status_code, broken.json()["code"]) == (422, "truncated")
    assert "truncated" in broken.json()["message"]
    assert one.json()["info"]["name"] == "Tiny Chat"
    assert deleted.status_code == 200
    assert (gone.status_code, gone.json()["code"]) == (404, "model_not_found")
    assert files(models_dir) == []


async def test_upload_takes_the_raw_body(models_dir, catalogue_path, tiny_chat_bytes):
    async def body() -> AsyncIterator[bytes]:
        for i in range(0, len(tiny_chat_bytes), 256):
            yield tiny_chat_bytes[i : i + 256]

    async with api(models_dir, catalogue_path) as client:
        ok = await client.post("/api/models/upload", params={"filename": "up.gguf"}, content=body())
        bad_name = await client.post(
            "/api/models/upload", params={"filename": "../up.gguf"}, content=b"GGUF"
        )
        junk = await client.post(
            "/api/models/upload", params={"filename": "junk.gguf"}, content=b"\0" * 1000
        )
    assert ok.status_code == 201 and ok.json()["kind"] == "chat"
    assert (bad_name.status_code, bad_name.json()["code"]) == (422, "bad_filename")
    assert (junk.status_code, junk.json()["code"]) == (422, "not_gguf")
    # The refusal names the person's own file, never the temporary name it was received under.
    assert junk.json()["message"].startswith("junk.gguf is not a GGUF model file")
    assert ".import-" not in junk.json()["message"]
    assert files(models_dir) == ["up.gguf"]


async def test_a_catalogue_download_with_progress_events(models_dir, catalogue_path):
    async with api(models_dir, catalogue_path) as client:
        before = (await client.get("/api/models/catalogue")).json()["models"]
        started = await client.post("/api/models/downloads", json={"catalogue_id": "stories"})
        job_id = started.json()["id"]
        events = await client.get(f"/api/models/downloads/{job_id}/events")
        job = (await client.get(f"/api/models/downloads/{job_id}")).json()
        jobs = (await client.get("/api/models/downloads")).json()["downloads"]
        after = (await client.get("/api/models/catalogue")).json()["models"]
        installed = (await client.get("/api/models")).json()["models"]
    assert [m["installed"] for m in before] == [False, False]
    assert started.status_code == 202 and started.json()["state"] == "queued"
    assert events.headers["content-type"].startswith("text/event-stream")
    parsed = sse_events(events.text)
    assert {name for name, _ in parsed} == {"progress"}
    assert parsed[-1][1]["state"] == "done"
    assert job["state"] == "done" and job["verified"] == "pinned"
    assert [j["id"] for j in jobs] == [job_id]
    stories = next(m for m in after if m["id"] == "stories")
    assert stories["installed"] is True and stories["download"]["state"] == "done"
    assert [m["id"] for m in installed] == ["stories.gguf"]


async def test_pause_resume_and_cancel(models_dir, catalogue_path, file_server):
    async with api(models_dir, catalogue_path) as client:
        job_id = (await client.post("/api/models/downloads", json={"catalogue_id": "slow"})).json()[
            "id"
        ]
        deadline = time.monotonic() + 5
        while (await client.get(f"/api/models/downloads/{job_id}")).json()["bytes_done"] == 0:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        paused = await client.post(f"/api/models/downloads/{job_id}/pause")
        again = await client.post(f"/api/models/downloads/{job_id}/pause")
        resumed = await client.post(f"/api/models/downloads/{job_id}/resume")
        cancelled = await client.delete(f"/api/models/downloads/{job_id}")
        missing = await client.get("/api/models/downloads/nope/events")
    assert paused.json()["state"] == "paused"
    assert (again.status_code, again.json()["code"]) == (409, "not_pausable")
    assert resumed.json()["state"] == "queued"
    assert cancelled.json()["state"] == "cancelled"
    assert (missing.status_code, missing.json()["code"]) == (404, "download_not_found")
    assert files(models_dir) == []


async def test_unknown_catalogue_ids_and_bad_bodies(models_dir, catalogue_path):
    async with api(models_dir, catalogue_path) as client:
        unknown = await client.post("/api/models/downloads", json={"catalogue_id": "nope"})
        no_body = await client.post("/api/models/downloads", json={})
        traversal = await client.delete("/api/models/..%5Cescape.gguf")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "catalogue_not_found")
    assert no_body.status_code == 422
    assert (traversal.status_code, traversal.json()["code"]) == (422, "bad_filename")
