"""Stop strings over a stream: emit text as soon as it cannot be the start of a stop string."""

from __future__ import annotations

from collections.abc import Sequence


class StopMatcher:
    def __init__(self, stops: Sequence[str]):
        self._stops = [s for s in stops if s]
        # Every stop, and every start of one, begins with one of these characters: text with
        # none of them is safe to emit whole, which is what nearly every token is. This runs on
        # the decode thread once per token, where it saves the full search below.
        self._firsts = frozenset(s[0] for s in self._stops)
        self._held = ""

    def feed(self, text: str) -> tuple[str, bool]:
        """Return (text safe to emit, whether a stop string was hit)."""
        if not self._stops:
            return text, False
        buf = self._held + text
        if self._firsts.isdisjoint(buf):
            self._held = ""
            return buf, False
        hits = [i for i in (buf.find(s) for s in self._stops) if i != -1]
        if hits:
            self._held = ""
            return buf[: min(hits)], True
        keep = _longest_partial_suffix(buf, self._stops)
        self._held = buf[len(buf) - keep :] if keep else ""
        return buf[: len(buf) - keep], False

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held


def _longest_partial_suffix(buf: str, stops: Sequence[str]) -> int:
    best = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(buf)), 0, -1):
            if buf.endswith(stop[:n]):
                best = max(best, n)
                break
    return best
