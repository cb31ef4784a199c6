"""Strip debug symbols from the frozen backend's native libraries without breaking any of them.

Wheels ship many extension modules unstripped, some with full debug info (sqlalchemy's Cython
modules, PyYAML, httptools, pycryptodome's ciphers): about 18 MB of the onedir. binutils'
`strip` is safe on ordinary shared objects but not on libraries that auditwheel relocated with
patchelf (numpy.libs' OpenBLAS): there it rewrites the LOAD segments so that a segment's file
offset and address no longer agree modulo the page size, and the loader refuses the file ("ELF
load command address/offset not page-aligned"). So each library is stripped as a copy, and the
copy replaces it only when every LOAD segment is still aligned; otherwise it stays as it was.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
PT_LOAD = 1


def load_segments(header: bytes) -> list[tuple[int, int, int]]:
    """(file offset, virtual address, alignment) of each LOAD segment of a little-endian ELF64;
    [] for anything else. `header` holds the file's start, through its program headers."""
    if len(header) < 64 or header[:4] != ELF_MAGIC or header[4] != 2 or header[5] != 1:
        return []
    (phoff,) = struct.unpack_from("<Q", header, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
    segments = []
    for index in range(phnum):
        start = phoff + index * phentsize
        if start + 56 > len(header):
            break
        p_type, _flags, p_offset, p_vaddr = struct.unpack_from("<IIQQ", header, start)
        (p_align,) = struct.unpack_from("<Q", header, start + 48)
        if p_type == PT_LOAD:
            segments.append((p_offset, p_vaddr, p_align))
    return segments


def loadable(segments: list[tuple[int, int, int]]) -> bool:
    """What the dynamic loader demands of LOAD segments: offset ≡ address (mod alignment)."""
    if not segments:
        return False
    return all(align <= 1 or offset % align == vaddr % align for offset, vaddr, align in segments)


def _header(path: Path, size: int = 1 << 16) -> bytes:
    with path.open("rb") as file:
        return file.read(size)


def is_elf(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and _header(path, 4) == ELF_MAGIC


@dataclass
class StripReport:
    saved_bytes: int = 0
    stripped: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # file -> why it was left as it was


def strip_tree(folder: Path, skip: tuple[str, ...] = ()) -> StripReport:
    """Strip every ELF file under `folder` (Linux only) except those under `skip` (relative
    folder names); each copy is checked before it replaces the original."""
    report = StripReport()
    if not sys.platform.startswith("linux") or shutil.which("strip") is None:
        report.kept["*"] = "not Linux, or no `strip` on PATH"
        return report
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if relative.startswith(skip) or not is_elf(path):
            continue
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".strip-")
        os.close(fd)
        copy = Path(name)
        try:
            shutil.copy2(path, copy)
            done = subprocess.run(
                ["strip", "--strip-unneeded", str(copy)], capture_output=True, text=True
            )
            before, after = path.stat().st_size, copy.stat().st_size
            if done.returncode != 0:
                report.kept[relative] = f"strip failed: {done.stderr.strip()[:200]}"
            elif not loadable(load_segments(_header(copy))):
                report.kept[relative] = "stripping would misalign its LOAD segments (patchelf)"
            elif after < before:
                os.replace(copy, path)
                report.saved_bytes += before - after
                report.stripped.append(relative)
        finally:
            copy.unlink(missing_ok=True)
    return report
