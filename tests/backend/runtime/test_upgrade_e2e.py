"""The whole upgrade through real processes: `python -m hearth serve` (its launcher and the
server it respawns), the HTTP API with its SSE stream, a wheel index on 127.0.0.1, probe
children, and the boots after the switch."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from hearth.runtime.installed import folder_size

from tests.backend.api.sse_client import sse as iter_sse
from tests.backend.runtime import cuda_standin
from tests.backend.runtime.wheels import (
    LLAMA_VERSION,
    crashes_in_server,
    hangs_in_server,
    make_wheel,
    variant,
    wheel_of,
    write_registry,
)
from tests.backend.server_process import REPO, HearthProcess

pytestmark = pytest.mark.slow


def _server(tmp_path: Path, registry: Path, models: Path, **env: str) -> HearthProcess:
    env = {"HEARTH_RUNTIME_PROBE_TIMEOUT": "60", **env}
    return HearthProcess(
        tmp_path / "data", models, HEARTH_RUNTIME_REGISTRY=str(registry), **env
    ).start()


def _wait(server: HearthProcess, path: str, until, timeout: float = 120) -> dict:
    """GET `path` until `until(body)`, across the backend's respawn."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            resp = httpx.get(server.url + path, headers=server.headers, timeout=5)
            if resp.status_code == 200:
                last = resp.json()
                if until(last):
                    return last  # type: ignore[return-value]
        except httpx.HTTPError:
            pass  # restarting
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting on {path}; last answer: {last}")


def _follow(
    server: HearthProcess, job_id: str, connected: threading.Event | None = None
) -> list[tuple[str, dict]]:
    """Every event of the job's stream; `connected` is set once the first one arrived."""
    events = []
    with (
        server.client() as client,
        client.stream("GET", f"/api/admin/upgrade-gpu/{job_id}/events") as stream,
    ):
        assert stream.status_code == 200
        for event in iter_sse(stream):
            events.append(event)
            if connected is not None:
                connected.set()
    return events


def _registry(tmp_path: Path, wheel, url: str, *, kind: str = "cpu", vid: str = "cpu-test"):
    data = variant(vid, kind, [("llama-cpp-python", wheel, url)], min_speedup=0)
    return write_registry(tmp_path / "registry.json", data)


def _cuda_runtime_wheel(tmp_path: Path):
    """An nvidia-cuda-runtime-style wheel whose libcudart.so.12 is a real shared library (a
    copy of llama.cpp's libggml-base), so the preload is exercised without CUDA."""
    import llama_cpp

    real_so = Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"
    path = tmp_path / "wheels" / "nvidia_cuda_runtime_cu12-12.4.127-py3-none-linux_x86_64.whl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(real_so, "nvidia/cuda_runtime/lib/libcudart.so.12")
        zf.writestr("nvidia/cuda_runtime/__init__.py", "")
    return wheel_of(path)


