"""Ingest jobs: their state, their event stream (SSE), cancel, and the one line they run in.

Jobs run one at a time: embedding uses one llama.cpp worker anyway, and a second job on the
same files would only redo the first one's work. A job's events are kept, so a client that
connects late (or reconnects) replays them all, as chat runs do.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from hearth.events import Event, EventLog

log = logging.getLogger(__name__)

JobStatus = Literal["queued", "running", "done", "cancelled", "failed"]
FileStatus = Literal["indexed", "unchanged", "failed", "removed", "skipped"]
KEEP_FINISHED = 20  # finished jobs remembered per library, for late readers


@dataclass
class FileResult:
    path: str
    file: str
    status: FileStatus
    reason_code: str | None = None
    reason: str | None = None
    chunks: int = 0
    pages: int = 0
    document_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class IngestJob:
    library_id: str
    kind: Literal["ingest", "reindex"]
    paths: list[str]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: JobStatus = "queued"
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    files_total: int = 0
    files_done: int = 0
    pages_done: int = 0
    embedded: int = 0  # chunk texts embedded by this job
    current: str | None = None
    results: list[FileResult] = field(default_factory=list)
    error: dict[str, str] | None = None
    cancel_requested: bool = False
    log: EventLog = field(default_factory=EventLog)
    task: asyncio.Task[None] | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "cancelled", "failed")

    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(("indexed", "unchanged", "failed", "removed", "skipped"), 0)
        for result in self.results:
            counts[result.status] += 1
        return counts

    def to_dict(self, *, results: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "library_id": self.library_id,
            "kind": self.kind,
            "status": self.status,
            "paths": self.paths,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "files_total": self.files_total,
            "files_done": self.files_done,
            "pages_done": self.pages_done,
            "embedded": self.embedded,
            "current": self.current,
            "summary": self.summary(),
            "error": self.error,
            "cancel_requested": self.cancel_requested,
        }
        if results:
            out["results"] = [r.to_dict() for r in self.results]
        return out

    # events

    def publish(self, name: str, data: dict[str, Any]) -> None:
        self.log.publish(name, data)

    def progress(self, **extra: Any) -> None:
        self.publish(
            "progress",
            {
                "files_done": self.files_done,
                "files_total": self.files_total,
                "pages_done": self.pages_done,
                "embedded": self.embedded,
                "current": self.current,
                **extra,
            },
        )

    def add_result(self, result: FileResult) -> None:
        self.results.append(result)
        self.files_done += 1
        self.pages_done += result.pages
        self.publish("file", result.to_dict())
        self.progress()

    def finish(self, status: JobStatus, error: dict[str, str] | None = None) -> None:
        self.status = status
        self.error = error
        self.current = None
        self.finished_at = time.time()
        self.publish("done", self.to_dict())
        self.log.close()

    def follow(self) -> AsyncIterator[Event]:
        """Every event so far, then the rest as they come, until the job ends."""
        return self.log.follow()


Runner = Callable[[IngestJob], Awaitable[None]]


class JobQueue:
    def __init__(self, runner: Runner):
        self._runner = runner
        self._turn = asyncio.Lock()
        self._jobs: dict[str, IngestJob] = {}

    def submit(self, job: IngestJob) -> IngestJob:
        self._jobs[job.id] = job
        job.publish("queued", job.to_dict(results=False))
        job.task = asyncio.create_task(self._run(job))
        self._forget_old(job.library_id)
        return job

    def get(self, library_id: str, job_id: str) -> IngestJob | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.library_id == library_id else None

    def for_library(self, library_id: str) -> list[IngestJob]:
        return [j for j in self._jobs.values() if j.library_id == library_id]

    def active(self, library_id: str) -> list[IngestJob]:
        return [j for j in self.for_library(library_id) if not j.finished]

    def cancel(self, job: IngestJob) -> None:
        """Stops between two embedding batches; a half-embedded file is not recorded."""
        job.cancel_requested = True
        if job.status == "queued" and job.task is not None:
            job.task.cancel()

    async def cancel_library(self, library_id: str) -> None:
        jobs = self.active(library_id)
        for job in jobs:
            self.cancel(job)
        await asyncio.gather(*(j.task for j in jobs if j.task), return_exceptions=True)

    async def aclose(self) -> None:
        jobs = [j for j in self._jobs.values() if not j.finished]
        for job in jobs:
            self.cancel(job)
        await asyncio.gather(*(j.task for j in jobs if j.task), return_exceptions=True)

    async def _run(self, job: IngestJob) -> None:
        try:
            async with self._turn:
                if job.cancel_requested:
                    job.finish("cancelled")
                    return
                job.status = "running"
                job.started_at = time.time()
                job.publish("started", {"id": job.id})
                await self._runner(job)
        except asyncio.CancelledError:
            if not job.finished:
                job.finish("cancelled")
            return
        except Exception as exc:
            code = getattr(exc, "code", "ingest_failed")
            message = getattr(exc, "message", None) or str(exc)
            if getattr(exc, "status", 500) >= 500:
                log.exception("ingest job %s failed", job.id)
            job.finish("failed", {"code": code, "message": message})
            return
        if not job.finished:
            job.finish("cancelled" if job.cancel_requested else "done")

    def _forget_old(self, library_id: str) -> None:
        done = [j for j in self.for_library(library_id) if j.finished]
        for job in done[:-KEEP_FINISHED]:
            self._jobs.pop(job.id, None)
