"""The local API server: Hearth's API on a fixed port the person chose, so other programs (an
editor assistant, a script, an agent) can be set up once with `http://127.0.0.1:PORT/v1` and an
API key, across restarts. The UI's own listener (a random port and the per-launch token) is
unchanged. On the local network only when turned on and confirmed; then keys are required.

A second uvicorn server in the same process and event loop, over the same app: started and
stopped when the setting changes, without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import sys
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hearth.errors import Conflict
from hearth.files import write_json_atomic

log = logging.getLogger(__name__)

FILENAME = "api-server.json"
DEFAULT_PORT = 8484
LOOPBACK = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"


class ApiServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    enabled: bool = False
    port: int = Field(default=DEFAULT_PORT, ge=1024, le=65535)
    lan: bool = Field(default=False, description="Serve the local network, not only this PC")


def load(path: Path) -> ApiServerConfig:
    try:
        return ApiServerConfig.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ApiServerConfig()
    except (OSError, ValidationError, ValueError) as exc:
        log.warning("the local API server's settings in %s are unreadable (%s): off", path, exc)
        return ApiServerConfig()


def save(path: Path, config: ApiServerConfig) -> None:
    write_json_atomic(path, config.model_dump())


class _Quiet(uvicorn.Server):
    """The main server owns the process's signals; this one only follows its stop()."""

    def capture_signals(self):  # type: ignore[override]
        return contextlib.nullcontext()


class ApiListener:
    def __init__(self, app: Any):
        self.app = app
        self.config = ApiServerConfig()
        self.error: str | None = None  # why the configured server is not listening
        self._server: _Quiet | None = None
        self._task: asyncio.Task | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.started

    @property
    def lan_port(self) -> int | None:
        """The port that serves the local network, if one does."""
        return self.config.port if self.listening and self.config.lan else None

    async def apply(self, config: ApiServerConfig) -> None:
        """Listen as `config` says; a port another program holds is a Conflict (and nothing
        changes but this listener being off)."""
        await self.stop()
        self.config, self.error = config, None
        if not config.enabled:
            return
        host = ALL_INTERFACES if config.lan else LOOPBACK
        try:
            sock = _bind(host, config.port)
        except OSError as exc:
            self.error = (
                f"Port {config.port} is in use by another program; choose another."
                if exc.errno in (errno.EADDRINUSE, errno.EACCES)
                else f"Could not listen on port {config.port}: {exc.strerror or exc}"
            )
            raise Conflict(self.error, code="port_unavailable") from None
        server = _Quiet(
            uvicorn.Config(
                self.app,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=2,
            )
        )
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="hearth-api-server")
        for _ in range(200):  # until it accepts, or fails
            if server.started or self._task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            self.error = f"The local API server did not start on port {config.port}."
            await self.stop()
            raise Conflict(self.error, code="port_unavailable")
        log.info("local API server on %s:%d", host, config.port)

    async def stop(self) -> None:
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=5)

    def status(self) -> dict[str, Any]:
        return {
            **self.config.model_dump(),
            "listening": self.listening,
            "error": self.error,
            "base_url": f"http://{LOOPBACK}:{self.config.port}/v1",
            "lan_urls": [f"http://{a}:{self.config.port}/v1" for a in sorted(local_addresses())]
            if self.config.lan
            else [],
        }


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if sys.platform != "win32":  # a restart may find the old socket in TIME_WAIT
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def local_addresses() -> set[str]:
    """This machine's own IPv4 addresses (not loopback): the Host a LAN client sends."""
    import psutil

    return {
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    }
