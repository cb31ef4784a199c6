"""File helpers every part of Hearth shares: a file's sha256, and JSON replaced atomically.

Standard library only: the runtime bootstrap uses them before anything else is imported."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    """The file's sha256, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def write_json_atomic(
    path: Path, data: Any, *, indent: int | None = 2, durable: bool = True
) -> None:
    """Replace `path` with `data` so that a crash leaves the old file or the new, never half: a
    temporary file of its own in the same folder, then a rename. `durable` also syncs the file
    and the folder to the disk, for state that decides what runs next (the runtime switch,
    preferences); a cache that a power cut may lose (it costs a re-detection) skips that."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=indent)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; a no-op elsewhere)."""
    # The rename itself must reach the disk; Windows cannot open a directory for this.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_kind(path: Path) -> str | None:
    """ "file", "dir", or None when nothing usable is there. A path someone typed may be too
    long for the OS or unreadable, where Path.is_file() would raise (ENAMETOOLONG, EACCES)
    instead of answering: that is "nothing there" too."""
    import stat

    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):  # ValueError: an embedded NUL
        return None
    if stat.S_ISREG(mode):
        return "file"
    return "dir" if stat.S_ISDIR(mode) else None
