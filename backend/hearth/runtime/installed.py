"""Runtime folders under `<data>/runtimes/`: their manifest, listing, removal, leftovers.

A runtime folder is complete exactly when its manifest is there: staging unpacks into a hidden
`.staging-*` folder and renames it into place with the manifest already inside. Standard library
only, because bootstrap reads manifests before anything heavy is imported.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = "hearth-runtime.json"
FORMAT = 1
STAGING_PREFIX = ".staging-"
UPLOADS = ".uploads"
DOWNLOADS = "downloads"
_FOLDER = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
# The CUDA libraries llama.dll/libllama.so links against, in load order (cudart first: the
# others need it). Other files in the nvidia wheels (nvblas, static stubs) are not loaded.
_PRELOAD_ORDER = ("libcudart.so", "libcublasLt.so", "libcublas.so")


@dataclass(frozen=True)
class InstalledRuntime:
    folder: str
    variant: str
    kind: str
    version: str  # llama-cpp-python
    python: str
    platform: str
    artifacts: tuple[dict[str, Any], ...]
    preload: tuple[str, ...] = ()  # shared libraries to load first, relative to the folder
    dll_dirs: tuple[str, ...] = ()  # Windows: folders for os.add_dll_directory, relative
    installed_at: float = 0.0
    source: str = "download"  # download | pack
    probe: dict[str, Any] | None = None
    path: Path = field(default=Path(), compare=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        data["format"] = FORMAT
        data["artifacts"] = [dict(a) for a in self.artifacts]
        data["preload"] = list(self.preload)
        data["dll_dirs"] = list(self.dll_dirs)
        return data

    def to_api(self, active_folder: str | None) -> dict[str, Any]:
        data = self.to_json()
        data.pop("format")
        data["id"] = self.folder
        data["path"] = str(self.path)
        data["active"] = self.folder == active_folder
        data["size_bytes"] = folder_size(self.path)
        return data


def valid_folder_name(name: str) -> bool:
    return bool(_FOLDER.match(name))


def read_manifest(folder: Path) -> InstalledRuntime | None:
    """The runtime in `folder`, or None when it is not a complete runtime folder."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    try:
        return InstalledRuntime(
            folder=folder.name,
            variant=str(data["variant"]),
            kind=str(data["kind"]),
            version=str(data["version"]),
            python=str(data.get("python", "")),
            platform=str(data.get("platform", "")),
            artifacts=tuple(dict(a) for a in data.get("artifacts", [])),
            preload=tuple(str(p) for p in data.get("preload", [])),
            dll_dirs=tuple(str(p) for p in data.get("dll_dirs", [])),
            installed_at=float(data.get("installed_at", 0.0)),
            source=str(data.get("source", "download")),
            probe=data.get("probe") if isinstance(data.get("probe"), dict) else None,
            path=folder,
        )
    except (KeyError, TypeError, ValueError):
        return None


def write_manifest(runtime: InstalledRuntime, folder: Path | None = None) -> None:
    from hearth.runtime.switch import write_json_atomic

    write_json_atomic((folder or runtime.path) / MANIFEST, runtime.to_json())


def record_probe(runtime: InstalledRuntime, probe: dict[str, Any]) -> InstalledRuntime:
    """Keep the probe's result with the runtime it measured."""
    updated = replace(runtime, probe=probe)
    write_manifest(updated)
    return updated


def list_installed(root: Path) -> list[InstalledRuntime]:
    if not root.is_dir():
        return []
    found = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and valid_folder_name(child.name):
            runtime = read_manifest(child)
            if runtime is not None:
                found.append(runtime)
    return found


def find_installed(root: Path, folder: str) -> InstalledRuntime | None:
    if not valid_folder_name(folder):
        return None
    return read_manifest(root / folder)


def free_folder_name(root: Path, base: str) -> str:
    """`base`, or `base-2`, `base-3`... whichever does not exist yet."""
    name, n = base, 1
    while (root / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def remove_tree(path: Path) -> None:
    """Delete a folder; on failure (a DLL still loaded on Windows) log and leave it."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("could not remove %s: %s", path, exc)


def remove_leftovers(root: Path) -> list[str]:
    """Half-staged folders and uploads a crash or a kill left behind."""
    removed: list[str] = []
    if not root.is_dir():
        return removed
    for child in root.iterdir():
        if child.name.startswith(STAGING_PREFIX) or child.name == UPLOADS:
            remove_tree(child)
            removed.append(child.name)
    return removed


def native_libraries(folder: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(libraries to preload on Linux, DLL folders on Windows) found in unpacked nvidia wheels."""
    nvidia = folder / "nvidia"
    if not nvidia.is_dir():
        return (), ()
    preload: list[str] = []
    for prefix in _PRELOAD_ORDER:
        for lib in sorted(nvidia.glob(f"*/lib/{prefix}*")):
            # libcublas.so.12 but not libcublasLt.so.12 when looking for libcublas.so
            rest = lib.name[len(prefix) :]
            if rest == "" or rest.startswith("."):
                preload.append(lib.relative_to(folder).as_posix())
                break
    dll_dirs = sorted(
        d.relative_to(folder).as_posix()
        for d in nvidia.glob("*/bin")
        if d.is_dir() and any(d.glob("*.dll"))
    )
    if sys.platform == "win32":
        return (), tuple(dll_dirs)
    return tuple(preload), tuple(dll_dirs)


def folder_size(path: Path) -> int:
    total = 0
    for file in path.rglob("*"):
        try:
            if file.is_file() and not file.is_symlink():
                total += file.stat().st_size
        except OSError:
            continue
    return total
