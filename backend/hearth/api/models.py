"""Model library routes: installed models, imports and uploads, the catalogue and its downloads.

Thin: the work is in `hearth.library`; errors are HearthErrors that the app maps to JSON.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse

from hearth.api.deps import DownloadsDep, LibraryDep, OptionalModelsDep
from hearth.api.sse import snapshot_response
from hearth.library.library import ModelEntry

router = APIRouter(prefix="/api/models", tags=["models"])


class ImportRequest(BaseModel):
    path: str = Field(min_length=1, description="A GGUF file on this computer to copy in.")


class DownloadRequest(BaseModel):
    catalogue_id: str = Field(min_length=1)


def entry_json(entry: ModelEntry) -> dict[str, Any]:
    """A model as the UI sees it: header info when usable, the reason when broken."""
    return {
        "id": entry.id,
        "path": str(entry.path),
        "size": entry.size,
        "ok": entry.ok,
        "kind": entry.kind,
        "info": asdict(entry.info) if entry.info else None,
        "error": asdict(entry.error) if entry.error else None,
    }


# Plain `def` routes do blocking file work; FastAPI runs them in its thread pool.


@router.get("")
def list_models(library: LibraryDep) -> dict[str, Any]:
    return {"models": [entry_json(e) for e in library.scan()]}


@router.post("/import", status_code=201)
def import_model(body: ImportRequest, library: LibraryDep) -> dict[str, Any]:
    return entry_json(library.import_path(Path(body.path)))


@router.post("/upload", status_code=201)
async def upload_model(
    request: Request,
    library: LibraryDep,
    filename: str = Query(min_length=1, description="Name to save it as"),
) -> dict[str, Any]:
    """The raw request body is the GGUF file (not multipart), streamed to disk."""
    entry = await library.import_stream(filename, request.stream())
    return entry_json(entry)


@router.get("/catalogue")
async def catalogue(library: LibraryDep, downloads: DownloadsDep) -> dict[str, Any]:
    # On the event loop, not in a thread: it reads the download jobs, which the loop mutates.
    return {
        "models": [
            {
                **entry.model_dump(),
                "installed": library.exists(entry.filename),
                "download": downloads.job_for(entry.id),
            }
            for entry in await downloads.catalogue_entries()
        ]
    }


@router.post("/downloads", status_code=202)
async def start_download(body: DownloadRequest, downloads: DownloadsDep) -> dict[str, Any]:
    return await downloads.start(body.catalogue_id)


@router.get("/downloads")
async def list_downloads(downloads: DownloadsDep) -> dict[str, Any]:
    return {"downloads": downloads.list_jobs()}


@router.get("/downloads/{job_id}")
async def get_download(job_id: str, downloads: DownloadsDep) -> dict[str, Any]:
    return downloads.get_job(job_id)


@router.get("/downloads/{job_id}/events")
async def download_events(job_id: str, downloads: DownloadsDep) -> StreamingResponse:
    """Server-Sent Events: `progress` with a job snapshot per change, until it ends."""
    snapshots = downloads.subscribe(job_id)  # NotFound before the stream starts
    return snapshot_response(snapshots, lambda _: "progress")


@router.post("/downloads/{job_id}/pause")
async def pause_download(job_id: str, downloads: DownloadsDep) -> dict[str, Any]:
    return await downloads.pause(job_id)


@router.post("/downloads/{job_id}/resume")
async def resume_download(job_id: str, downloads: DownloadsDep) -> dict[str, Any]:
    return await downloads.resume(job_id)


@router.delete("/downloads/{job_id}")
async def cancel_download(job_id: str, downloads: DownloadsDep) -> dict[str, Any]:
    return await downloads.cancel(job_id)


@router.get("/{model_id}")
def get_model(model_id: str, library: LibraryDep) -> dict[str, Any]:
    return entry_json(library.get(model_id))


@router.delete("/{model_id}")
async def delete_model(
    model_id: str, library: LibraryDep, models: OptionalModelsDep
) -> dict[str, Any]:
    loaded = models.loaded if models is not None else None
    if models is not None and loaded is not None and loaded.model_id == library.get(model_id).id:
        # Windows cannot delete a file llama.cpp has open; unload it (after running answers).
        await models.unload()
    await asyncio.to_thread(library.delete, model_id)
    return {"deleted": model_id}
