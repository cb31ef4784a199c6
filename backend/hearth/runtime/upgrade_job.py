"""One upgrade job's state, what it needs from the app, and how its changes get out: to the
SSE subscribers and into `runtimes/last_job.json`, which outlives the process."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hearth.events import SnapshotFeed
from hearth.net.diskspace import DEFAULT_RESERVE, DiskUsage
from hearth.net.download import DownloadControl
from hearth.net.rate import eta_seconds
from hearth.runtime.registry import Registry
from hearth.runtime.switch import StateFiles

log = logging.getLogger(__name__)

TERMINAL = frozenset({"done", "failed", "cancelled"})


@dataclass
class UpgradeJob:
    id: str
    source: str  # download | pack
    variant: str | None = None
    kind: str | None = None
    state: str = "running"
    stage: str = "resolving"
    bytes_done: int = 0
    bytes_total: int | None = None
    rate: float = 0.0
    error: dict[str, str] | None = None
    result: dict[str, Any] | None = None
    reverted_to_cpu: bool = False
    runtime: str | None = None  # the folder under runtimes/
    message: str = "Resolving the runtime to install"
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    stop: bool = False
    control: DownloadControl = field(default_factory=DownloadControl)
    task: asyncio.Task[None] | None = None

    def to_dict(self) -> dict[str, Any]:
        downloading = self.stage == "downloading"
        return {
            "id": self.id,
            "variant": self.variant,
            "kind": self.kind,
            "source": self.source,
            "state": self.state,
            "stage": self.stage,
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "rate": round(self.rate, 1) if downloading else 0.0,
            "eta_seconds": eta_seconds(self.bytes_done, self.bytes_total, self.rate)
            if downloading
            else None,
            "error": self.error,
            "result": self.result,
            "reverted_to_cpu": self.reverted_to_cpu,
            "runtime": self.runtime,
            "message": self.message,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
        }


@dataclass
class JobConfig:
    """What a job needs from the app; each callable is the app's own source of that fact."""

    data_dir: Path
    registry: Callable[[], Registry]  # raises RegistryError
    recommended: Callable[[], tuple[str | None, str]]  # (variant id or None, why)
    host_tags: Callable[[], tuple[str, str]]  # (python tag, platform tag)
    probe_model: Callable[[], Path | None]  # the chat model the backend would load first
    probe_timeout: float = 180.0
    threads: int | None = None
    restart: Callable[[], None] | None = None  # asks the supervisor to respawn us
    disk_usage: DiskUsage | None = None
    reserve: int = DEFAULT_RESERVE


class JobFeed:
    """Publishes job snapshots; each is a full state, so a slow subscriber may skip some."""

    def __init__(self, files: StateFiles):
        self.files = files
        self.loop: asyncio.AbstractEventLoop | None = None
        self._feed = SnapshotFeed(backlog=64)

    def stage(self, job: UpgradeJob, stage: str, message: str) -> None:
        job.stage = stage
        job.message = message
        if stage not in ("downloading", "verifying", "unpacking"):
            job.rate = 0.0
        self.publish(job, persist=True)

    def end(self, job: UpgradeJob, state: str, error: dict[str, str] | None) -> None:
        job.state = job.stage = state
        job.error = error
        job.rate = 0.0
        job.message = error["message"] if error else "Cancelled; nothing was changed."
        self.publish(job, persist=True)

    def publish(self, job: UpgradeJob, *, persist: bool = False) -> None:
        job.updated_at = time.time()
        snapshot = job.to_dict()
        if persist:
            try:
                self.files.write_job(snapshot)
            except OSError as exc:  # a full disk must not hide the job's own outcome
                log.warning("could not record the upgrade job: %s", exc)
        self._feed.publish(snapshot)

    def publish_threadsafe(self, job: UpgradeJob) -> None:
        """From a worker thread (unpacking, pack extraction)."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.publish, job)

    def follow(self, first: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        return self._feed.follow(first, finished, lambda s: s["id"] == first["id"])


def finished(snapshot: dict[str, Any]) -> bool:
    """A stream ends with the job, or when the backend restarts to load the new runtime."""
    return snapshot["state"] in TERMINAL or snapshot["stage"] == "restart_requested"
