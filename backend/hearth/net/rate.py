"""Transfer rate over a sliding window: pure, the clock is passed in."""

from __future__ import annotations

from collections import deque


class RateMeter:
    """Bytes per second over the last `window` seconds of samples."""

    def __init__(self, window: float = 5.0):
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def reset(self, now: float, done: int) -> None:
        self._samples.clear()
        self._samples.append((now, done))

    def update(self, now: float, done: int) -> float:
        """Record that `done` bytes were reached at `now`; return the current rate."""
        samples = self._samples
        samples.append((now, done))
        # Keep one sample older than the window so the span always covers it.
        while len(samples) > 2 and now - samples[1][0] >= self.window:
            samples.popleft()
        t0, d0 = samples[0]
        span = now - t0
        return (done - d0) / span if span > 0 else 0.0


def eta_seconds(done: int, total: int | None, rate: float) -> float | None:
    """Seconds left at the current rate, or None when it cannot be known."""
    if total is None:
        return None
    if done >= total:
        return 0.0
    return (total - done) / rate if rate > 0 else None
