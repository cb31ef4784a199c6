"""Run the app under uvicorn on 127.0.0.1 and announce the port as one JSON line."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import sys
import threading

import uvicorn

from hearth.app import create_app
from hearth.engine.manager import EngineFactory
from hearth.settings import Settings

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never anything else: the API is for this machine only


def bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if sys.platform != "win32":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.set_inheritable(True)
    return sock


def token_for(settings: Settings) -> tuple[str, bool]:
    """The per-launch token, and whether we made it up (then the user must be told it)."""
    if settings.token:
        return settings.token, False
    return secrets.token_urlsafe(32), True


class _Uvicorn(uvicorn.Server):
    """Tells us once it is really accepting connections."""

    def __init__(self, config: uvicorn.Config, on_started):
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self._on_started()

    async def shutdown(self, sockets=None) -> None:
        await super().shutdown(sockets=sockets)
        # uvicorn re-raises a captured SIGTERM/SIGINT after shutting down, so the process would
        # die "by signal"; docs/PROTOCOL.md says a requested, clean shutdown exits 0.
        captured = getattr(self, "_captured_signals", None)
        if isinstance(captured, list):
            captured.clear()


class Server:
    """A uvicorn server on a socket we bound ourselves, so port 0 gives a real, known port."""

    def __init__(
        self,
        settings: Settings,
        token: str,
        *,
        announce: bool = False,
        factory: EngineFactory | None = None,
    ):
        self.settings = settings
        self.token = token
        self.sock = bind(settings.port)
        self.port: int = self.sock.getsockname()[1]
        self.app = create_app(settings, token, factory=factory)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
            lifespan="on",
        )
        self.uvicorn = _Uvicorn(config, self.announce if announce else lambda: None)
        self.restart_requested = False
        self.app.state.request_restart = self.request_restart

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def announce(self) -> None:
        # The pid: under `hearth serve` the server is the launcher's child, not the process the
        # caller started (tests kill this one to prove a crash loses nothing).
        print(json.dumps({"event": "listening", "port": self.port, "pid": os.getpid()}), flush=True)

    def run(self) -> None:
        self.uvicorn.run(sockets=[self.sock])

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="hearth-server", daemon=True)
        thread.start()
        return thread

    def wait_started(self, timeout: float = 60.0) -> bool:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.uvicorn.started:
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self.uvicorn.should_exit = True

    def request_restart(self) -> None:
        """Shut down gracefully (answers in flight are flushed), then `serve` exits with 75 so
        the supervisor respawns us (docs/PROTOCOL.md), e.g. onto a new runtime."""
        log.info("restart requested")
        self.restart_requested = True
        self.uvicorn.should_exit = True
