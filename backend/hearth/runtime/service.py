"""Wire the runtime upgrade into the app: the jobs service, the post-switch activation check and
the optional automatic upgrade. The app builds a RuntimeService in its lifespan, starts it, and
stops it on shutdown; it is handed the services it uses, never the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hearth.errors import NotFound
from hearth.hardware.host import probe_host
from hearth.runtime import bootstrap, installed
from hearth.runtime.activation import Activation
from hearth.runtime.jobs import UpgradeJobs
from hearth.runtime.registry import load_registry
from hearth.runtime.switch import StateFiles
from hearth.runtime.upgrade_job import JobConfig
from hearth.settings import Settings

if TYPE_CHECKING:
    from hearth.engine.manager import EngineFactory, ModelManager
    from hearth.hardware.service import HardwareService
    from hearth.library.library import ModelLibrary

log = logging.getLogger(__name__)


def job_config(
    settings: Settings,
    library: ModelLibrary,
    hardware: HardwareService,
    factory: EngineFactory | None = None,
    restart: Callable[[], None] | None = None,
) -> JobConfig:
    """What an upgrade job needs, for the app (with its engines and supervisor) and the CLI."""
    registry_path, release_url = settings.runtime_registry, settings.runtime_release_url

    def host_tags() -> tuple[str, str]:
        host = probe_host()
        return host.python_tag, host.platform_tag

    return JobConfig(
        data_dir=settings.data_dir,
        registry=lambda: load_registry(registry_path, release_url),
        recommended=lambda: recommended(hardware),
        host_tags=host_tags,
        probe_model=lambda: probe_model(settings, library, factory),
        probe_timeout=settings.runtime_probe_timeout,
        threads=settings.n_threads,
        restart=restart,
    )


def probe_model(
    settings: Settings, library: ModelLibrary, factory: EngineFactory | None = None
) -> Path | None:
    """The chat model the backend would load first (the starter, when installed)."""
    from hearth.engine.factory import LocalFactory

    local = factory if isinstance(factory, LocalFactory) else LocalFactory(settings, library)
    try:
        entry = local.find(local.resolve_chat_model(None, None))
    except NotFound:
        return None
    return entry.path if entry is not None else None


def recommended(hardware: HardwareService) -> tuple[str | None, str]:
    rec = hardware.recommendation()
    return (rec.variant.id if rec.upgrade and rec.variant else None), rec.reason


class RuntimeService:
    def __init__(
        self,
        settings: Settings,
        models: ModelManager,
        library: ModelLibrary,
        hardware: HardwareService,
        restart: Callable[[], None],  # asks the supervisor for a respawn (exit 75)
    ):
        self.settings = settings
        self.models = models
        self.library = library
        self.hardware = hardware
        self.restart = restart
        self.jobs = UpgradeJobs(job_config(settings, library, hardware, models.factory, restart))
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        await asyncio.to_thread(self.jobs.recover)
        boot = bootstrap.current()
        settings = self.settings
        if boot.pending:
            activation = Activation(
                StateFiles(Path(settings.data_dir) / "runtimes"),
                boot,
                read_runtime=self.hardware.runtime,
                test_generation=self._test_generation if settings.engine == "llama" else None,
                restart=self.restart,
                timeout=settings.runtime_probe_timeout,
            )
            self._tasks.append(asyncio.create_task(activation.run(), name="runtime-activation"))
        elif settings.auto_upgrade_gpu:
            self._tasks.append(asyncio.create_task(self._auto_upgrade(boot), name="auto-upgrade"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await self.jobs.aclose()

    async def _test_generation(self) -> str | None:
        from hearth.engine.base import SamplingParams
        from hearth.engine.generation import Generation

        params = SamplingParams(temperature=0.0, max_tokens=8)
        generation = Generation(
            self.models,
            None,
            lambda engine, cancel: engine.stream_complete("Hello", params, cancel),
        )
        try:
            await generation.run()
        except NotFound:
            return "No chat model is installed, so no test generation was run."
        if not generation.finished:
            raise RuntimeError("the generation ended without finishing")
        return None

    async def _auto_upgrade(self, boot: bootstrap.BootResult) -> None:
        """AUTO_UPGRADE_GPU: start the recommended upgrade by itself, once per outcome: a variant
        that failed or was reverted is not retried on every start."""
        jobs = self.jobs
        if boot.runtime_id != bootstrap.BUNDLED_ID or boot.revert is not None:
            return
        if any(r.kind != "cpu" for r in installed.list_installed(jobs.root)):
            return  # a GPU runtime is installed: the person chose CPU; do not undo that
        variant, why = await asyncio.to_thread(recommended, self.hardware)
        if variant is None:
            log.info("automatic GPU upgrade: nothing to do (%s)", why)
            return
        last = jobs.current()
        if last is not None and last.get("variant") == variant and last.get("state") != "cancelled":
            log.info("automatic GPU upgrade: %s was tried before (%s)", variant, last.get("state"))
            return
        job, _ = await jobs.start(variant)
        log.info("automatic GPU upgrade started: job %s for %s", job["id"], variant)
