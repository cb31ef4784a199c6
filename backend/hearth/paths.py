"""Where things live: the user data dir, and resources bundled in source or frozen form."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("Hearth", appauthor=False))


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def package_dir() -> Path:
    """The `hearth` package folder; inside a PyInstaller bundle it sits under `_MEIPASS`."""
    if is_frozen():
        return Path(sys._MEIPASS) / "hearth"  # type: ignore[attr-defined]
    return Path(__file__).resolve().parent


def data_file(name: str) -> Path:
    """A JSON file shipped with the backend (catalogue, runtime registry)."""
    return package_dir() / "data" / name


def frontend_dir() -> Path | None:
    """The built UI: bundled next to the package when frozen, `frontend/dist` in a checkout."""
    candidates = [package_dir() / "frontend"]
    if not is_frozen():
        candidates.append(package_dir().parents[1] / "frontend" / "dist")
    for path in candidates:
        if (path / "index.html").is_file():
            return path
    return None
