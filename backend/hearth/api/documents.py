"""Document routes: libraries, their documents, ingest jobs (SSE), search, ask (SSE), upload,
which libraries a conversation uses, and the files attached in a conversation.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hearth.api.deps import DocsDep
from hearth.api.openapi_doc import SSE
from hearth.api.params import PlainFileName, absolute_path_pattern, binary_body, name_text
from hearth.api.sse import frame, sse_response
from hearth.docs.catalog import MAX_NAME
from hearth.docs.jobs import IngestJob
from hearth.docs.service import DocumentService
from hearth.engine.base import SamplingParams
from hearth.errors import NotFound

router = APIRouter(tags=["documents"])

if TYPE_CHECKING:
    LibraryName = str
else:
    LibraryName = name_text(MAX_NAME)

MAX_QUERY = 4000
MAX_PATHS = 1000
UPLOAD_PATH = "/api/documents/upload"
# A fixed path, not under /api/conversations/{id}: the security middleware lifts its body
# limit for exact paths (security.UPLOAD_PATHS).
ATTACH_PATH = "/api/documents/attach"


class LibraryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: LibraryName


class IngestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paths: list[Annotated[str, Field(max_length=4096, pattern=absolute_path_pattern())]] = Field(
        default_factory=list,
        max_length=MAX_PATHS,
        description="Absolute paths of files or folders; empty = re-check the library's files.",
    )


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=MAX_QUERY)
    top_k: int | None = Field(default=None, ge=1, le=50)
    min_score: float | None = Field(default=None, ge=-1.0, le=1.0)


class AskBody(SearchBody):
    model: str | None = Field(default=None, max_length=512)
    params: SamplingParams = Field(default_factory=SamplingParams)


class AttachBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    library_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(max_length=100)


# -- libraries ----------------------------------------------------------------------------------


@router.get("/api/documents/status")
async def documents_status(docs: DocsDep) -> dict[str, Any]:
    """The embedding model in use, embedding counters and retrieval settings."""
    return await asyncio.to_thread(docs.status)


@router.get("/api/libraries")
async def list_libraries(
    docs: DocsDep,
    owned: Annotated[
        bool,
        Query(
            description="Also list each chat's own library (the files attached in one "
            "conversation; `conversation_id` names it). Without: the shared libraries only."
        ),
    ] = False,
) -> list[dict[str, Any]]:
    libraries = await asyncio.to_thread(lambda: docs.catalog.libraries(owned=owned))
    return await asyncio.to_thread(docs.describe, libraries)


@router.post("/api/libraries", status_code=201)
async def create_library(body: LibraryBody, docs: DocsDep) -> dict[str, Any]:
    library = await asyncio.to_thread(docs.catalog.create_library, body.name)
    return (await asyncio.to_thread(docs.describe, [library]))[0]


@router.get("/api/libraries/{library_id}")
async def get_library(library_id: str, docs: DocsDep) -> dict[str, Any]:
    library = await asyncio.to_thread(docs.catalog.library, library_id)
    return (await asyncio.to_thread(docs.describe, [library]))[0]


@router.patch("/api/libraries/{library_id}")
async def rename_library(library_id: str, body: LibraryBody, docs: DocsDep) -> dict[str, Any]:
    library = await asyncio.to_thread(docs.catalog.rename_library, library_id, body.name)
    return (await asyncio.to_thread(docs.describe, [library]))[0]


@router.delete("/api/libraries/{library_id}", status_code=204)
async def delete_library(library_id: str, docs: DocsDep) -> Response:
    """Deletes the library, its vectors and its uploaded copies; never the user's own files."""
    await docs.delete_library(library_id)
    return Response(status_code=204)


# -- documents ----------------------------------------------------------------------------------


@router.get("/api/libraries/{library_id}/documents")
async def list_documents(library_id: str, docs: DocsDep) -> list[dict[str, Any]]:
    return [d.to_dict() for d in await asyncio.to_thread(docs.catalog.documents, library_id)]


@router.delete("/api/libraries/{library_id}/documents/{document_id}")
async def delete_document(library_id: str, document_id: str, docs: DocsDep) -> dict[str, Any]:
    """Removes the document and its chunks from the library (the file itself stays)."""
    return await docs.delete_document(library_id, document_id)


@router.get("/api/libraries/{library_id}/chunks/{chunk_id}")
async def get_chunk(library_id: str, chunk_id: str, docs: DocsDep) -> dict[str, Any]:
    """One chunk's text and source: what a clicked citation shows."""
    return await docs.chunk(library_id, chunk_id)


# -- ingest jobs --------------------------------------------------------------------------------


@router.post("/api/libraries/{library_id}/ingest", status_code=202)
async def ingest(library_id: str, body: IngestBody, docs: DocsDep) -> dict[str, Any]:
    """Add files or folders (or re-check the library's files); follow the job's events."""
    job = await docs.start_ingest(library_id, body.paths)
    return job.to_dict()


