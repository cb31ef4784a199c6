"""First imports of the heavy packages (numpy, llama_cpp, chromadb), one thread at a time.

Nothing heavy loads before the server answers /health (cold start, bench/bench_coldstart.py),
so these packages are first imported later, from worker threads: a model load imports llama_cpp
and numpy, a document ingest chromadb and numpy. When two threads import packages that share
modules at the same moment, Python's import deadlock avoidance hands one of them the other's
half-initialised module, and CI saw "cannot import name 'NDArray' from partially initialized
module 'numpy._typing'". So every import that may be the first of a heavy package runs inside
`imports()`, under one lock; `warm_up()` imports numpy that way in the background once the
server is up, so that the first model load or ingest seldom waits for it.

What these imports leave behind lives as long as the process, so each outermost `imports()`
ends by moving every object there is into the collector's permanent generation (`settle`).
A full collection otherwise walks them all: about 67 ms here, holding the GIL, which stalls
the decode thread mid-answer for as long (docs/PARALLEL.md).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)

WARM_UP_DELAY_S = 2.0  # after startup: spawn -> /health takes under 1 s (bench_coldstart)

_lock = threading.RLock()  # reentrant: an import inside imports() may call code that nests it
_held = threading.local()


@contextlib.contextmanager
def imports() -> Iterator[None]:
    """Hold while importing anything that may pull in numpy, llama_cpp or chromadb."""
    with _lock:
        _held.depth = getattr(_held, "depth", 0) + 1
        try:
            yield
        finally:
            _held.depth -= 1
            if _held.depth == 0:
                settle()


def settle() -> None:
    """Leave every object there is now out of later full collections: the modules, classes
    and tables that imports and startup made, which live until the process ends. Garbage that
    is in a reference cycle at this moment is never freed; that is a one-off few kilobytes
    at most, as this runs only after startup and after the first import of a heavy package."""
    gc.freeze()


def held() -> bool:
    """Whether this thread is inside imports() (what the tests check every heavy import by)."""
    return getattr(_held, "depth", 0) > 0


def warm_up() -> threading.Thread:
    """Import numpy in a background thread, under the lock; a failure is left to the real use."""

    def run() -> None:
        try:
            with imports():
                import numpy  # noqa: F401
        except Exception:  # the model load or ingest that needs it reports the real error
            log.exception("warming up numpy failed")

    thread = threading.Thread(target=run, name="hearth-warm-up", daemon=True)
    thread.start()
    return thread
