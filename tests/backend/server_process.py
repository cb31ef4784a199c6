"""Start a real `python -m hearth serve` process for tests, the way the shell does."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


class HearthProcess:
    def __init__(self, data_dir: Path, models_dir: Path | None = None, **env: str):
        self.data_dir = data_dir
        self.models_dir = models_dir
        self.token = secrets.token_urlsafe(24)
        self.extra_env = env
        self.proc: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self.server_pid: int | None = None  # the real server: the launcher's child
        self.stderr_path = data_dir / "stderr.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **kwargs) -> httpx.Client:
        kwargs.setdefault("timeout", 120)
        return httpx.Client(base_url=self.url, headers=self.headers, **kwargs)

    def start(self, timeout: float = 60) -> HearthProcess:
        env = {
            **os.environ,
            "HEARTH_DATA_DIR": str(self.data_dir),
            "HEARTH_TOKEN": self.token,
            "HEARTH_PORT": "0",
            "PYTHONPATH": str(REPO / "backend"),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        if self.models_dir is not None:
            env["HEARTH_MODELS_DIR"] = str(self.models_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        stderr = self.stderr_path.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hearth", "serve"],
            cwd=self.data_dir,  # no stray .env from the checkout
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        stderr.close()
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while self.port is None:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"backend exited early:\n{self.stderr_path.read_text()}")
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "listening":
                self.port = int(event["port"])
                self.server_pid = int(event["pid"])
            if time.monotonic() > deadline:
                raise RuntimeError("no listening line")
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("backend never became healthy")

    def kill9(self) -> None:
        """SIGKILL the server itself, mid-whatever, then its launcher so none respawns it."""
        assert self.proc is not None and self.server_pid is not None
        assert self.server_pid != self.proc.pid  # `hearth serve` runs it as a child
        os.kill(self.server_pid, signal.SIGKILL)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(self.server_pid):
            if time.monotonic() > deadline:
                raise AssertionError(f"server {self.server_pid} outlived SIGKILL")
            time.sleep(0.02)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=5)


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie has exited: its entry in /proc says so)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state != "Z"
