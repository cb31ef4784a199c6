"""Requests and generated tokens per minute, per key: a sliding one-minute window.

`admit` is asked before a request runs; `spend` is told the tokens an answer generated, through
`charge`, a context variable the security middleware sets for the request, so every route that
generates (chat, completions, documents) is counted by hearth.engine.generation in one place."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar

WINDOW_S = 60.0

# Told the completion tokens of each finished answer, while a request made with a key runs.
charge: ContextVar[Callable[[int], None] | None] = ContextVar("hearth_charge", default=None)


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._requests: dict[int, deque[float]] = {}
        self._tokens: dict[int, deque[tuple[float, int]]] = {}

    def admit(
        self, key_id: int, requests_per_minute: int | None, tokens_per_minute: int | None
    ) -> int | None:
        """None to go ahead (and the request is counted), else the seconds until it may."""
        now = self._clock()
        with self._lock:
            requests = self._requests.setdefault(key_id, deque())
            tokens = self._tokens.setdefault(key_id, deque())
            _prune(requests, now, lambda t: t)
            _prune(tokens, now, lambda e: e[0])
            waits = []
            if requests_per_minute is not None and len(requests) >= requests_per_minute:
                waits.append(requests[len(requests) - requests_per_minute] + WINDOW_S - now)
            if tokens_per_minute is not None:
                used = sum(n for _, n in tokens)
                if used >= tokens_per_minute:
                    waits.append(_until_below(tokens, used, tokens_per_minute) + WINDOW_S - now)
            if waits:
                return max(1, math.ceil(max(waits)))
            requests.append(now)
            return None

    def spend(self, key_id: int, tokens: int) -> None:
        if tokens <= 0:
            return
        with self._lock:
            self._tokens.setdefault(key_id, deque()).append((self._clock(), tokens))


def _prune(entries: deque, now: float, at: Callable) -> None:
    while entries and at(entries[0]) <= now - WINDOW_S:
        entries.popleft()


def _until_below(tokens: deque[tuple[float, int]], used: int, limit: int) -> float:
    """When enough of the window's tokens have aged out to be under the limit again."""
    for at, n in tokens:
        used -= n
        if used < limit:
            return at
    return tokens[-1][0]
