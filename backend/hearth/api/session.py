"""Web mode's sign-in: a one-time code, printed in a link's #fragment, traded once for the token.

The fragment never reaches a server or a log, and the page swaps the code for the token with a
POST, so the token itself never sits in a URL. POST /api/session is the one /api route that needs
no token (security.needs_token); a code works once and only for a few minutes.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from hearth.errors import HearthError

router = APIRouter(prefix="/api/session", tags=["session"])

CODE_TTL_S = 600.0
# At most this many live codes: each launch or "new link" adds one, and old ones age out.
MAX_CODES = 8


class SessionRefused(HearthError):
    code = "bad_session_code"
    status = 401


class SessionCodes:
    """One-time codes for the token; `clock` is injectable so tests need not wait."""

    def __init__(self, ttl_s: float = CODE_TTL_S, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, float] = {}  # code -> expiry

    def issue(self) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._drop_expired()
            while len(self._codes) >= MAX_CODES:
                self._codes.pop(next(iter(self._codes)))
            self._codes[code] = self._clock() + self.ttl_s
        return code

    def redeem(self, code: str) -> bool:
        """True once for a live code; the code is spent either way."""
        with self._lock:
            self._drop_expired()
            # Compare against every live code in constant time rather than a dict lookup.
            match = next((c for c in self._codes if hmac.compare_digest(c, code)), None)
            if match is None:
                return False
            del self._codes[match]
            return True

    def _drop_expired(self) -> None:
        now = self._clock()
        for code in [c for c, expiry in self._codes.items() if expiry <= now]:
            del self._codes[code]


def link(base_url: str, code: str) -> str:
    """The address the person opens; the code is in the fragment so it stays in the browser."""
    return f"{base_url.rstrip('/')}/#/auth/{code}"


class SessionBody(BaseModel):
    code: str = Field(min_length=1, max_length=200)


@router.post("")
def open_session(body: SessionBody, request: Request) -> dict[str, str]:
    codes: SessionCodes = request.app.state.session_codes
    if not codes.redeem(body.code):
        raise SessionRefused(
            "This sign-in link was already used or has expired. Open the newest link that "
            "Hearth printed in its terminal, or restart it for a new one."
        )
    return {"token": request.app.state.token}