def test_upgrade_switches_respawns_and_loads_the_new_runtime(
    tmp_path, real_wheel, wheel_index, probe_models
):
    if sys.platform != "linux":
        pytest.skip("the stand-in CUDA runtime wheel carries a Linux shared library")
    cudart = _cuda_runtime_wheel(tmp_path)
    data = variant(
        "cpu-test",
        "cpu",
        [
            ("llama-cpp-python", real_wheel, wheel_index.add(real_wheel)),
            ("cuda-runtime", cudart, wheel_index.add(cudart)),
        ],
        min_speedup=0,
    )
    registry = write_registry(tmp_path / "registry.json", data)
    # The wheel's bytes wait until the event stream is followed, so every stage is seen.
    gate = wheel_index.gates[real_wheel.filename] = threading.Event()
    server = _server(tmp_path, registry, probe_models)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        with server.client() as client:
            before = client.get("/api/capabilities").json()["runtime"]
            assert before["id"] == "cpu-bundled" and "/runtimes/" not in before["llama_cpp_path"]
            resp = client.post("/api/admin/upgrade-gpu", json={"variant": "cpu-test"})
            assert resp.status_code == 202, resp.text
            job = resp.json()
            again = client.post("/api/admin/upgrade-gpu", json={"variant": "cpu-test"})
            assert again.status_code == 200 and again.json()["id"] == job["id"]
            refused = client.post("/api/admin/upgrade-gpu", json={"url": "http://evil/x.whl"})
            assert refused.status_code == 422

        connected = threading.Event()
        following = pool.submit(_follow, server, job["id"], connected)
        assert connected.wait(30)
        gate.set()
        events = following.result(timeout=300)
        stages = [data["stage"] for _, data in events]
        assert stages[-1] == "restart_requested", events[-1]
        for stage in ("downloading", "verifying", "unpacking", "probing", "switching"):
            assert stage in stages
        downloading = [d for _, d in events if d["stage"] == "downloading"]
        assert downloading[-1]["bytes_total"] == real_wheel.size + cudart.size

        done = _wait(
            server, f"/api/admin/upgrade-gpu/{job['id']}", lambda j: j["state"] != "running"
        )
        assert done["state"] == "done", done
        assert done["result"]["new_tokens_per_s"] > 0
        caps = _wait(server, "/api/capabilities", lambda c: c["runtime"]["id"] == "cpu-test")
        runtime = caps["runtime"]
        folder = tmp_path / "data" / "runtimes" / "cpu-test-0.3.36"
        assert runtime["folder"] == str(folder)
        assert Path(runtime["llama_cpp_path"]).is_relative_to(folder)
        assert Path(runtime["library_path"]).is_relative_to(folder)
        assert runtime["loaded_from_runtime"] is True and runtime["error"] is None
        assert caps["upgrade"]["activation_pending"] is False
        assert caps["upgrade"]["last_job"]["state"] == "done"
        assert json.loads((tmp_path / "data" / "runtimes" / "active.json").read_text())["confirmed"]

        with server.client() as client:
            listed = client.get("/api/admin/runtimes").json()
            assert listed["active"] == "cpu-test-0.3.36"
            # The CUDA runtime library was loaded from the staged wheel before llama_cpp.
            assert listed["running"]["preloaded"] == [
                str(folder / "nvidia" / "cuda_runtime" / "lib" / "libcudart.so.12")
            ]
            entry = next(r for r in listed["runtimes"] if r["id"] == "cpu-test-0.3.36")
            assert entry["probe"]["ok"] and entry["probe"]["details"]["new"]["preloaded"]
            busy = client.delete("/api/admin/runtimes/cpu-test-0.3.36")
            assert busy.status_code == 409 and busy.json()["code"] == "runtime_active"
            rolled = client.post("/api/admin/runtime/rollback")
            assert rolled.status_code == 200 and rolled.json()["restart_requested"]
        caps = _wait(server, "/api/capabilities", lambda c: c["runtime"]["id"] == "cpu-bundled")
        assert not Path(caps["runtime"]["llama_cpp_path"]).is_relative_to(folder)
        size = folder_size(folder)  # the real wheel, unpacked: megabytes of libraries
        with server.client() as client:
            removed = client.delete("/api/admin/runtimes/cpu-test-0.3.36").json()
        assert removed["freed_bytes"] == size > 1_000_000 and not folder.exists()
    finally:
        gate.set()
        pool.shutdown()
        assert server.stop() == 0


