"""Sizes of catalogue models whose entry does not give one, asked of their server and remembered.

A person choosing a model wants its size before the download, as LM Studio and Jan show it. The
catalogue pins sizes where they are known; for the others one HEAD request each tells: Hugging
Face answers its `resolve` URL with a redirect that carries `X-Linked-Size`, other servers with
`Content-Length`. Answers are kept in `<data>/catalogue-sizes.json`, so the next look at the
catalogue (and an offline one) shows them at once; a server that did not answer is asked again
only after RETRY_AFTER seconds, so an offline catalogue is never slow.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from hearth.files import write_json_atomic

log = logging.getLogger(__name__)

RETRY_AFTER = 600.0
HEAD_TIMEOUT = 5.0


def size_from(response: httpx.Response) -> int | None:
    """The file's size from a HEAD answer and the redirects before it. Pure."""
    for step in (*response.history, response):
        linked = step.headers.get("x-linked-size")
        if linked and linked.isdigit():
            return int(linked)
    length = response.headers.get("content-length")
    if response.status_code == 200 and length and length.isdigit() and int(length) > 0:
        return int(length)
    return None


class SizeCache:
    def __init__(
        self,
        path: Path,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.time,
    ):
        self.path = path
        self.client = client
        self.clock = clock
        self._known: dict[str, dict[str, Any]] = self._read()
        self._asking: dict[str, asyncio.Task[None]] = {}

    def size(self, url: str) -> int | None:
        entry = self._known.get(url)
        return entry.get("size") if entry else None

    async def fill(self, urls: Iterable[str], wait: float) -> None:
        """Ask for the sizes not known yet; return after at most `wait` seconds. Questions that
        take longer go on, and their answers are there for the next look."""
        for url in urls:
            if url not in self._asking and self._due(url):
                self._asking[url] = asyncio.create_task(self._ask(url))
        pending = list(self._asking.values())
        if pending:
            await asyncio.wait(pending, timeout=wait)

    async def aclose(self) -> None:
        tasks = list(self._asking.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _due(self, url: str) -> bool:
        entry = self._known.get(url)
        if entry is None:
            return True
        if entry.get("size") is not None:
            return False
        return self.clock() - float(entry.get("checked_at", 0)) >= RETRY_AFTER

    async def _ask(self, url: str) -> None:
        size = None
        try:
            response = await self.client.head(url, follow_redirects=True, timeout=HEAD_TIMEOUT)
            size = size_from(response)
        except httpx.HTTPError as exc:
            log.info("no size for %s: %s", url, exc)
        finally:
            self._asking.pop(url, None)
        self._known[url] = {"size": size, "checked_at": self.clock()}
        try:
            await asyncio.to_thread(write_json_atomic, self.path, self._known, durable=False)
        except OSError as exc:  # a cache: the catalogue works without it
            log.warning("could not keep catalogue sizes in %s: %s", self.path, exc)

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # absent or damaged: asked again, nothing lost
        if not isinstance(data, dict):
            return {}
        return {
            url: entry
            for url, entry in data.items()
            if isinstance(entry, dict) and isinstance(entry.get("size"), int | None)
        }
