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


def bundled_runtime_dir() -> Path | None:
    """The CPU llama.cpp runtime shipped inside the frozen app, kept as plain files (not in the
    PyInstaller archive) so that an upgraded runtime can stand in for it. None from source,
    where the virtual environment's llama_cpp is the bundled runtime."""
    if not is_frozen():
        return None
    return Path(sys._MEIPASS) / "runtimes" / "cpu"  # type: ignore[attr-defined]


def runtimes_dir(data_dir: Path) -> Path:
    """Where upgraded runtimes, the active pointer and the pending marker live."""
    return data_dir / "runtimes"
