"""The upgrade job in this process against a real wheel index on 127.0.0.1, with real probe
children: the success path and every fault before the switch, each with its own reason code,
each ending on the untouched CPU runtime with no half folder left."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import httpx
import pytest
from hearth.net.download import Downloader
from hearth.runtime import installed
from hearth.runtime.jobs import UpgradeJobs
from hearth.runtime.registry import load_registry
from hearth.runtime.switch import StateFiles
from hearth.runtime.upgrade_job import JobConfig

from tests.backend.runtime.wheels import (
    CRASHES,
    HANGS,
    IMPORT_FAILS,
    host_tags,
    make_wheel,
    variant,
    write_registry,
)

pytestmark = pytest.mark.slow

Usage = namedtuple("Usage", "total used free")


def _jobs(data: Path, registry: Path, model: Path | None, **config) -> UpgradeJobs:
    restarts: list[int] = []
    jobs = UpgradeJobs(
        JobConfig(
            data_dir=data,
            registry=lambda: load_registry(registry),
            recommended=lambda: (None, "No NVIDIA GPU found."),
            host_tags=host_tags,
            probe_model=lambda: model,
            restart=lambda: restarts.append(1),
            **{"probe_timeout": 60.0, **config},
        ),
        downloader=Downloader(client=httpx.AsyncClient(timeout=10), retry_delay=0.05),
    )
    jobs.restarts = restarts  # type: ignore[attr-defined]
    return jobs


def _run(jobs: UpgradeJobs, variant_id: str | None = "test-variant") -> dict:
    async def scenario() -> dict:
        try:
            job, created = await jobs.start(variant_id)
            assert created and job["state"] == "running"
            stages = [s["stage"] async for s in jobs.subscribe(job["id"])]
            final = await jobs.wait()
            assert final is not None
            final["seen_stages"] = stages
            await asyncio.sleep(0.4)  # the restart is asked for just after the last event
            return final
        finally:
            await jobs.aclose()

    return asyncio.run(scenario())


def _assert_untouched(data: Path) -> None:
    """Still on the CPU runtime, nothing half-done left behind."""
    files = StateFiles(data / "runtimes")
    assert files.pointer().bundled
    assert files.marker() is None
    root = data / "runtimes"
    leftovers = [p.name for p in root.iterdir()] if root.exists() else []
    assert set(leftovers) <= {"last_job.json"}, leftovers


@pytest.fixture
def registry_with(tmp_path, wheel_index):
    def make(wheel, *, kind="cpu", min_speedup=0.0, url=None, **overrides):
        url = url or wheel_index.add(wheel)
        data = variant(
            "test-variant", kind, [("llama-cpp-python", wheel, url)], min_speedup=min_speedup
        )
        for key, value in overrides.items():
            data["builds"][0]["artifacts"][0][key] = value
        return write_registry(tmp_path / "registry.json", data)

    return make


def test_success_resumes_a_dropped_download_probes_and_switches(
    tmp_path, real_wheel, wheel_index, registry_with, stories_path
):
    registry = registry_with(real_wheel)
    wheel_index.drop_after[real_wheel.filename] = 5_000_000  # the first attempt dies mid-file
    data = tmp_path / "data"
    jobs = _jobs(data, registry, stories_path)
    job = _run(jobs)

    assert job["state"] == "running" and job["stage"] == "restart_requested", job["error"]
    for stage in ("resolving", "checking_disk", "downloading", "verifying", "unpacking"):
        assert stage in job["seen_stages"]
    assert job["seen_stages"][-3:] == ["probing", "switching", "restart_requested"]
    # Resumed with a Range request at the byte where the connection dropped.
    assert wheel_index.ranges(real_wheel.filename) == [None, "bytes=5000000-"]
    assert jobs.restarts == [1]  # type: ignore[attr-defined]
    result = job["result"]
    assert result["new_tokens_per_s"] > 0 and result["cpu_tokens_per_s"] > 0
    assert result["offloaded_layers"] == 0

    files = StateFiles(data / "runtimes")
    pointer, marker = files.pointer(), files.marker()
    assert (pointer.folder, pointer.variant, pointer.confirmed) == (
        job["runtime"],
        "test-variant",
        False,
    )
    assert marker is not None and (marker.folder, marker.attempts) == (pointer.folder, 0)
    runtime = installed.find_installed(data / "runtimes", pointer.folder)
    assert runtime is not None and runtime.folder == "test-variant-0.3.36"
    assert (runtime.path / "llama_cpp" / "lib").is_dir()
    assert runtime.probe["ok"] and runtime.probe["model"] == stories_path.name
    assert runtime.artifacts[0]["sha256"] == real_wheel.sha256
    # The wheel itself is gone once unpacked; no staging folder is left.
    assert not (data / "runtimes" / "downloads").exists()
    assert not list((data / "runtimes").glob(".staging-*"))
    # The job as the process after the respawn will read it.
    assert json.loads((data / "runtimes" / "last_job.json").read_text())["stage"] == (
        "restart_requested"
    )


def test_404_fails_with_its_code(tmp_path, real_wheel, wheel_index, registry_with, stories_path):
    registry = registry_with(real_wheel, url=wheel_index.url("/files/missing.whl"))
    job = _run(_jobs(tmp_path / "data", registry, stories_path))
    assert job["state"] == "failed"
    assert job["error"]["code"] == "http_not_found", job["error"]
    assert "missing.whl" in job["error"]["message"]
    _assert_untouched(tmp_path / "data")


def test_hash_mismatch_discards_the_download(
    tmp_path, real_wheel, wheel_index, registry_with, stories_path
):
    registry = registry_with(real_wheel, sha256="ab" * 32)
    job = _run(_jobs(tmp_path / "data", registry, stories_path))
    assert job["state"] == "failed"
    assert job["error"]["code"] == "hash_mismatch", job["error"]
    assert real_wheel.sha256 in job["error"]["message"]
    _assert_untouched(tmp_path / "data")


def test_too_little_free_space_is_refused_before_downloading(
    tmp_path, real_wheel, wheel_index, registry_with, stories_path
):
    registry = registry_with(real_wheel)
    small = lambda _path: Usage(10**9, 10**9 - 10**7, 10_000_000)  # noqa: E731 - 10 MB free
    job = _run(_jobs(tmp_path / "data", registry, stories_path, disk_usage=small))
    assert job["error"]["code"] == "disk_full", job["error"]
    assert "checking_disk" in job["seen_stages"] and "downloading" not in job["seen_stages"]
    assert wheel_index.ranges(real_wheel.filename) == []  # not a byte was fetched
    _assert_untouched(tmp_path / "data")


@pytest.fixture
def small_filesystem(tmp_path):
    """A real 2 MB filesystem (tmpfs) for the runtimes folder; needs root to mount."""
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux; the injected-disk_usage test covers it")
    target = tmp_path / "data" / "runtimes"
    target.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(target)])
    if done.returncode != 0:
        pytest.skip("mount -t tmpfs is not permitted here")
    yield target
    subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_disk_that_fills_up_mid_download(
    tmp_path, real_wheel, wheel_index, registry_with, stories_path, small_filesystem
):
    # The free-space check is told there is room (as on a disk another program fills up
    # meanwhile); the real 2 MB filesystem then runs out under the 24 MB download.
    registry = registry_with(real_wheel)
    roomy = lambda _path: Usage(10**12, 0, 10**12)  # noqa: E731
    job = _run(_jobs(tmp_path / "data", registry, stories_path, disk_usage=roomy, reserve=0))
    assert job["error"]["code"] == "disk_full", job["error"]
    assert "downloading" in job["seen_stages"]
    _assert_untouched(tmp_path / "data")


@pytest.mark.parametrize(
    ("source", "code", "words"),
    [
        (IMPORT_FAILS, "probe_import_failed", "libcudart.so.12"),
        (CRASHES, "probe_crashed", "SIGSEGV"),
    ],
)
def test_a_wheel_that_breaks_in_the_probe(
    tmp_path, wheel_index, registry_with, stories_path, source, code, words
):
    wheel = make_wheel(tmp_path / "wheels", code, source)
    job = _run(_jobs(tmp_path / "data", registry_with(wheel), stories_path))
    assert job["state"] == "failed" and job["error"]["code"] == code, job["error"]
    assert words in job["error"]["message"]
    assert "probing" in job["seen_stages"] and "switching" not in job["seen_stages"]
    _assert_untouched(tmp_path / "data")


def test_a_probe_that_hangs_is_stopped_at_its_timeout(
    tmp_path, wheel_index, registry_with, stories_path
):
    wheel = make_wheel(tmp_path / "wheels", "hangs", HANGS)
    jobs = _jobs(tmp_path / "data", registry_with(wheel), stories_path, probe_timeout=3.0)
    job = _run(jobs)
    assert job["error"]["code"] == "probe_timeout", job["error"]
    assert "3 s" in job["error"]["message"]
    _assert_untouched(tmp_path / "data")


def test_a_cuda_build_without_gpu_offload_is_refused(
    tmp_path, real_wheel, wheel_index, registry_with, stories_path
):
    # The real CPU wheel registered as a CUDA build: it imports, but cannot offload.
    job = _run(_jobs(tmp_path / "data", registry_with(real_wheel, kind="cuda"), stories_path))
    assert job["error"]["code"] == "probe_no_gpu_offload", job["error"]
    assert "llama_supports_gpu_offload" in job["error"]["message"]
    _assert_untouched(tmp_path / "data")


def test_a_build_no_faster_than_the_bundled_one_is_refused(
    tmp_path, real_wheel, wheel_index, registry_with, stories_path
):
    # The same wheel as the bundled one can never be 1000x faster: 50x once passed on a VM
    # whose baseline run was caught in a stall (stories260K's runs last milliseconds).
    registry = registry_with(real_wheel, min_speedup=1000.0)
    job = _run(_jobs(tmp_path / "data", registry, stories_path))
    assert job["error"] is not None, job
    assert job["error"]["code"] == "probe_slower", job["error"]
    assert job["result"]["speedup"] < 1000 and "1000.00x" in job["error"]["message"]
    _assert_untouched(tmp_path / "data")


def test_no_model_to_probe_with_stops_before_downloading(
    tmp_path, real_wheel, wheel_index, registry_with
):
    job = _run(_jobs(tmp_path / "data", registry_with(real_wheel), None))
    assert job["error"]["code"] == "no_model"
    assert wheel_index.ranges(real_wheel.filename) == []
    _assert_untouched(tmp_path / "data")


def test_cancel_stops_the_probe_and_removes_the_runtime(
    tmp_path, wheel_index, registry_with, stories_path
):
    wheel = make_wheel(tmp_path / "wheels", "hangs", HANGS)
    jobs = _jobs(tmp_path / "data", registry_with(wheel), stories_path, probe_timeout=120.0)

    async def scenario() -> tuple[dict, dict]:
        try:
            job, _ = await jobs.start("test-variant")
            async for snapshot in jobs.subscribe(job["id"]):
                if snapshot["stage"] == "probing":
                    break
            again, created = await jobs.start("test-variant")  # one job at a time
            assert not created and again["id"] == job["id"]
            cancelled = await jobs.cancel(job["id"])
            return cancelled, again
        finally:
            await jobs.aclose()

    job, _ = asyncio.run(scenario())
    assert (job["state"], job["stage"]) == ("cancelled", "cancelled")
    _assert_untouched(tmp_path / "data")


def test_unknown_and_unpinned_variants_are_refused_at_once(tmp_path, real_wheel, wheel_index):
    registry = write_registry(
        tmp_path / "registry.json",
        variant("unpinned", "cpu", [("llama-cpp-python", real_wheel, wheel_index.add(real_wheel))]),
    )
    data = json.loads(registry.read_text())
    data["variants"][1]["builds"][0]["artifacts"][0].update(sha256=None, size=None)
    registry.write_text(json.dumps(data))
    jobs = _jobs(tmp_path / "data", registry, None)

    async def scenario() -> list[str]:
        codes = []
        for vid in ("nope", "unpinned", "cpu-bundled"):
            try:
                await jobs.start(vid)
            except Exception as exc:
                codes.append(getattr(exc, "code", repr(exc)))
        with contextlib.suppress(Exception):
            await jobs.aclose()
        return codes

    assert asyncio.run(scenario()) == ["unknown_variant", "not_pinned", "bundled_variant"]
