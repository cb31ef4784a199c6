"""`python -m hearth upgrade` and `python -m hearth runtime ...` in the terminal.

`upgrade` runs the same job as the app's "Upgrade to GPU" button, here in this process (the next
`hearth serve` then proves the switch and reverts it if it fails), or with `--url` inside a
running Hearth, following its progress events across the respawn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

import hearth
from hearth.client.progress import bar, human_bytes, show
from hearth.client.sse import events
from hearth.settings import Settings

_BAR_STAGES = ("downloading", "verifying", "unpacking")


class _Printer:
    """One line per stage, a progress bar while bytes move."""

    def __init__(self) -> None:
        self.stage: str | None = None

    def __call__(self, job: dict[str, Any]) -> None:
        stage = job["stage"]
        if stage != self.stage:
            if self.stage in _BAR_STAGES:
                show("", end=True)
            self.stage = stage
            print(f"[{stage}] {job.get('message') or ''}", file=sys.stderr, flush=True)
        if stage in _BAR_STAGES:
            show(bar(stage, job["bytes_done"], job["bytes_total"], job.get("rate") or None))


def _report(job: dict[str, Any] | None) -> int:
    if job is None:
        print("hearth: no upgrade job", file=sys.stderr)
        return 1
    result = job.get("result")
    if result:
        print(
            f"Measured: {result['new_tokens_per_s']} tokens/s on {job['variant']}, "
            f"{result['cpu_tokens_per_s']} on the CPU runtime ({result['speedup']}x), "
            f"{result['offloaded_layers']} layers on the GPU",
            file=sys.stderr,
        )
    if job["state"] == "done":
        print(f"Hearth now runs on {job['variant']}.")
        return 0
    if job["stage"] == "restart_requested":
        print(
            f"Switched to {job['variant']} ({job['runtime']}). The next start of Hearth loads it, "
            "tests it, and goes back to the CPU runtime by itself if it fails."
        )
        return 0
    error = job.get("error") or {}
    reverted = " (back on the CPU runtime)" if job.get("reverted_to_cpu") else ""
    print(
        f"hearth: upgrade {job['state']}{reverted}: {error.get('message', '')} "
        f"[{error.get('code', job['state'])}]",
        file=sys.stderr,
    )
    return 1


# --- in this process ---------------------------------------------------------------------------


def _local_jobs(settings: Settings):
    from hearth.hardware.service import HardwareService
    from hearth.library.library import ModelLibrary
    from hearth.runtime.jobs import UpgradeJobs
    from hearth.runtime.service import job_config

    hardware = HardwareService(
        settings.data_dir,
        hearth.__version__,
        settings.gpu_detection_timeout,
        settings.gpu_detection_cache,
        registry_path=settings.runtime_registry,
        release_url=settings.runtime_release_url,
    )
    return UpgradeJobs(job_config(settings, ModelLibrary(settings.models_dir), hardware))


async def _upgrade_here(args: argparse.Namespace, settings: Settings) -> int:
    jobs = _local_jobs(settings)
    await asyncio.to_thread(jobs.recover)
    printer = _Printer()
    try:
        if args.from_pack:
            job, _ = await jobs.start_pack(Path(args.from_pack).expanduser(), owned=False)
        else:
            job, _ = await jobs.start(args.variant)
        async for snapshot in jobs.subscribe(job["id"]):
            printer(snapshot)
        return _report(await jobs.wait())
    finally:
        await jobs.aclose()


# --- in a running Hearth -----------------------------------------------------------------------


def _upgrade_remote(args: argparse.Namespace) -> int:
    token = os.environ.get("HEARTH_TOKEN")
    if not token:
        raise SystemExit("hearth upgrade --url needs the server's token in HEARTH_TOKEN")
    client = httpx.Client(
        base_url=args.url.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(30.0, read=None),
    )
    with client:
        if args.from_pack:
            resp = client.post(
                "/api/admin/upgrade-gpu/pack",
                json={"pack_path": str(Path(args.from_pack).expanduser().resolve())},
            )
        else:
            resp = client.post(
                "/api/admin/upgrade-gpu", json={"variant": args.variant} if args.variant else {}
            )
        if resp.status_code >= 400:
            body = resp.json()
            print(f"hearth: {body.get('message')} ({body.get('code')})", file=sys.stderr)
            return 1
        job = resp.json()
        printer = _Printer()
        with client.stream("GET", f"/api/admin/upgrade-gpu/{job['id']}/events") as stream:
            for _name, snapshot in events(stream):
                job = snapshot
                printer(job)
        if job["stage"] == "restart_requested":
            print("Restarting Hearth on the new runtime...", file=sys.stderr, flush=True)
            job = _await_activation(client, job["id"])
        return _report(job)


def _await_activation(client: httpx.Client, job_id: str, timeout: float = 600) -> dict[str, Any]:
    """Across the respawn: the new process ends the job done, or failed and reverted."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            last = client.get(f"/api/admin/upgrade-gpu/{job_id}").json()
            if last.get("state") in ("done", "failed", "cancelled"):
                return last
        except (httpx.HTTPError, ValueError):
            pass  # the backend is restarting
        time.sleep(0.5)
    return last


def run_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    if args.url:
        return _upgrade_remote(args)
    return asyncio.run(_upgrade_here(args, settings))


# --- runtime list|use|rollback|remove|pack -----------------------------------------------------


def _list(settings: Settings) -> int:
    from hearth.runtime import manage

    doc = manage.list_runtimes(settings.data_dir)
    for rt in doc["runtimes"]:
        mark = "*" if rt["active"] else " "
        probe = rt.get("probe") or {}
        result = probe.get("result") or {}
        measured = f"  {result['new_tokens_per_s']} tok/s ({result['speedup']}x)" if result else ""
        size = f"  {human_bytes(rt['size_bytes'])}" if rt.get("size_bytes") else ""
        print(f"{mark} {rt['id']:32} {rt['kind']:5}{size}{measured}")
    if doc["pending"]:
        print(f"  (activation of {doc['pending']} pending: the next start tests it)")
    return 0


async def _pack(args: argparse.Namespace, settings: Settings) -> int:
    from hearth.hardware.host import probe_host
    from hearth.runtime.pack import build_pack
    from hearth.runtime.registry import load_registry

    host = probe_host()
    python = args.python or host.python_tag
    platform = args.platform or host.platform_tag
    output = Path(args.output or f"hearth-runtime-{args.variant}-{python}-{platform}.zip")

    def progress(name: str, p) -> None:
        show(bar(name, p.done, p.total, p.rate))

    path = await build_pack(
        load_registry(settings.runtime_registry, settings.runtime_release_url),
        args.variant,
        python=python,
        platform=platform,
        output=output,
        on_progress=progress,
    )
    show("", end=True)
    print(f"Pack written: {path} ({human_bytes(path.stat().st_size)})")
    return 0


def run_runtime(args: argparse.Namespace, settings: Settings) -> int:
    from hearth.runtime import manage

    action = args.action or "list"
    if action == "list":
        return _list(settings)
    if action == "use":
        pointer = manage.use_runtime(settings.data_dir, args.runtime)
        print(f"{pointer.variant} is active from the next start (tested then, reverted on failure)")
        return 0
    if action == "rollback":
        previous = manage.rollback(settings.data_dir)
        print(f"Back on the bundled CPU runtime from the next start (was {previous.variant})")
        return 0
    if action == "remove":
        print(json.dumps(manage.remove_runtime(settings.data_dir, args.runtime)))
        return 0
    if action == "pack":
        return asyncio.run(_pack(args, settings))
    raise SystemExit(f"unknown action {action}")
