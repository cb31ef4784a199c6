"""Runtime upgrade routes: the upgrade job (start, follow, cancel), offline packs, and installed
runtimes (list, remove, roll back). Thin: the work is in `hearth.runtime`."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from hearth.api.deps import RestartDep, SettingsDep, UpgradesDep
from hearth.api.openapi_doc import SSE
from hearth.api.params import UpgradeJobId
from hearth.api.sse import snapshot_response
from hearth.errors import BadRequest, HearthError, NotFound
from hearth.files import file_kind
from hearth.net.diskspace import is_out_of_space
from hearth.runtime import bootstrap, installed, manage
from hearth.runtime.switch import BUNDLED_ID

router = APIRouter(prefix="/api/admin", tags=["admin"])

_VARIANT = r"^[a-z0-9][a-z0-9.\-]*$"


class UpgradeRequest(BaseModel):
    # A variant id from the registry, never a URL: what is downloaded is pinned there.
    model_config = ConfigDict(extra="forbid")
    variant: str | None = Field(default=None, max_length=100, pattern=_VARIANT)


class PackPath(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pack_path: str = Field(min_length=1, max_length=4096)


def _answer(job: dict[str, Any], created: bool) -> JSONResponse:
    return JSONResponse(job, status_code=202 if created else 200)


@router.post("/upgrade-gpu")
async def start_upgrade(jobs: UpgradesDep, body: UpgradeRequest | None = None) -> JSONResponse:
    """Start the upgrade (the recommended variant unless one is named); 200 with the job that is
    already running."""
    job, created = await jobs.start(body.variant if body else None)
    return _answer(job, created)


@router.post(
    "/upgrade-gpu/pack",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The pack's zip as the raw body, or JSON naming a pack on this computer",
            "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": PackPath.model_json_schema()},
            },
        }
    },
)
async def start_pack_upgrade(
    request: Request,
    jobs: UpgradesDep,
    filename: str | None = Query(default=None, max_length=255, description="The file's name"),
) -> JSONResponse:
    """A runtime pack as the raw body (a zip, `filename` naming it in messages), or
    `{"pack_path": ...}` as JSON."""
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        try:
            body = PackPath.model_validate_json(await request.body())
        except ValueError as exc:
            raise BadRequest(f'Expected {{"pack_path": ...}}: {exc}') from exc
        path = Path(body.pack_path).expanduser()
        if file_kind(path) != "file":
            raise NotFound(f"No file at {path}", code="pack_not_found")
        job, created = await jobs.start_pack(path, owned=False)
        return _answer(job, created)
    busy = jobs.busy()
    if busy is not None:  # before reading a large body we would only throw away
        return _answer(busy, False)
    upload = await _receive(request, jobs.root)
    # The person's name for it, never a path: it only goes into messages.
    name = Path(filename.replace("\\", "/")).name if filename else None
    job, created = await jobs.start_pack(upload, owned=True, name=name)
    return _answer(job, created)


async def _receive(request: Request, root: Path) -> Path:
    folder = root / installed.UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}.zip"
    try:
        with target.open("wb") as fh:
            async for chunk in request.stream():
                await asyncio.to_thread(fh.write, chunk)
    except OSError as exc:
        target.unlink(missing_ok=True)
        if is_out_of_space(exc):
            raise HearthError("The disk filled up receiving the pack.", code="disk_full") from exc
        raise
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if target.stat().st_size == 0:
        target.unlink(missing_ok=True)
        raise BadRequest("The request body is empty: send the pack's zip.", code="bad_pack")
    return target


@router.get("/upgrade-gpu")
async def current_upgrade(jobs: UpgradesDep) -> dict[str, Any]:
    return {"job": jobs.current()}


@router.get("/upgrade-gpu/{job_id:upgrade_job}")
async def get_upgrade(job_id: UpgradeJobId, jobs: UpgradesDep) -> dict[str, Any]:
    return jobs.get(job_id)


@router.get("/upgrade-gpu/{job_id:upgrade_job}/events", responses=SSE)
async def upgrade_events(job_id: UpgradeJobId, jobs: UpgradesDep) -> StreamingResponse:
    """SSE: `progress` with the job on every change; ends with `done`, `failed` or `cancelled`,
    or after the `restart_requested` progress event (the backend then restarts)."""
    snapshots = jobs.subscribe(job_id)  # NotFound before the stream starts
    return snapshot_response(
        snapshots, lambda s: "progress" if s["state"] == "running" else s["state"]
    )


@router.delete("/upgrade-gpu/{job_id:upgrade_job}")
async def cancel_upgrade(job_id: UpgradeJobId, jobs: UpgradesDep) -> dict[str, Any]:
    return await jobs.cancel(job_id)


@router.get("/runtimes")
async def list_runtimes(settings: SettingsDep) -> dict[str, Any]:
    return await asyncio.to_thread(manage.list_runtimes, settings.data_dir)


@router.delete("/runtimes/{runtime_id}")
async def remove_runtime(
    runtime_id: str, jobs: UpgradesDep, settings: SettingsDep
) -> dict[str, Any]:
    if jobs.busy() is not None:
        raise HearthError(
            "An upgrade is running; wait for it to end.", code="upgrade_running", status=409
        )
    return await asyncio.to_thread(manage.remove_runtime, settings.data_dir, runtime_id)


@router.post("/runtime/rollback")
async def rollback(jobs: UpgradesDep, settings: SettingsDep, restart: RestartDep) -> JSONResponse:
    """Back to the bundled CPU runtime: answers, then the backend exits 75 to be respawned."""
    if jobs.running():
        raise HearthError(
            "An upgrade is running; cancel it first.", code="upgrade_running", status=409
        )
    previous = await asyncio.to_thread(manage.rollback, settings.data_dir)
    # Already running on the bundled runtime: nothing to reload.
    reload = not previous.bundled or bootstrap.current().folder is not None
    return JSONResponse(
        {"active": BUNDLED_ID, "previous": previous.variant, "restart_requested": reload},
        background=BackgroundTask(restart) if reload else None,
    )
