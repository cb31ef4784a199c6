"""One-time sign-in codes for web mode (see hearth.api.session): issued at launch, printed in a
link's #fragment, each traded once for the token within a few minutes."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable

from hearth.errors import HearthError

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
            # Compare against every live code in constant time rather than a dict lookup, as
            # bytes: compare_digest refuses str with characters outside ASCII.
            given = code.encode("utf-8", "surrogatepass")
            match = next((c for c in self._codes if hmac.compare_digest(c.encode(), given)), None)
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
