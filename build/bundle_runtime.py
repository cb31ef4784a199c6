"""Lay out the bundled CPU runtime of the frozen backend: `<bundle>/_internal/runtimes/cpu/`.

Used by backend.spec after PyInstaller has collected everything else. llama_cpp stays out of the
PyInstaller archive (docs/PROTOCOL.md, "Where llama_cpp comes from") so that a runtime folder put
first on sys.path really replaces it, Python files and native libraries alike.
"""

from __future__ import annotations

import compileall
import importlib.util
import logging
import os
import py_compile
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from runtime_wheels import sha256  # beside this file (build/)

log = logging.getLogger(__name__)

PACKAGE = "llama_cpp"
# Never imported by Hearth; it would need fastapi extras of its own (sse_starlette, ...).
SKIP_DIRS = {"server", "__pycache__"}
# OpenMP runtime the ggml libraries link against; absent from minimal Linux installs.
VENDORED_LINUX_LIBS = ("libgomp.so.1",)


@dataclass
class RuntimeLayout:
    """What assemble() put where, for the build log."""

    package: Path
    version: str
    libraries: list[str] = field(default_factory=list)
    symlinks: dict[str, str] = field(default_factory=dict)
    vendored: list[str] = field(default_factory=list)
    size_bytes: int = 0


def find_package(source: Path | None) -> Path:
    """The llama_cpp package folder: inside `source` (an unpacked wheel), or the importable one."""
    if source is not None:
        candidate = Path(source) / PACKAGE
        if not (candidate / "__init__.py").is_file():
            raise FileNotFoundError(f"no {PACKAGE} package in {source}")
        return candidate
    spec = importlib.util.find_spec(PACKAGE)  # locates it without loading the native library
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{PACKAGE} is not installed in {sys.executable}'s environment")
    return Path(next(iter(spec.submodule_search_locations)))


def package_version(package: Path) -> str:
    text = (package / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    if match is None:
        raise ValueError(f"no __version__ in {package / '__init__.py'}")
    return match.group(1)


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_DIRS or n.endswith((".pyc", ".pyo"))}


def dedupe_libraries(lib_dir: Path) -> dict[str, str]:
    """Wheels cannot hold symlinks, so libllama.so, .so.0 and .so.0.5.0 arrive as three copies.
    Keep the longest name (the real file in a CMake install) and link the others to it."""
    groups: dict[tuple[int, str], list[Path]] = {}
    for path in sorted(lib_dir.iterdir()):
        if path.is_file() and not path.is_symlink():
            groups.setdefault((path.stat().st_size, sha256(path)), []).append(path)
    links: dict[str, str] = {}
    for paths in groups.values():
        if len(paths) < 2:
            continue
        target = max(paths, key=lambda p: (len(p.name), p.name))
        for path in paths:
            if path != target:
                path.unlink()
                path.symlink_to(target.name)
                links[path.name] = target.name
    return links


def _ldd(library: Path) -> dict[str, str]:
    out = subprocess.run(["ldd", str(library)], capture_output=True, text=True, check=False).stdout
    found = {}
    for line in out.splitlines():
        match = re.match(r"\s*(\S+)\s+=>\s+(/\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def vendor_linux_libs(lib_dir: Path) -> list[str]:
    """Copy the system libraries in VENDORED_LINUX_LIBS that the ggml libraries need next to them
    (their RUNPATH is $ORIGIN), so the runtime loads on a machine without them."""
    needed: dict[str, str] = {}
    for library in sorted(lib_dir.glob("lib*.so*")):
        if not library.is_symlink():
            needed.update(_ldd(library))
    vendored = []
    for name in VENDORED_LINUX_LIBS:
        source = needed.get(name)
        if source and not (lib_dir / name).exists():
            shutil.copy2(Path(source).resolve(), lib_dir / name)
            vendored.append(name)
    return vendored


def _size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def assemble(package: Path, runtime_dir: Path) -> RuntimeLayout:
    """Copy `package` to `runtime_dir/llama_cpp` as plain files, with bytecode compiled ahead."""
    dest = runtime_dir / PACKAGE
    if dest.exists():
        shutil.rmtree(dest)
    runtime_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(package, dest, symlinks=True, ignore=_ignore)
    layout = RuntimeLayout(package=dest, version=package_version(dest))
    lib_dir = dest / "lib"
    if lib_dir.is_dir():
        if os.name == "posix":
            layout.symlinks = dedupe_libraries(lib_dir)
        if sys.platform.startswith("linux"):
            layout.vendored = vendor_linux_libs(lib_dir)
        layout.libraries = sorted(p.name for p in lib_dir.iterdir())
    # The bundle is read-only once installed, so Python could never cache bytecode there itself;
    # unchecked-hash pycs are used as they are, whatever the files' mtimes after packaging.
    ok = compileall.compile_dir(
        str(dest),
        quiet=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        raise RuntimeError(f"compiling {dest} failed")
    layout.size_bytes = _size(dest)
    return layout
