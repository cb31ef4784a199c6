"""`make run` (build/run.py): Electron where installed and able to open a window, else web mode."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("hearth_run", REPO / "build" / "run.py")
assert spec and spec.loader
run = importlib.util.module_from_spec(spec)
sys.modules["hearth_run"] = run  # dataclasses look their module up there
spec.loader.exec_module(run)

PY = Path("/repo/.venv/bin/python")
ELECTRON = Path("/repo/node_modules/electron/dist/electron")


@pytest.mark.parametrize(
    ("electron", "platform", "env", "mode", "reason"),
    [
        (None, "linux", {"DISPLAY": ":0"}, "web", "Electron is not installed"),
        (ELECTRON, "linux", {}, "web", "no display"),
        (ELECTRON, "linux", {"DISPLAY": ":0"}, "electron", "starting the Electron app"),
        (ELECTRON, "linux", {"WAYLAND_DISPLAY": "wayland-0"}, "electron", "Electron app"),
        (ELECTRON, "darwin", {}, "electron", "starting the Electron app"),
        (ELECTRON, "win32", {}, "electron", "starting the Electron app"),
        (None, "win32", {}, "web", "Electron is not installed"),
    ],
)
def test_choose(electron, platform, env, mode, reason):
    choice = run.choose(
        electron=electron, python=PY, repo=Path("/repo"), platform=platform, env=env
    )
    assert choice.mode == mode
    assert reason in choice.reason
    if mode == "web":
        assert choice.command == (str(PY), "-m", "hearth", "serve")
    else:
        assert choice.command == (str(ELECTRON), "/repo")


def fake_electron_install(repo: Path, *, executable: bool = True) -> Path:
    package = repo / "node_modules" / "electron"
    (package / "dist").mkdir(parents=True)
    (package / "path.txt").write_text("electron")
    binary = package / "dist" / "electron"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755 if executable else 0o644)
    return binary


def test_electron_binary_is_the_one_npm_downloaded(tmp_path):
    assert run.electron_binary(tmp_path, {}) is None, "no node_modules/electron at all"
    binary = fake_electron_install(tmp_path)
    assert run.electron_binary(tmp_path, {}) == binary


def test_a_package_without_its_binary_is_not_electron(tmp_path):
    # What `ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install` leaves: the package, no binary.
    (tmp_path / "node_modules" / "electron").mkdir(parents=True)
    assert run.electron_binary(tmp_path, {}) is None
    fake_electron_install(tmp_path / "other", executable=False)
    assert run.electron_binary(tmp_path / "other", {}) is None


def test_electron_override_dist_path_is_honoured(tmp_path):
    binary = fake_electron_install(tmp_path)
    override = tmp_path / "elsewhere"
    override.mkdir()
    assert run.electron_binary(tmp_path, {"ELECTRON_OVERRIDE_DIST_PATH": str(override)}) is None
    moved = override / "electron"
    binary.rename(moved)
    assert run.electron_binary(tmp_path, {"ELECTRON_OVERRIDE_DIST_PATH": str(override)}) == moved


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="signals")
def test_web_mode_serves_the_ui_link_and_stops_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "HEARTH_DATA_DIR": str(tmp_path / "data"),
        "HEARTH_PORT": "0",
        "HEARTH_NO_BROWSER": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("HEARTH_SUPERVISED", None)
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "build" / "run.py"), "--web"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its group holds the launcher too, for the cleanup below
    )
    try:
        assert proc.stderr is not None
        seen = []
        link = None
        deadline = time.monotonic() + 120
        while link is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith(run.LINK_PREFIX):
                link = line[len(run.LINK_PREFIX) :].strip()
        assert link, "".join(seen)
        assert any("serving the UI" in line for line in seen), "the reason is shown"
        base = link.split("#", 1)[0].rstrip("/")
        # The link is printed just before the server starts accepting connections.
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail(f"{base}/health never answered")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # forwarded: the launcher stops its server
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the server then sees its launcher gone
                proc.wait()
