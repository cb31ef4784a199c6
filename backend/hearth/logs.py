"""Logging to a rotating file in the data dir and to stderr."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(logs_dir: Path, level: str) -> Path:
    logs_dir.mkdir(parents=True, exist_ok=True)
    path = logs_dir / "hearth.log"
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_hearth", False):
            root.removeHandler(handler)
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=3, encoding="utf-8"
    )
    stderr_handler = logging.StreamHandler(sys.stderr)
    handlers: list[logging.Handler] = [file_handler, stderr_handler]
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._hearth = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    return path
