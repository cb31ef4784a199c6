"""The PyInstaller onedir (dist/hearth-backend) run as a real process, the way the shell runs it."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "dist" / "hearth-backend"
EXECUTABLE = BUNDLE / ("hearth-backend.exe" if os.name == "nt" else "hearth-backend")
# hearth.paths.bundled_runtime_dir() inside the bundle (PyInstaller 6 puts _MEIPASS in _internal).
BUNDLED_RUNTIME = BUNDLE / "_internal" / "runtimes" / "cpu"
BUILD_HINT = "build it with `build/build-backend --fast` (or `make frozen`)"


def missing_reason() -> str | None:
    """Why the frozen tests cannot run here, or None."""
    if not EXECUTABLE.is_file():
        return f"{EXECUTABLE.relative_to(REPO)} is not built; {BUILD_HINT}"
    if not (BUNDLED_RUNTIME / "llama_cpp" / "__init__.py").is_file():
        return f"{BUNDLED_RUNTIME} holds no llama_cpp: the bundle is incomplete; {BUILD_HINT}"
    return None


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment minus anything that would point the frozen app elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "PYTHON"))}
    env.update(extra)
    return env


class FrozenBackend:
    """`hearth-backend serve` with its own data dir; supervised (as under Electron) by default."""

    def __init__(
        self,
        data_dir: Path,
        *,
        supervised: bool = True,
        prefix: Sequence[str] = (),
        **env: str,
    ):
        self.data_dir = data_dir
        self.prefix = list(prefix)  # e.g. qemu-x86_64 -cpu Nehalem: run as another processor
        self.token = secrets.token_urlsafe(24)
        self.supervised = supervised
        self.extra_env = env
        self.proc: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self.stderr_path = data_dir.parent / f"{data_dir.name}-stderr.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        kwargs.setdefault("timeout", 120)
        return httpx.Client(base_url=self.url, headers=headers, **kwargs)

    def start(self, timeout: float = 120) -> FrozenBackend:
        env = clean_env(
            HEARTH_DATA_DIR=str(self.data_dir),
            HEARTH_TOKEN=self.token,
            HEARTH_PORT="0",
            **({"HEARTH_SUPERVISED": "1"} if self.supervised else {}),
            **self.extra_env,
        )
        with self.stderr_path.open("a") as stderr:
            self.proc = subprocess.Popen(
                [*self.prefix, str(EXECUTABLE), "serve"],
                cwd=EXECUTABLE.parent,  # where the shell starts it
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while self.port is None:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the frozen backend exited early:\n{self.stderr()}")
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("event") == "listening":
                self.port = int(event["port"])
            if time.monotonic() > deadline:
                raise RuntimeError(f"no listening line:\n{self.stderr()}")
        self.wait_healthy(deadline - time.monotonic())
        return self

    def wait_healthy(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"{self.url}/health", timeout=2)
                if r.status_code == 200:
                    return r.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the frozen backend never became healthy:\n{self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stop(self) -> int | None:
        """SIGTERM, as the shell stops it; the whole session if it outstays 20 s."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode
