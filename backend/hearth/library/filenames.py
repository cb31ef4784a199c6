"""Which file names may become models in the models folder: a pure check, safe on every OS."""

from __future__ import annotations

from hearth.errors import BadRequest

MAX_NAME_LENGTH = 200
# Characters Windows refuses in a file name, plus both path separators.
_FORBIDDEN = set('<>:"/\\|?*')
# Names Windows reserves whatever the extension ("NUL.gguf" opens the null device).
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(10)}


def check_model_filename(name: str) -> str:
    """Return `name` if it is a plain `*.gguf` file name; raise BadRequest saying why not."""
    reason = _plain_refusal(name) or _model_refusal(name)
    if reason:
        raise BadRequest(f"Invalid model file name {name!r}: {reason}", code="bad_filename")
    return name


def check_plain_filename(name: str) -> str:
    """Return `name` if it can be a file's name on every OS, as it is; else raise BadRequest."""
    reason = _plain_refusal(name)
    if reason:
        raise BadRequest(f"Invalid file name {name!r}: {reason}", code="bad_filename")
    return name


def _plain_refusal(name: str) -> str | None:
    if not name or not name.strip():
        return "it is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"it is longer than {MAX_NAME_LENGTH} characters"
    if any(c in _FORBIDDEN for c in name):
        return 'it contains a path separator or a character Windows forbids (<>:"/\\|?*)'
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "it contains a control character"
    if name.startswith("."):
        return "it starts with a dot (hidden and temporary files are reserved)"
    if name != name.strip():
        return "it starts or ends with a space"
    if name.endswith("."):
        return "it ends with a dot (Windows drops it)"
    if name.split(".", 1)[0].upper() in _RESERVED:
        return "it is a name Windows reserves for a device"
    return None


def _model_refusal(name: str) -> str | None:
    if not name.lower().endswith(".gguf") or len(name) == len(".gguf"):
        return "it must end in .gguf"
    return None
