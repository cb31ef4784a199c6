"""Model library routes: installed models, imports and uploads, the catalogue and its downloads.

Thin: the work is in `hearth.library`; errors are HearthErrors that the app maps to JSON.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse

from hearth.api.sse import frame, sse_response
from hearth.library.downloads import DownloadManager
from hearth.library.library import ModelEntry, ModelLibrary

router = APIRouter(prefix="/api/models", tags=["models"])


class ImportRequest(BaseModel):
    path: str = Field(min_length=1, description="A GGUF file on this computer to copy in.")


class DownloadRequest(BaseModel):
    catalogue_id: str = Field(min_length=1)


def _library(request: Request) -> ModelLibrary:
    return request.app.state.library


def _downloads(request: Request) -> DownloadManager:
    return request.app.state.downloads


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
def list_models(request: Request) -> dict[str, Any]:
    return {"models": [entry_json(e) for e in _library(request).scan()]}


@router.post("/import", status_code=201)
def import_model(body: ImportRequest, request: Request) -> dict[str, Any]:
    return entry_json(_library(request).import_path(Path(body.path)))


@router.post("/upload", status_code=201)
async def upload_model(
    request: Request, filename: str = Query(min_length=1, description="Name to save it as")
) -> dict[str, Any]:
    """The raw request body is the GGUF file (not multipart), streamed to disk."""
    entry = await _library(request).import_stream(filename, request.stream())
    return entry_json(entry)


@router.get("/catalogue")
async def catalogue(request: Request) -> dict[str, Any]:
    # On the event loop, not in a thread: it reads the download jobs, which the loop mutates.
    library, downloads = _library(request), _downloads(request)
    return {
        "models": [
            {
                **entry.model_dump(),
                "installed": library.exists(entry.filename),
                "download": downloads.job_for(entry.id),
            }
            for entry in downloads.catalogue.entries
        ]
    }


@router.post("/downloads", status_code=202)
async def start_download(body: DownloadRequest, request: Request) -> dict[str, Any]:
    return await _downloads(request).start(body.catalogue_id)


@router.get("/downloads")
async def list_downloads(request: Request) -> dict[str, Any]:
    return {"downloads": _downloads(request).list_jobs()}


@router.get("/downloads/{job_id}")
async def get_download(job_id: str, request: Request) -> dict[str, Any]:
    return _downloads(request).get_job(job_id)


@router.get("/downloads/{job_id}/events")
async def download_events(job_id: str, request: Request) -> StreamingResponse:
    """Server-Sent Events: `progress` with a job snapshot per change, until it ends."""
    snapshots = _downloads(request).subscribe(job_id)  # NotFound before the stream starts

    async def body() -> AsyncIterator[bytes]:
        try:
            async for snapshot in snapshots:
                yield frame("progress", snapshot)
        finally:  # the client may leave first: unsubscribe now, not at garbage collection
            await snapshots.aclose()

    return sse_response(body())


@router.post("/downloads/{job_id}/pause")
async def pause_download(job_id: str, request: Request) -> dict[str, Any]:
    return await _downloads(request).pause(job_id)


@router.post("/downloads/{job_id}/resume")
async def resume_download(job_id: str, request: Request) -> dict[str, Any]:
    return await _downloads(request).resume(job_id)


@router.delete("/downloads/{job_id}")
async def cancel_download(job_id: str, request: Request) -> dict[str, Any]:
    return await _downloads(request).cancel(job_id)


@router.get("/{model_id}")
def get_model(model_id: str, request: Request) -> dict[str, Any]:
    return entry_json(_library(request).get(model_id))


@router.delete("/{model_id}")
async def delete_model(model_id: str, request: Request) -> dict[str, Any]:
    library = _library(request)
    # The model manager is absent in library-only apps (the router's own tests).
    models = getattr(request.app.state, "models", None)
    loaded = models.loaded if models is not None else None
    if models is not None and loaded is not None and loaded.model_id == library.get(model_id).id:
        # Windows cannot delete a file llama.cpp has open; unload it (after running answers).
        await models.unload()
    await asyncio.to_thread(library.delete, model_id)
    return {"deleted": model_id}
