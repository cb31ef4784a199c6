"""Free-space checks before writing big files: the OS call is a parameter so tests can fake it."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Leave this much free after a write: a disk filled to the last byte breaks SQLite and the OS.
DEFAULT_RESERVE = 64 * 1024 * 1024

DiskUsage = Callable[[Path], Any]  # returns an object with a `.free` attribute, in bytes
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def space_shortfall(
    directory: Path,
    needed: int,
    *,
    disk_usage: DiskUsage = shutil.disk_usage,
    reserve: int = DEFAULT_RESERVE,
) -> str | None:
    """Why `needed` more bytes will not fit in `directory`, or None if they will."""
    free = int(disk_usage(directory).free)
    if needed + reserve <= free:
        return None
    return (
        f"Not enough disk space in {directory}: {format_bytes(needed)} needed, "
        f"{format_bytes(free)} free (Hearth keeps {format_bytes(reserve)} spare)"
    )


def is_out_of_space(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _NO_SPACE


def format_bytes(n: float) -> str:
    if abs(n) < 1024:
        return f"{n:.0f} B"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1024
        if abs(n) < 1024 or unit == "TB":
            break
    return f"{n:.1f} {unit}"