def test_a_runtime_that_crash_loops_after_the_respawn_is_reverted(
    tmp_path, wheel_index, probe_models
):
    wheel = make_wheel(tmp_path / "wheels", "server-crash", crashes_in_server())
    registry = _registry(tmp_path, wheel, wheel_index.add(wheel))
    server = _server(tmp_path, registry, probe_models)
    try:
        with server.client() as client:
            job = client.post("/api/admin/upgrade-gpu", json={"variant": "cpu-test"}).json()
        job = _wait(
            server,
            f"/api/admin/upgrade-gpu/{job['id']}",
            lambda j: j["state"] != "running",
            timeout=180,
        )
        assert job["state"] == "failed" and job["reverted_to_cpu"], job
        assert job["error"]["code"] == "activation_failed"
        assert "signal SIGSEGV" in job["error"]["message"]
        caps = _wait(server, "/api/capabilities", lambda c: c["upgrade"]["last_revert"])
        assert caps["runtime"]["id"] == "cpu-bundled" and caps["runtime"]["error"] is None
        revert = caps["upgrade"]["last_revert"]
        assert (revert["code"], revert["attempts"]) == ("activation_failed", 2)
        assert caps["upgrade"]["activation_pending"] is False
    finally:
        server.stop()
    log = server.stderr_path.read_text()
    assert log.count("respawning the server: crash (signal SIGSEGV)") == 2


def test_a_runtime_that_hangs_after_the_respawn_is_reverted(tmp_path, wheel_index, probe_models):
    wheel = make_wheel(tmp_path / "wheels", "server-hang", hangs_in_server())
    registry = _registry(tmp_path, wheel, wheel_index.add(wheel))
    # The same timeout bounds the probe (stories260K: seconds) and the activation check.
    server = _server(tmp_path, registry, probe_models, HEARTH_RUNTIME_PROBE_TIMEOUT="20")
    try:
        with server.client() as client:
            job = client.post("/api/admin/upgrade-gpu", json={"variant": "cpu-test"}).json()
        job = _wait(
            server,
            f"/api/admin/upgrade-gpu/{job['id']}",
            lambda j: j["state"] != "running",
            timeout=180,
        )
        assert job["state"] == "failed" and job["reverted_to_cpu"], json.dumps(job)
        assert job["error"]["code"] == "activation_hung"
        caps = _wait(server, "/api/capabilities", lambda c: c["runtime"]["id"] == "cpu-bundled")
        assert caps["runtime"]["error"] is None
        assert caps["upgrade"]["last_revert"]["code"] == "activation_hung"
    finally:
        server.stop()


def test_a_fault_via_the_api_leaves_the_cpu_runtime(
    tmp_path, real_wheel, wheel_index, stories_path
):
    registry = _registry(tmp_path, real_wheel, wheel_index.url("/files/gone.whl"))
    models = tmp_path / "models"
    models.mkdir()
    (models / stories_path.name).symlink_to(stories_path)
    server = _server(tmp_path, registry, models)
    try:
        with server.client() as client:
            job = client.post("/api/admin/upgrade-gpu", json={"variant": "cpu-test"}).json()
            events = _follow(server, job["id"])
            assert events[-1][0] == "failed"
            assert events[-1][1]["error"]["code"] == "http_not_found"
            caps = client.get("/api/capabilities").json()
            assert caps["runtime"]["id"] == "cpu-bundled"
            assert caps["upgrade"]["last_job"]["error"]["code"] == "http_not_found"
            none = client.post("/api/admin/upgrade-gpu", json={})
            assert none.status_code == 409 and none.json()["code"] == "no_upgrade"
    finally:
        server.stop()


_KILL_MID_SWITCH = """
import os, signal, sys
from pathlib import Path
from hearth.runtime.switch import Pointer, StateFiles, write_json_atomic

root, folder, kill_after = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
writes = []

def write(path, data):
    if len(writes) == kill_after:
        # Half of an atomic write: the temp file exists, the rename never happens.
        path.with_name("." + path.name + ".tmp").write_text("{")
        os.kill(os.getpid(), signal.SIGKILL)
    writes.append(path.name)
    write_json_atomic(path, data)

StateFiles(root, write=write).commit_switch(Pointer(folder, "cpu-test", "cpu"), "job1")
"""