@router.post("/api/libraries/{library_id}/reindex", status_code=202)
async def reindex(library_id: str, docs: DocsDep) -> dict[str, Any]:
    """Rebuild every vector with the current embedding model (after the model changed)."""
    job = await docs.start_reindex(library_id)
    return job.to_dict()


@router.post(
    UPLOAD_PATH,
    status_code=202,
    openapi_extra=binary_body("application/octet-stream", "The document's bytes"),
)
async def upload(
    request: Request,
    docs: DocsDep,
    library_id: Annotated[str, Query(min_length=1, max_length=64)],
    filename: PlainFileName,
) -> dict[str, Any]:
    """The raw request body is the file; it is kept in the library's folder and ingested."""
    job = await docs.upload(library_id, filename, request.stream())
    return job.to_dict()


def _job(docs: DocumentService, library_id: str, job_id: str) -> IngestJob:
    job = docs.jobs.get(library_id, job_id)
    if job is None:
        raise NotFound(f"ingest job {job_id} not found", code="job_not_found")
    return job


@router.get("/api/libraries/{library_id}/jobs")
async def list_jobs(library_id: str, docs: DocsDep) -> list[dict[str, Any]]:
    return [j.to_dict(results=False) for j in docs.jobs.for_library(library_id)]


@router.get("/api/libraries/{library_id}/jobs/{job_id}")
async def get_job(library_id: str, job_id: str, docs: DocsDep) -> dict[str, Any]:
    return _job(docs, library_id, job_id).to_dict()


@router.get("/api/libraries/{library_id}/jobs/{job_id}/events", responses=SSE)
async def job_events(library_id: str, job_id: str, docs: DocsDep):
    """Server-Sent Events: queued, started, progress, file (one per file), done."""
    job = _job(docs, library_id, job_id)

    async def body() -> AsyncIterator[bytes]:
        async for name, data in job.follow():
            yield frame(name, data)

    return sse_response(body())


@router.post("/api/libraries/{library_id}/jobs/{job_id}/cancel")
async def cancel_job(library_id: str, job_id: str, docs: DocsDep) -> dict[str, Any]:
    job = _job(docs, library_id, job_id)
    docs.jobs.cancel(job)
    return job.to_dict(results=False)


# -- search and ask -----------------------------------------------------------------------------


@router.post("/api/libraries/{library_id}/search")
async def search(library_id: str, body: SearchBody, docs: DocsDep) -> dict[str, Any]:
    """The chunks nearest the query, with their sources and scores (no generation)."""
    found = await docs.search(library_id, body.query, body.top_k, body.min_score)
    return found.to_dict()


@router.post("/api/libraries/{library_id}/ask", responses=SSE)
async def ask(library_id: str, body: AskBody, docs: DocsDep):
    """One question about a library, without a conversation: citations, then the answer (SSE)."""
    cancel = threading.Event()
    events = await docs.ask(
        library_id, body.query, body.params, body.model, body.top_k, body.min_score, cancel
    )

    async def stream() -> AsyncIterator[bytes]:
        try:
            async for name, data in events:
                yield frame(name, data)
        finally:
            cancel.set()  # the client went away: stop generating

    return sse_response(stream())


# -- conversations ------------------------------------------------------------------------------


@router.get("/api/conversations/{conversation_id}/libraries")
async def attached_libraries(conversation_id: str, docs: DocsDep) -> list[dict[str, Any]]:
    libraries = await asyncio.to_thread(docs.catalog.attached, conversation_id)
    return await asyncio.to_thread(docs.describe, libraries)


@router.put("/api/conversations/{conversation_id}/libraries")
async def attach_libraries(
    conversation_id: str, body: AttachBody, docs: DocsDep
) -> list[dict[str, Any]]:
    """Make exactly these libraries the conversation's; each question then searches them."""
    await asyncio.to_thread(docs.catalog.attach, conversation_id, body.library_ids)
    libraries = await asyncio.to_thread(docs.catalog.attached, conversation_id)
    return await asyncio.to_thread(docs.describe, libraries)


@router.get("/api/conversations/{conversation_id}/attachments")
async def attachments(conversation_id: str, docs: DocsDep) -> dict[str, Any]:
    """The files attached in this conversation: its own library (null before the first file),
    that library's documents, and its running ingest jobs."""
    return await docs.attachments(conversation_id)


@router.post(
    ATTACH_PATH,
    status_code=202,
    openapi_extra=binary_body("application/octet-stream", "The document's bytes"),
)
async def attach_file(
    request: Request,
    docs: DocsDep,
    conversation_id: Annotated[str, Query(min_length=1, max_length=64)],
    filename: PlainFileName,
) -> dict[str, Any]:
    """Attach a file to this conversation only: the raw request body is the file. It joins the
    conversation's own library (made, and attached, on the first file), which no other chat
    and not the library list sees, and which is deleted with the conversation. Returns the
    ingest job; follow it at /api/libraries/{library_id}/jobs/{id}/events."""
    job = await docs.attach_file(conversation_id, filename, request.stream())
    return job.to_dict()
