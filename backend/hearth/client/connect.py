"""Reach a Hearth from a terminal command: a running one (--url), or one started in-process."""

from __future__ import annotations

import os
import secrets
from typing import Any

import httpx

from hearth.settings import Settings


def connect(url: str | None, settings: Settings, command: str) -> tuple[httpx.Client, Any]:
    """An authenticated client, and the in-process server to stop afterwards (or None)."""
    if url:
        token = settings.token or os.environ.get("HEARTH_TOKEN")
        if not token:
            raise SystemExit(f"hearth {command} --url needs the server's token in HEARTH_TOKEN")
        base, server = url.rstrip("/"), None
    else:
        from hearth.server import Server

        token = secrets.token_urlsafe(32)
        server = Server(settings.model_copy(update={"port": 0}), token)
        server.start_in_thread()
        if not server.wait_started():
            raise SystemExit("hearth: the backend did not start; see the log in the data folder")
        base = server.url
    client = httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=httpx.Timeout(600)
    )
    return client, server
