"""What the security middleware asks about a request made with an API key: may this key call
this route now (role, rate limit), and the audit row once it is answered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.types import Message, Send

from hearth.keys import limits
from hearth.keys.limits import RateLimiter
from hearth.keys.roles import RouteRoles, allows
from hearth.keys.store import ApiKey, KeyStore, looks_like_key

log = logging.getLogger(__name__)

# (status, code, message, Retry-After seconds or None)
Refusal = tuple[int, str, str, int | None]


class KeyGate:
    def __init__(self, store: KeyStore, limiter: RateLimiter | None = None):
        self.store = store
        self.limiter = limiter or RateLimiter()
        self.roles = RouteRoles()

    def identify(self, secret: str) -> ApiKey | None:
        """The key this secret is, revoked or not; None for anything else."""
        return self.store.find(secret) if secret and looks_like_key(secret) else None

    def refusal(self, key: ApiKey, method: str, path: str) -> Refusal | None:
        needed = self.roles.needed(method, path)
        if not allows(key.role, needed):
            return (
                403,
                "forbidden",
                f"This API key's role ({key.role}) cannot use {method} {self.route(method, path)};"
                f" it needs a key with the {needed} role.",
                None,
            )
        wait = self.limiter.admit(key.id, key.requests_per_minute, key.tokens_per_minute)
        if wait is not None:
            return (
                429,
                "rate_limit_exceeded",
                f"This API key has used its requests or tokens for this minute; retry in {wait} s.",
                wait,
            )
        return None

    def route(self, method: str, path: str) -> str:
        """The route's template for the audit log: ids in a path are not the log's business."""
        found = self.roles.match(method, path)
        return found[0] if found else "(no such route)"

    def watch(self, key: ApiKey, method: str, path: str, send: Send) -> Send:
        """`send`, recording the audit row when the response starts (its status is known)."""

        async def watched(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start":  # after it: no delay to the answer
                await self.record(key, method, path, int(message["status"]))

        return watched

    async def record(self, key: ApiKey, method: str, path: str, status: int) -> None:
        try:
            await asyncio.to_thread(
                self.store.record, key.id, method, self.route(method, path), status
            )
        except Exception:  # the audit must never break the answer itself
            log.exception("could not write the API audit log")

    @contextlib.asynccontextmanager
    async def charging(self, key: ApiKey) -> AsyncIterator[None]:
        """While the request runs, answers' tokens count against this key's limit."""
        token = limits.charge.set(lambda n: self.limiter.spend(key.id, n))
        try:
            yield
        finally:
            limits.charge.reset(token)
