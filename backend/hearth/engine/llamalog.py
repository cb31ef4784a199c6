"""Capture llama.cpp's own log lines, so a failed load can say *why* it failed."""

from __future__ import annotations

import collections
import ctypes
import logging
import threading

log = logging.getLogger("hearth.llama")

_lines: collections.deque[str] = collections.deque(maxlen=200)
_lock = threading.Lock()
_state: dict[str, object] = {}

# llama-cpp-python (verbose=False) points fds 1 and 2 at /dev/null while it loads a model or
# makes a context, then points them back at what it saw before. That is process-wide: two loads
# at once (a chat model and the embedder) could leave stdout and stderr at /dev/null for good,
# and the backend's log and announcements with them. So every load in this process holds this.
LOAD_LOCK = threading.RLock()


def install(verbose: bool) -> None:
    """Route llama.cpp logging through us (idempotent; keeps the callback alive)."""
    import llama_cpp

    _state["verbose"] = verbose
    if "callback" in _state:
        return

    @llama_cpp.llama_log_callback
    def _callback(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
        line = text.decode("utf-8", errors="replace")
        with _lock:
            _lines.append(line)
        if _state.get("verbose"):
            log.info(line.rstrip())

    _state["callback"] = _callback  # a collected callback would crash llama.cpp
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


def mark() -> int:
    with _lock:
        _lines.append("\x00mark")
        return len(_lines)


def since_mark() -> str:
    with _lock:
        items = list(_lines)
    for i in range(len(items) - 1, -1, -1):
        if items[i] == "\x00mark":
            return "".join(items[i + 1 :])
    return "".join(items)


# The person's file is at fault (4xx: another file will do) or the machine's memory is short
# right now (503); any other load failure stays Hearth's own (500).
LOAD_FAILURE_STATUS = {"unknown_architecture": 422, "corrupt_model": 422, "out_of_memory": 503}


def classify_load_failure(log_text: str) -> tuple[str, str]:
    """Map llama.cpp's load log to (code, human message). Pure; table-tested."""
    text = log_text.lower()
    if "unknown model architecture" in text:
        arch = _quoted_after(log_text, "unknown model architecture")
        return "unknown_architecture", (
            f"This model's architecture{f' ({arch})' if arch else ''} is not supported by the "
            "installed llama.cpp runtime."
        )
    oom_marks = ("out of memory", "failed to allocate", "cudamalloc failed", "unable to allocate")
    if any(m in text for m in oom_marks):
        return "out_of_memory", (
            "Not enough memory to load this model. Try fewer GPU layers, a smaller context, or a "
            "smaller quantization."
        )
    corrupt_marks = (
        "tensor data is not within",
        "failed to read",
        "invalid magic",
        "corrupt",
        "failed to load model",
        "wrong number of tensors",
        "data is not within",
    )
    if any(m in text for m in corrupt_marks):
        return "corrupt_model", "The model file is damaged or incomplete. Download it again."
    return "model_load_failed", "llama.cpp could not load this model."


def _quoted_after(text: str, marker: str) -> str | None:
    idx = text.lower().find(marker)
    if idx == -1:
        return None
    rest = text[idx + len(marker) :]
    start = rest.find("'")
    end = rest.find("'", start + 1)
    return rest[start + 1 : end] if start != -1 and end > start else None
