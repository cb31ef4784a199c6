"""Wire the runtime upgrade into the app: the jobs service, the post-switch activation check and
the optional automatic upgrade. app.py calls `start` in its lifespan and `stop` on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from hearth.errors import NotFound
from hearth.hardware.host import probe_host
from hearth.runtime import bootstrap, installed
from hearth.runtime.activation import Activation
from hearth.runtime.jobs import UpgradeJobs
from hearth.runtime.registry import load_registry
from hearth.runtime.switch import StateFiles
from hearth.runtime.upgrade_job import JobConfig

log = logging.getLogger(__name__)


def request_restart(app: FastAPI) -> None:
    """Ask the supervisor for a respawn (exit 75); the Server puts the hook on app.state."""
    hook = getattr(app.state, "request_restart", None)
    if hook is None:
        log.warning("no supervisor in this process: restart Hearth to load the new runtime")
        return
    hook()


def _probe_model(app: FastAPI) -> Path | None:
    """The chat model the backend would load first (the starter, when installed)."""
    from hearth.engine.factory import LocalFactory

    factory = getattr(app.state.models, "factory", None)
    if not isinstance(factory, LocalFactory):
        factory = LocalFactory(app.state.settings, app.state.library)
    try:
        model_id = factory.resolve_chat_model(None, None)
    except NotFound:
        return None
    entry = factory.find(model_id)
    return entry.path if entry is not None else None


def _recommended(app: FastAPI) -> tuple[str | None, str]:
    rec = app.state.hardware.recommendation()
    return (rec.variant.id if rec.upgrade and rec.variant else None), rec.reason


def build_jobs(app: FastAPI) -> UpgradeJobs:
    settings = app.state.settings
    registry_path, release_url = settings.runtime_registry, settings.runtime_release_url

    def host_tags() -> tuple[str, str]:
        host = probe_host()
        return host.python_tag, host.platform_tag

    config = JobConfig(
        data_dir=settings.data_dir,
        registry=lambda: load_registry(registry_path, release_url),
        recommended=lambda: _recommended(app),
        host_tags=host_tags,
        probe_model=lambda: _probe_model(app),
        probe_timeout=settings.runtime_probe_timeout,
        threads=settings.n_threads,
        restart=lambda: request_restart(app),
    )
    return UpgradeJobs(config)


async def _test_generation(app: FastAPI) -> str | None:
    from hearth.engine.base import Finish, SamplingParams

    cancel = threading.Event()
    params = SamplingParams(temperature=0.0, max_tokens=8)
    finish = None
    try:
        async for item in app.state.models.run(
            None, lambda engine: engine.stream_complete("Hello", params, cancel), cancel
        ):
            if isinstance(item, Finish):
                finish = item
    except NotFound:
        return "No chat model is installed, so no test generation was run."
    if finish is None:
        raise RuntimeError("the generation ended without finishing")
    return None


async def start(app: FastAPI) -> UpgradeJobs:
    settings = app.state.settings
    jobs = build_jobs(app)
    await asyncio.to_thread(jobs.recover)
    app.state.upgrades = jobs
    boot = bootstrap.current()
    tasks: list[asyncio.Task[Any]] = []
    if boot.pending:
        activation = Activation(
            StateFiles(Path(settings.data_dir) / "runtimes"),
            boot,
            read_runtime=app.state.hardware.runtime,
            test_generation=(lambda: _test_generation(app)) if settings.engine == "llama" else None,
            restart=lambda: request_restart(app),
            timeout=settings.runtime_probe_timeout,
        )
        tasks.append(asyncio.create_task(activation.run(), name="runtime-activation"))
    elif settings.auto_upgrade_gpu:
        tasks.append(asyncio.create_task(_auto_upgrade(app, jobs, boot), name="auto-upgrade"))
    app.state.runtime_tasks = tasks
    return jobs


async def stop(app: FastAPI) -> None:
    for task in getattr(app.state, "runtime_tasks", []):
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    jobs = getattr(app.state, "upgrades", None)
    if jobs is not None:
        await jobs.aclose()


async def _auto_upgrade(app: FastAPI, jobs: UpgradeJobs, boot: bootstrap.BootResult) -> None:
    """AUTO_UPGRADE_GPU: start the recommended upgrade by itself, once per outcome: a variant
    that failed or was reverted is not retried on every start."""
    if boot.runtime_id != bootstrap.BUNDLED_ID or boot.revert is not None:
        return
    if any(r.kind != "cpu" for r in installed.list_installed(jobs.root)):
        return  # a GPU runtime is installed: the person chose CPU; do not undo that
    variant, why = await asyncio.to_thread(_recommended, app)
    if variant is None:
        log.info("automatic GPU upgrade: nothing to do (%s)", why)
        return
    last = jobs.current()
    if last is not None and last.get("variant") == variant and last.get("state") != "cancelled":
        log.info("automatic GPU upgrade: %s was tried before (%s)", variant, last.get("state"))
        return
    job, _ = await jobs.start(variant)
    log.info("automatic GPU upgrade started: job %s for %s", job["id"], variant)
