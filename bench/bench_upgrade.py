"""The runtime upgrade end to end, timed: stage (from a wheel index on 127.0.0.1) + probe + switch
+ respawn to a healthy, confirmed backend, excluding the transfer itself.

The runtime is this environment's real llama-cpp-python wheel registered as a CPU variant (no GPU
here); the probe model is the starter (SmolLM2) when the fixtures have it, else stories260K.
Baseline, measured in the same run: a plain cold start of `python -m hearth serve` to healthy.
Prints each stage's seconds, the total (POST to healthy on the new runtime, less the transfer),
its ratio to the baseline, and the activation check after it. Target: <= 30 s.
BENCH_UPGRADE_MODEL picks another fixture (e.g. stories260K.gguf).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.backend.runtime.wheels import (  # noqa: E402
    WheelIndex,
    built_wheel,
    repack_installed,
    variant,
    wheel_of,
    write_registry,
)
from tests.backend.server_process import HearthProcess  # noqa: E402

MODELS = Path(os.environ.get("HEARTH_TEST_MODELS", REPO.parent / "shared" / "models"))
STARTER, FALLBACK = "SmolLM2-135M-Instruct.Q4_1.gguf", "stories260K.gguf"
TARGET_S = 30.0
TRANSFER = ("downloading", "verifying")


def cold_start(data: Path, models: Path) -> float:
    t0 = time.perf_counter()
    server = HearthProcess(data, models).start()
    seconds = time.perf_counter() - t0
    server.stop()
    return seconds


def upgrade(server: HearthProcess) -> tuple[float, dict[str, float], dict]:
    """(seconds from POST to the backend healthy on the new runtime, seconds per stage, job)."""
    stages: dict[str, float] = {}
    with server.client() as client:
        t0 = time.perf_counter()
        job = client.post("/api/admin/upgrade-gpu", json={"variant": "bench-cpu"}).json()
        last_stage, last_t = job["stage"], t0
        with client.stream("GET", f"/api/admin/upgrade-gpu/{job['id']}/events") as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                snapshot = json.loads(line[5:])
                now = time.perf_counter()
                if snapshot["stage"] != last_stage:
                    stages[last_stage] = stages.get(last_stage, 0.0) + now - last_t
                    last_stage, last_t = snapshot["stage"], now
    # Across the respawn: first healthy on the new runtime, then confirmed by the activation
    # check (its test generation loads the chat model, which the first answer needs anyway).
    healthy = None
    while True:
        try:
            if healthy is None:
                running = httpx.get(f"{server.url}/api/admin/runtimes", headers=server.headers)
                if running.json()["running"]["runtime_id"] == "bench-cpu":
                    healthy = time.perf_counter()
            job = httpx.get(
                f"{server.url}/api/admin/upgrade-gpu/{job['id']}", headers=server.headers
            ).json()
            if job["state"] != "running":
                break
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    now = time.perf_counter()
    healthy = healthy or now
    stages["respawn to healthy"] = healthy - last_t
    stages["activation check"] = now - healthy
    return healthy - t0, stages, job


def main() -> int:
    name = os.environ.get("BENCH_UPGRADE_MODEL") or (
        STARTER if (MODELS / STARTER).is_file() else FALLBACK
    )
    model = MODELS / name
    if not model.is_file():
        print(f"bench_upgrade: no model fixtures in {MODELS}; skipped")
        return 0
    with tempfile.TemporaryDirectory(prefix="hearth-bench-upgrade-") as tmp:
        tmp_path = Path(tmp)
        models = tmp_path / "models"
        models.mkdir()
        (models / model.name).symlink_to(model)
        wheel = wheel_of(built_wheel() or repack_installed(tmp_path))
        index = WheelIndex(tmp_path / "index").start()
        try:
            url = index.add(wheel)
            registry = write_registry(
                tmp_path / "registry.json",
                variant("bench-cpu", "cpu", [("llama-cpp-python", wheel, url)], min_speedup=0),
            )
            baseline = cold_start(tmp_path / "baseline", models)
            server = HearthProcess(
                tmp_path / "data", models, HEARTH_RUNTIME_REGISTRY=str(registry)
            ).start()
            try:
                total, stages, job = upgrade(server)
            finally:
                server.stop()
        finally:
            index.stop()
    if job["state"] != "done":
        print(f"bench_upgrade: the upgrade did not finish: {job}")
        return 1
    transfer = sum(stages.get(s, 0.0) for s in TRANSFER)
    upgrade_s = total - transfer  # POST to healthy on the new runtime, minus the transfer
    print(f"model {model.name}, wheel {wheel.size / 1e6:.1f} MB, {os.cpu_count()} CPUs")
    for stage, seconds in stages.items():
        print(f"  {stage:22} {seconds:6.2f} s")
    result = job["result"]
    print(
        f"probe: {result['new_tokens_per_s']} tok/s new vs {result['cpu_tokens_per_s']} tok/s "
        "bundled"
    )
    print(f"baseline (cold start to healthy)      {baseline:6.2f} s")
    print(f"upgrade to healthy, less transfer ({transfer:.2f} s)  {upgrade_s:6.2f} s")
    print(f"  + activation check (test generation)  {stages['activation check']:6.2f} s")
    print(
        f"ratio upgrade / cold start            {upgrade_s / baseline:6.2f}x   "
        f"target <= {TARGET_S:.0f} s: {'met' if upgrade_s <= TARGET_S else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
