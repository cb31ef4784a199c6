"""Download jobs for catalogue models: queue, pause, resume, cancel, and progress for SSE.

Jobs live in memory; their `.part` files live in the models folder, so starting the same
catalogue model again after a restart resumes where the last run stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

import hearth
from hearth.errors import Conflict, HearthError, NotFound
from hearth.events import SnapshotFeed
from hearth.library.catalogue import Catalogue, CatalogueEntry
from hearth.library.gguf import read_gguf_info
from hearth.library.library import ModelLibrary
from hearth.library.sizes import SizeCache
from hearth.net.download import (
    DownloadControl,
    Downloader,
    DownloadResult,
    DownloadStopped,
    Progress,
    part_path,
)
from hearth.net.rate import eta_seconds

log = logging.getLogger(__name__)

JobState = Literal["queued", "downloading", "paused", "verifying", "done", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"done", "failed", "cancelled"})
# Each event is a full snapshot, so a slow subscriber may skip some without losing the state.


@dataclass
class DownloadJob:
    id: str
    entry: CatalogueEntry
    created_at: float = field(default_factory=time.time)
    state: JobState = "queued"
    phase: str | None = None
    bytes_done: int = 0
    bytes_total: int | None = None
    rate: float = 0.0
    error: dict[str, str] | None = None
    sha256: str | None = None
    verified: str | None = None
    resumable: bool = False  # stopped with its partial file kept: Resume goes on from there
    control: DownloadControl = field(default_factory=DownloadControl)
    task: asyncio.Task[None] | None = None

    def snapshot(self) -> dict[str, Any]:
        total = self.bytes_total if self.bytes_total is not None else self.entry.size
        return {
            "id": self.id,
            "catalogue_id": self.entry.id,
            "filename": self.entry.filename,
            "name": self.entry.name,
            "state": self.state,
            "phase": self.phase,
            "bytes_done": self.bytes_done,
            "bytes_total": total,
            "rate": round(self.rate, 1),
            "eta_seconds": eta_seconds(self.bytes_done, total, self.rate)
            if self.state == "downloading"
            else None,
            "error": self.error,
            "sha256": self.sha256,
            "verified": self.verified,
            "resumable": self.resumable,
            "created_at": self.created_at,
        }


def default_client() -> httpx.AsyncClient:
    # A long read timeout is not needed: a stalled read is retried by resuming.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=15.0),
        headers={"User-Agent": f"Hearth/{hearth.__version__}"},
    )


class DownloadManager:
    """Runs catalogue downloads into `library`'s folder, at most `max_concurrent` at once.

    `catalogue` is a Catalogue, a path to a catalogue JSON, or None for the bundled one.
    Without a `downloader`, one with its own HTTP client is made; `aclose()` closes it.
    """

    def __init__(
        self,
        library: ModelLibrary,
        catalogue: Catalogue | Path | None = None,
        *,
        downloader: Downloader | None = None,
        max_concurrent: int = 2,
        sizes: Path | None = None,
    ):
        self.library = library
        self.catalogue = (
            catalogue if isinstance(catalogue, Catalogue) else Catalogue.load(catalogue)
        )
        self._owns_client = downloader is None
        self._downloader = downloader or Downloader(client=default_client())
        self._slots = asyncio.Semaphore(max_concurrent)
        self._jobs: dict[str, DownloadJob] = {}
        self._feeds: dict[str, SnapshotFeed] = {}  # one per job: another's must not crowd it
        # Sizes the catalogue does not give, asked of the servers (a cache file in `sizes`).
        self._sizes = SizeCache(sizes, self._downloader.client) if sizes is not None else None

    # -- queries ---------------------------------------------------------------------------

    def list_jobs(self) -> list[dict[str, Any]]:
        return [job.snapshot() for job in self._jobs.values()]

    async def catalogue_entries(self, wait: float = 2.0) -> list[CatalogueEntry]:
        """The catalogue with every size known so far: the sizes it lacks are asked for, and
        waited for at most `wait` seconds (offline, the answer is at once from the cache)."""
        if self._sizes is None:
            return list(self.catalogue.entries)
        missing = [e.url for e in self.catalogue.entries if e.size is None]
        await self._sizes.fill(missing, wait)
        return [
            e if e.size is not None else e.model_copy(update={"size": self._sizes.size(e.url)})
            for e in self.catalogue.entries
        ]

    def get_job(self, job_id: str) -> dict[str, Any]:
        return self._job(job_id).snapshot()

    def job_for(self, catalogue_id: str) -> dict[str, Any] | None:
        """The most recent job for a catalogue model, if any."""
        jobs = [j for j in self._jobs.values() if j.entry.id == catalogue_id]
        return jobs[-1].snapshot() if jobs else None

    def subscribe(self, job_id: str) -> AsyncGenerator[dict[str, Any], None]:
        """Snapshots of the job: the current one, then one per change, until a terminal state."""
        return self._follow(self._job(job_id))

    # -- commands --------------------------------------------------------------------------

    async def start(self, catalogue_id: str) -> dict[str, Any]:
        entry = self.catalogue.get(catalogue_id)
        if self.library.exists(entry.filename):
            raise Conflict(f"{entry.name} is already installed", code="already_installed")
        for job in self._jobs.values():
            if job.entry.id == catalogue_id and job.state not in TERMINAL:
                raise Conflict(
                    f"{entry.name} already has a download ({job.state}); resume or cancel it",
                    code="download_exists",
                )
        job = DownloadJob(id=uuid.uuid4().hex[:12], entry=entry)
        self._jobs[job.id] = job
        self._launch(job)
        return job.snapshot()

    async def pause(self, job_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        if job.state not in ("queued", "downloading"):
            raise Conflict(f"Cannot pause a download that is {job.state}", code="not_pausable")
        job.control.pause()
        await self._stop_task(job)
        return job.snapshot()

    async def resume(self, job_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        if job.state not in ("paused", "failed"):
            raise Conflict(f"Cannot resume a download that is {job.state}", code="not_resumable")
        if self.library.exists(job.entry.filename):
            raise Conflict(f"{job.entry.name} is already installed", code="already_installed")
        self._launch(job)
        return job.snapshot()

    async def cancel(self, job_id: str) -> dict[str, Any]:
        """Stop a job and delete its partial file; a finished or cancelled job is forgotten."""
        job = self._job(job_id)
        if job.state in ("done", "cancelled"):
            del self._jobs[job_id]
            self._feeds.pop(job_id, None)
            return job.snapshot()
        job.control.cancel()
        await self._stop_task(job)
        # A queued job never reached the downloader, which removes the part otherwise.
        part_path(self._dest(job)).unlink(missing_ok=True)
        self._set(job, "cancelled")
        return job.snapshot()

    async def aclose(self) -> None:
        """Stop every running job (keeping partial files) and close the HTTP client."""
        tasks = [job.task for job in self._jobs.values() if job.task and not job.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._sizes is not None:
            await self._sizes.aclose()
        if self._owns_client:
            await self._downloader.client.aclose()

    # -- the job itself --------------------------------------------------------------------

    def _launch(self, job: DownloadJob) -> None:
        job.control = DownloadControl()
        job.error = None
        job.rate = 0.0
        self._set(job, "queued")
        job.task = asyncio.create_task(self._run(job), name=f"download-{job.id}")

    async def _run(self, job: DownloadJob) -> None:
        entry = job.entry
        try:
            async with self._slots:
                self._set(job, "downloading")
                result = await self._downloader.fetch(
                    entry.url,
                    self._dest(job),
                    sha256=entry.sha256,
                    size=entry.size,
                    on_progress=lambda p: self._progress(job, p),
                    control=job.control,
                    validate=self._validate,
                )
        except asyncio.CancelledError:
            self._stopped(job)
            if job.control.request is None:  # shutdown, not a pause or cancel: let it through
                raise
        except DownloadStopped:
            self._stopped(job)
        except HearthError as exc:
            log.warning("download %s of %s failed: %s", job.id, entry.id, exc.message)
            job.error = exc.to_dict()
            self._set(job, "failed")
        except Exception as exc:
            log.exception("download %s of %s crashed", job.id, entry.id)
            job.error = {"code": "internal_error", "message": f"Download failed: {exc}"}
            self._set(job, "failed")
        else:
            self._finished(job, result)

    def _validate(self, part: Path) -> None:
        dest = part.with_name(part.name.removesuffix(".part"))
        read_gguf_info(part, dest.name)  # InvalidModel: the job fails with its code, the part goes
        if dest.exists():  # imported by hand meanwhile: never overwrite it
            raise Conflict(f"{dest.name} appeared while downloading", code="already_installed")

    def _finished(self, job: DownloadJob, result: DownloadResult) -> None:
        job.sha256 = result.sha256
        job.verified = result.verified
        job.bytes_done = job.bytes_total = result.size
        job.rate = 0.0
        if result.verified == "unverified":
            log.info(
                "%s has no published hash; recorded sha256 %s", result.path.name, result.sha256
            )
        self._set(job, "done")

    def _stopped(self, job: DownloadJob) -> None:
        job.rate = 0.0
        self._set(job, "cancelled" if job.control.request == "cancel" else "paused")

    def _progress(self, job: DownloadJob, progress: Progress) -> None:
        job.bytes_done = progress.done
        job.bytes_total = progress.total
        job.rate = progress.rate
        job.phase = progress.phase
        self._set(job, "verifying" if progress.phase == "verifying" else "downloading")

    async def _stop_task(self, job: DownloadJob) -> None:
        task = job.task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])

    def _dest(self, job: DownloadJob) -> Path:
        return self.library.path_for(job.entry.filename)

    def _job(self, job_id: str) -> DownloadJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"No download {job_id!r}", code="download_not_found")
        return job

    # -- events ----------------------------------------------------------------------------

    def _set(self, job: DownloadJob, state: JobState) -> None:
        job.state = state
        job.resumable = state in ("paused", "failed") and part_path(self._dest(job)).exists()
        self._feed(job).publish(job.snapshot())

    def _follow(self, job: DownloadJob) -> AsyncGenerator[dict[str, Any], None]:
        return self._feed(job).follow(job.snapshot(), lambda s: s["state"] in TERMINAL)

    def _feed(self, job: DownloadJob) -> SnapshotFeed:
        return self._feeds.setdefault(job.id, SnapshotFeed(backlog=32))