@pytest.mark.parametrize("kill_after", [0, 1])
def test_kill_9_in_the_middle_of_the_switch(
    tmp_path, real_wheel, wheel_index, probe_models, kill_after
):
    """Killed before the pointer's rename, or between pointer and marker: the next boot is on
    the CPU runtime, with the reason."""
    registry = _registry(tmp_path, real_wheel, wheel_index.add(real_wheel))
    root = tmp_path / "data" / "runtimes"
    # A probed runtime, installed as the upgrade leaves it just before the switch.
    folder = root / "cpu-test-0.3.36"
    folder.mkdir(parents=True)
    (folder / "hearth-runtime.json").write_text(
        json.dumps(
            {
                "format": 1,
                "variant": "cpu-test",
                "kind": "cpu",
                "version": "0.3.36",
                "artifacts": [],
            }
        )
    )
    (root / "last_job.json").write_text(
        json.dumps({"id": "job1", "state": "running", "stage": "switching", "variant": "cpu-test"})
    )
    killed = subprocess.run(
        [sys.executable, "-c", _KILL_MID_SWITCH, str(root), folder.name, str(kill_after)],
        env={"PYTHONPATH": str(REPO / "backend")},
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9, killed.stderr
    server = _server(tmp_path, registry, probe_models)
    try:
        with server.client() as client:
            caps = client.get("/api/capabilities").json()
            job = client.get("/api/admin/upgrade-gpu").json()["job"]
    finally:
        server.stop()
    assert caps["runtime"]["id"] == "cpu-bundled"
    assert job["state"] == "failed" and job["error"]["code"] == "switch_interrupted"
    if kill_after == 1:  # the pointer had been written: the boot reverted it
        assert caps["upgrade"]["last_revert"]["code"] == "switch_interrupted"
    assert not list(root.glob(".*.tmp"))


def test_auto_upgrade_starts_by_itself_and_still_reverts(
    tmp_path, real_wheel, wheel_index, probe_models
):
    """AUTO_UPGRADE_GPU on a machine with an NVIDIA GPU (a fake nvidia-smi at the OS edge): the
    job starts without a click, is probed, and the CPU-only build offered as CUDA is refused."""
    if sys.platform == "win32":
        pytest.skip("the fake nvidia-smi is a POSIX script")
    registry = _registry(
        tmp_path, real_wheel, wheel_index.add(real_wheel), kind="cuda", vid="cuda-test"
    )
    data = json.loads(registry.read_text())
    data["variants"][1].pop("min_speedup")  # the real bar: a CUDA build must beat the CPU
    registry.write_text(json.dumps(data))
    env = {"AUTO_UPGRADE_GPU": "true", **cuda_standin.fake_nvidia_smi(tmp_path, "rtx4090-550")}
    server = _server(tmp_path, registry, probe_models, **env)
    try:
        caps = _wait(
            server,
            "/api/capabilities",
            lambda c: (c["upgrade"]["last_job"] or {}).get("state") == "failed",
        )
        assert caps["recommendation"]["variant"]["id"] == "cuda-test"
        job = caps["upgrade"]["last_job"]
        assert job["variant"] == "cuda-test" and job["error"]["code"] == "probe_no_gpu_offload"
        assert caps["runtime"]["id"] == "cpu-bundled"
    finally:
        server.stop()
    # A variant that failed is not tried again at every start.
    server = _server(tmp_path, registry, probe_models, **env)
    try:
        time.sleep(3)
        with server.client() as client:
            again = client.get("/api/admin/upgrade-gpu").json()["job"]
        assert again["id"] == job["id"]
    finally:
        server.stop()


# -- a CUDA runtime on this GPU-less machine: offered for a fake RTX 4090 on driver 580, staged,
# -- and refused by the probe because the NVIDIA driver's library is not here -----------------

SMOKE_PACK_DIR = REPO / "build" / "out" / "cuda-runtime" / "90_real"


def _cuda_upgrade_fails_naming_the_driver(
    tmp_path: Path, registry: Path, probe_models: Path, download_bytes: int
) -> dict:
    env = cuda_standin.fake_nvidia_smi(tmp_path, "rtx4090-580")
    server = _server(tmp_path, registry, probe_models, **env)
    try:
        with server.client() as client:
            caps = client.get("/api/capabilities").json()
            rec = caps["recommendation"]
            assert rec["upgrade"] and rec["variant"]["id"] == "cuda-13.0", rec
            assert rec["download_bytes"] == download_bytes
            resp = client.post("/api/admin/upgrade-gpu", json={})  # the recommended variant
            assert resp.status_code == 202, resp.text
            events = _follow(server, resp.json()["id"])
            name, job = events[-1]
            assert name == "failed", events[-3:]
            assert job["error"]["code"] == "probe_no_gpu_device", job["error"]
            assert job["error"]["message"] == (
                "The CUDA 13.0 runtime: The NVIDIA driver's library libcuda.so.1 was not found, "
                "so the GPU cannot be used. Install or repair the NVIDIA driver, then try again."
            )
            after = client.get("/api/capabilities").json()
            assert after["runtime"]["id"] == "cpu-bundled"
            assert after["upgrade"]["last_job"]["error"]["code"] == "probe_no_gpu_device"
        root = tmp_path / "data" / "runtimes"
        assert sorted(p.name for p in root.iterdir()) == ["last_job.json"]  # nothing staged left
        return job
    finally:
        server.stop()


def test_a_cuda_runtime_without_the_nvidia_driver_ends_on_the_cpu_naming_it(
    tmp_path, wheel_index, probe_models
):
    if sys.platform != "linux":
        pytest.skip("the stand-in CUDA module is a Linux shared library")
    try:
        runtime = cuda_standin.runtime_folder(tmp_path / "cuda-runtime")
    except RuntimeError as exc:
        pytest.skip(str(exc))
    wheel = wheel_of(cuda_standin.wheel_of_folder(runtime, tmp_path / "wheels", LLAMA_VERSION))
    data = cuda_standin.cuda13(
        variant(
            "cuda-13.0",
            "cuda",
            [("llama-cpp-python", wheel, wheel_index.add(wheel, f"cuda-13.0/{wheel.filename}"))],
        )
    )
    registry = write_registry(tmp_path / "registry.json", data)
    _cuda_upgrade_fails_naming_the_driver(tmp_path, registry, probe_models, wheel.size)


def test_the_real_smoke_cuda_build_ends_on_the_cpu_naming_the_driver(
    tmp_path, wheel_index, probe_models
):
    """The real thing, where `build/build-cuda-runtime --smoke` has been run: Hearth's CUDA 13
    wheel, cudart and cuBLAS from its pack, served from 127.0.0.1 and pinned from its manifest."""
    packs = sorted(SMOKE_PACK_DIR.glob("hearth-runtime-cuda-13.0-*.zip"))
    if not packs:
        pytest.skip(f"no smoke CUDA pack in {SMOKE_PACK_DIR}: build/build-cuda-runtime --smoke")
    with zipfile.ZipFile(packs[-1]) as zf:
        manifest = json.loads(zf.read("hearth-runtime-pack.json"))
        wheels = {}
        for entry in manifest["artifacts"]:
            path = tmp_path / "wheels" / entry["filename"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(zf.read(f"artifacts/{entry['filename']}"))
            wheels[entry["role"]] = wheel_of(path)
    artifacts = [(role, w, wheel_index.add(w)) for role, w in wheels.items()]
    registry = write_registry(
        tmp_path / "registry.json", cuda_standin.cuda13(variant("cuda-13.0", "cuda", artifacts))
    )
    total = sum(w.size for w in wheels.values())
    _cuda_upgrade_fails_naming_the_driver(tmp_path, registry, probe_models, total)
