"""OpenAI's Files and Batch API: upload a JSONL of requests, make a batch of it, poll it, cancel
it, download its results. The work itself is hearth.batches.runner's, in the background."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from hearth.api.deps import BatchRunnerDep, BatchStoreDep, CallerDep
from hearth.api.params import (
    BATCH_ID_PATTERN,
    FILE_ID_PATTERN,
    BatchId,
    FileId,
)
from hearth.batches.records import Batch, FileRecord

router = APIRouter(prefix="/v1", tags=["batches"])

FILES_PATH = "/v1/files"
# Beyond what a local model answers in a day or two; OpenAI's own limit is 200 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_FILENAME = 255

# hearth.batches.lines.ENDPOINTS (a test holds them equal).
Endpoint = Literal["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]


class CreateBatch(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    input_file_id: str = Field(pattern=FILE_ID_PATTERN, description="A file of purpose batch")
    endpoint: Endpoint
    completion_window: Literal["24h"]
    metadata: (
        dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]] | None
    ) = Field(default=None, max_length=16)


_BINARY: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("/files")
def upload_file(
    file: Annotated[UploadFile, File(description="A JSONL of requests, one a line")],
    purpose: Annotated[Literal["batch"], Form(description="What the file is for")],
    store: BatchStoreDep,
    caller: CallerDep,
) -> dict[str, Any]:
    record = store.add_file(
        _filename(file.filename), purpose, file.file, MAX_FILE_BYTES, owner=caller.owner
    )
    return record.to_openai()


@router.get("/files")
def list_files(
    store: BatchStoreDep,
    caller: CallerDep,
    purpose: Literal["batch", "batch_output"] | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
    after: Annotated[str | None, Query(pattern=FILE_ID_PATTERN)] = None,
    order: Literal["asc", "desc"] = "desc",
) -> dict[str, Any]:
    files, more = store.files(purpose, limit, after, order, caller.viewer)
    return _page([f.to_openai() for f in files], more)


@router.get("/files/{file_id}")
def get_file(file_id: FileId, store: BatchStoreDep, caller: CallerDep) -> dict[str, Any]:
    return store.file(file_id, caller.viewer).to_openai()


@router.get("/files/{file_id}/content", response_class=FileResponse, responses=_BINARY)
def file_content(file_id: FileId, store: BatchStoreDep, caller: CallerDep) -> FileResponse:
    record: FileRecord = store.file(file_id, caller.viewer)
    return FileResponse(
        store.content_path(file_id, caller.viewer),
        media_type="application/octet-stream",
        filename=record.filename,
    )


@router.delete("/files/{file_id}")
def delete_file(file_id: FileId, store: BatchStoreDep, caller: CallerDep) -> dict[str, Any]:
    store.delete_file(file_id, caller.viewer)
    return {"id": file_id, "object": "file", "deleted": True}


@router.post("/batches")
def create_batch(
    body: CreateBatch, store: BatchStoreDep, runner: BatchRunnerDep, caller: CallerDep
) -> dict[str, Any]:
    batch = store.create_batch(
        body.input_file_id,
        body.endpoint,
        body.completion_window,
        body.metadata,
        owner=caller.owner,
        viewer=caller.viewer,
    )
    runner.wake()
    return batch.to_openai()


@router.get("/batches")
def list_batches(
    store: BatchStoreDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(pattern=BATCH_ID_PATTERN)] = None,
) -> dict[str, Any]:
    batches, more = store.batches(limit, after, caller.viewer)
    return _page([b.to_openai() for b in batches], more)


@router.get("/batches/{batch_id}")
def get_batch(batch_id: BatchId, store: BatchStoreDep, caller: CallerDep) -> dict[str, Any]:
    return store.batch(batch_id, caller.viewer).to_openai()


@router.post("/batches/{batch_id}/cancel")
def cancel_batch(
    batch_id: BatchId, store: BatchStoreDep, runner: BatchRunnerDep, caller: CallerDep
) -> dict[str, Any]:
    batch: Batch = store.cancel(batch_id, caller.viewer)
    runner.wake()
    return batch.to_openai()


def _page(data: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": more,
    }


def _filename(sent: str | None) -> str:
    """The name as shown in lists: no folders, no control characters, not too long."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", (sent or "").replace("\\", "/").rsplit("/", 1)[-1])
    return name.strip()[:MAX_FILENAME] or "upload.jsonl"
