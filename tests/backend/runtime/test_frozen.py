"""The upgrade inside the PyInstaller build (backend.spec): llama_cpp is not in the archive but
plain files under `_internal/runtimes/cpu`, and the staged runtime must really replace it.

Runs when HEARTH_FROZEN_BACKEND names a built bundle's executable (e.g.
dist/hearth-backend/hearth-backend); skipped with that reason otherwise."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.backend.runtime.wheels import variant, write_registry

pytestmark = pytest.mark.slow

FROZEN_ENV = "HEARTH_FROZEN_BACKEND"


@pytest.fixture
def frozen_backend() -> Path:
    value = os.environ.get(FROZEN_ENV)
    if not value:
        pytest.skip(f"set {FROZEN_ENV} to a built dist/hearth-backend/hearth-backend to run this")
    path = Path(value)
    if not path.is_file():
        pytest.skip(f"{FROZEN_ENV}={value} is not a file")
    return path


def test_frozen_backend_upgrades_and_loads_the_staged_runtime(
    tmp_path, frozen_backend, real_wheel, wheel_index, probe_models
):
    registry = write_registry(
        tmp_path / "registry.json",
        variant(
            "cpu-test",
            "cpu",
            [("llama-cpp-python", real_wheel, wheel_index.add(real_wheel))],
            min_speedup=0,
        ),
    )
    data = tmp_path / "data"
    token = secrets.token_urlsafe(24)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "HEARTH_DATA_DIR": str(data),
        "HEARTH_MODELS_DIR": str(probe_models),
        "HEARTH_TOKEN": token,
        "HEARTH_PORT": "0",
        "HEARTH_RUNTIME_REGISTRY": str(registry),
        "HEARTH_RUNTIME_PROBE_TIMEOUT": "120",
    }
    stderr = (tmp_path / "stderr.log").open("w")
    proc = subprocess.Popen(
        [str(frozen_backend), "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = None
        while port is None:
            line = proc.stdout.readline()
            assert line, (tmp_path / "stderr.log").read_text()
            if line.startswith("{"):
                port = json.loads(line).get("port")
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        bundled = _wait(client, "/api/capabilities", lambda c: c["runtime"]["llama_cpp_path"])
        internal = frozen_backend.parent / "_internal" / "runtimes" / "cpu"
        assert Path(bundled["runtime"]["llama_cpp_path"]).is_relative_to(internal)
        job = client.post("/api/admin/upgrade-gpu", json={"variant": "cpu-test"}).json()
        done = _wait(
            client, f"/api/admin/upgrade-gpu/{job['id']}", lambda j: j["state"] != "running"
        )
        assert done["state"] == "done", done
        caps = _wait(client, "/api/capabilities", lambda c: c["runtime"]["id"] == "cpu-test")
        folder = data / "runtimes" / "cpu-test-0.3.36"
        assert Path(caps["runtime"]["llama_cpp_path"]).is_relative_to(folder)
        assert Path(caps["runtime"]["library_path"]).is_relative_to(folder)
        assert caps["runtime"]["loaded_from_runtime"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        stderr.close()


def _wait(client: httpx.Client, path: str, until, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            resp = client.get(path)
            if resp.status_code == 200:
                last = resp.json()
                if until(last):
                    return last
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out on {path}: {last}")
