"""Model library routes: installed models, imports and uploads, the catalogue and its downloads.

Thin: the work is in `hearth.library`; errors are HearthErrors that the app maps to JSON.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse

from hearth import prefs as prefs_mod
from hearth.api.deps import (
    DownloadsDep,
    LibraryDep,
    OptionalHardwareDep,
    OptionalModelsDep,
    OptionalPrefsDep,
    OptionalSettingsDep,
)
from hearth.api.openapi_doc import SSE
from hearth.api.params import ModelFileName, binary_body
from hearth.api.sse import snapshot_response
from hearth.errors import HearthError
from hearth.library.fit import Fit
from hearth.library.fitting import FitJudge, read_machine, recommendation
from hearth.library.library import ModelEntry
from hearth.library.names import display_name, is_chat_model, names_by_file

router = APIRouter(prefix="/api/models", tags=["models"])


class ImportRequest(BaseModel):
    path: str = Field(min_length=1, description="A GGUF file on this computer to copy in.")


class DownloadRequest(BaseModel):
    catalogue_id: str = Field(min_length=1)


def entry_json(
    entry: ModelEntry, names: dict[str, str] | None = None, fit: Fit | None = None
) -> dict[str, Any]:
    """A model as the UI sees it: its name, whether the chat offers it, header info when usable,
    the reason when broken, and how it fits this PC (when known)."""
    return {
        "id": entry.id,
        "name": display_name(entry.id, names or {}),
        "path": str(entry.path),
        "size": entry.size,
        "ok": entry.ok,
        "kind": entry.kind,
        "chat": is_chat_model(entry),
        "info": asdict(entry.info) if entry.info else None,
        "error": asdict(entry.error) if entry.error else None,
        "fit": fit.to_dict() if fit else None,
    }


def fit_judge(
    hardware: OptionalHardwareDep, prefs: OptionalPrefsDep, settings: OptionalSettingsDep
) -> FitJudge | None:
    """This PC now (blocking probes: FastAPI runs a plain `def` dependency in its thread pool)."""
    if hardware is None or settings is None:
        return None
    chosen = prefs.get() if prefs is not None else None
    return FitJudge(read_machine(hardware), prefs_mod.effective(settings, chosen).n_ctx)


FitJudgeDep = Annotated[FitJudge | None, Depends(fit_judge)]


def _default_model(models: OptionalModelsDep, prefs: OptionalPrefsDep) -> tuple[str | None, str]:
    """The model a new chat loads first, and whether the person chose it or Hearth did."""
    if models is None:
        return None, "none"
    try:
        chosen = models.factory.resolve_chat_model(None, None)
    except HearthError:  # no chat model installed
        return None, "none"
    preferred = prefs.get().default_model if prefs is not None else None
    return chosen, "preference" if preferred == chosen else "automatic"


# Plain `def` routes do blocking file work; FastAPI runs them in its thread pool.


@router.get("")
def list_models(
    library: LibraryDep,
    downloads: DownloadsDep,
    models: OptionalModelsDep,
    prefs: OptionalPrefsDep,
    judge: FitJudgeDep,
) -> dict[str, Any]:
    """Installed models, with the default (from the start, not only once chosen) and the one
    loaded now, so the UI badges both without asking elsewhere."""
    names = names_by_file(downloads.catalogue.entries)
    default, source = _default_model(models, prefs)
    loaded = models.loaded if models is not None else None
    return {
        "models": [
            entry_json(e, names, judge.installed(e) if judge else None) for e in library.scan()
        ],
        "default_model": default,
        "default_source": source,  # preference | automatic | none
        "loaded_model": loaded.model_id if loaded is not None else None,
    }


@router.post("/import", status_code=201)
def import_model(
    body: ImportRequest, library: LibraryDep, downloads: DownloadsDep
) -> dict[str, Any]:
    entry = library.import_path(Path(body.path))
    return entry_json(entry, names_by_file(downloads.catalogue.entries))


@router.post(
    "/upload",
    status_code=201,
    openapi_extra=binary_body("application/octet-stream", "The GGUF file's bytes"),
)
async def upload_model(
    request: Request,
    library: LibraryDep,
    downloads: DownloadsDep,
    filename: ModelFileName,
) -> dict[str, Any]:
    """The raw request body is the GGUF file (not multipart), streamed to disk."""
    entry = await library.import_stream(filename, request.stream())
    return entry_json(entry, names_by_file(downloads.catalogue.entries))


@router.get("/catalogue")
async def catalogue(
    library: LibraryDep, downloads: DownloadsDep, judge: FitJudgeDep
) -> dict[str, Any]:
    """Downloadable models with their size, fit and download; `recommended` is the first run's
    pick for this PC (the best fit, else the starter)."""
    from hearth.engine.factory import STARTER_MODEL

    # On the event loop, not in a thread: it reads the download jobs, which the loop mutates.
    entries = await downloads.catalogue_entries()
    fits = {e.id: judge.catalogue(e) if judge else None for e in entries}
    return {
        "models": [
            {
                **entry.model_dump(),
                "installed": library.exists(entry.filename),
                "download": downloads.job_for(entry.id),
                "fit": fit.to_dict() if (fit := fits[entry.id]) else None,
            }
            for entry in entries
        ],
        "recommended": recommendation(entries, fits, STARTER_MODEL) if judge else None,
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


@router.get("/downloads/{job_id}/events", responses=SSE)
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


@router.get("/{model_id:gguf}")
def get_model(
    model_id: ModelFileName, library: LibraryDep, downloads: DownloadsDep, judge: FitJudgeDep
) -> dict[str, Any]:
    entry = library.get(model_id)
    names = names_by_file(downloads.catalogue.entries)
    return entry_json(entry, names, judge.installed(entry) if judge else None)


@router.delete("/{model_id:gguf}")
async def delete_model(
    model_id: ModelFileName, library: LibraryDep, models: OptionalModelsDep
) -> dict[str, Any]:
    loaded = models.loaded if models is not None else None
    if models is not None and loaded is not None and loaded.model_id == library.get(model_id).id:
        # Windows cannot delete a file llama.cpp has open; unload it (after running answers).
        await models.unload()
    await asyncio.to_thread(library.delete, model_id)
    return {"deleted": model_id}
