"""Installed runtimes by hand: list, use, roll back, remove. Shared by the API and the CLI; each
change takes effect at the next boot (the API then asks for the respawn)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hearth import paths
from hearth.errors import Conflict, NotFound
from hearth.runtime import bootstrap, installed
from hearth.runtime.switch import BUNDLED_ID, Pointer, StateFiles


def _files(data_dir: Path) -> StateFiles:
    return StateFiles(paths.runtimes_dir(Path(data_dir)))


def list_runtimes(data_dir: Path) -> dict[str, Any]:
    files = _files(data_dir)
    pointer, marker = files.pointer(), files.marker()
    bundled_dir = paths.bundled_runtime_dir()
    runtimes = [
        {
            "id": BUNDLED_ID,
            "variant": BUNDLED_ID,
            "kind": "cpu",
            "path": str(bundled_dir) if bundled_dir else None,
            "active": pointer.bundled,
            "bundled": True,
            "probe": None,
        }
    ]
    for runtime in installed.list_installed(files.root):
        runtimes.append({**runtime.to_api(pointer.folder), "bundled": False})
    return {
        "active": pointer.folder or BUNDLED_ID,
        "running": bootstrap.current().to_dict(),
        "pending": marker.folder if marker else None,
        "runtimes": runtimes,
    }


def use_runtime(data_dir: Path, folder: str) -> Pointer:
    """Switch to an installed runtime that passed its probe, with the same pending activation
    (and automatic revert) as an upgrade."""
    files = _files(data_dir)
    if folder == BUNDLED_ID:
        return rollback(data_dir)
    runtime = installed.find_installed(files.root, folder)
    if runtime is None:
        raise NotFound(f"No installed runtime {folder!r}", code="runtime_not_found")
    if not (runtime.probe or {}).get("ok"):
        raise Conflict(
            f"{folder} never passed its probe; install it again with the upgrade.",
            code="runtime_unproven",
        )
    pointer = Pointer(runtime.folder, runtime.variant, runtime.kind)
    files.commit_switch(pointer)
    return pointer


def rollback(data_dir: Path) -> Pointer:
    """Back to the bundled CPU runtime; returns what was active before."""
    return _files(data_dir).rollback()


def remove_runtime(data_dir: Path, folder: str) -> dict[str, Any]:
    files = _files(data_dir)
    runtime = installed.find_installed(files.root, folder)
    if runtime is None:
        raise NotFound(f"No installed runtime {folder!r}", code="runtime_not_found")
    running = bootstrap.current().folder
    if files.pointer().folder == folder or (running is not None and running.name == folder):
        raise Conflict(
            f"{folder} is the active runtime; roll back to the CPU runtime first.",
            code="runtime_active",
        )
    size = installed.folder_size(runtime.path)
    installed.remove_tree(runtime.path)
    if runtime.path.exists():
        raise Conflict(f"{folder} could not be removed (files in use).", code="runtime_busy")
    return {"removed": folder, "freed_bytes": size}
