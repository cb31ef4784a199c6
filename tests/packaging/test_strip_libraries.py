"""build/strip_libraries.py: the LOAD-segment check (pure), and real libraries from .venv stripped
in tmp_path: one with debug info that still imports, one patchelf'd that must stay as it is."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts import load_script

strip_libraries = load_script("strip_libraries.py")

linux_with_strip = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("strip") is None,
    reason="strips ELF files with binutils' strip, on Linux",
)


def elf64(segments: list[tuple[int, int, int, int]]) -> bytes:
    """A little-endian ELF64 header and program headers: (type, offset, vaddr, align) each."""
    phoff, phentsize = 64, 56
    header = bytearray(phoff + phentsize * len(segments))
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x20, phoff)
    struct.pack_into("<HH", header, 0x36, phentsize, len(segments))
    for index, (p_type, offset, vaddr, align) in enumerate(segments):
        start = phoff + index * phentsize
        struct.pack_into("<IIQQQQQQ", header, start, p_type, 5, offset, vaddr, vaddr, 1, 1, align)
    return bytes(header)


LOAD, NOTE = 1, 4


@pytest.mark.parametrize(
    ("segments", "loadable"),
    [
        ([(LOAD, 0, 0, 0x1000), (LOAD, 0x288800, 0x289800, 0x1000)], True),
        # What strip made of numpy.libs' patchelf'd OpenBLAS: offset and address disagree.
        ([(LOAD, 0, 0, 0x1000), (LOAD, 0x1621098, 0x166B000, 0x1000)], False),
        ([(LOAD, 0x1234, 0x1234, 0)], True),  # alignment 0/1: no constraint
        ([(NOTE, 0x10, 0x20, 0x1000), (LOAD, 0, 0, 0x1000)], True),  # only LOAD counts
        ([(NOTE, 0x10, 0x20, 0x1000)], False),  # nothing to load: not a usable library
        ([], False),
    ],
)
def test_loadable_wants_every_load_segment_aligned(segments, loadable):
    found = strip_libraries.load_segments(elf64(segments))
    assert len(found) == sum(1 for s in segments if s[0] == LOAD)
    assert strip_libraries.loadable(found) is loadable


@pytest.mark.parametrize(
    "data",
    [b"", b"not an elf file at all" * 4, b"\x7fELF\x01\x01" + bytes(60)],
    ids=["empty", "text", "elf32"],
)
def test_anything_but_a_little_endian_elf64_has_no_segments(data):
    assert strip_libraries.load_segments(data) == []


def _origin(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        pytest.skip(f"{module} is not installed")
    return Path(spec.origin)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@linux_with_strip
def test_a_library_with_debug_info_shrinks_and_still_imports(tmp_path):
    original = _origin("mmh3")  # a chromadb dependency, shipped with debug info
    shutil.copy2(original, tmp_path / original.name)
    (tmp_path / "README").write_text("not a library\n")
    report = strip_libraries.strip_tree(tmp_path)
    assert report.stripped == [original.name] and report.kept == {}
    assert (tmp_path / original.name).stat().st_size + report.saved_bytes == original.stat().st_size
    assert report.saved_bytes > 0
    done = subprocess.run(
        [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
         "import mmh3; print(mmh3.__file__, mmh3.hash('hearth'))", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(tmp_path))


@linux_with_strip
def test_a_patchelf_relocated_library_is_left_as_it_was(tmp_path):
    libs = _origin("numpy").parent.parent / "numpy.libs"
    openblas = next(libs.glob("libscipy_openblas*.so"), None)
    if openblas is None:
        pytest.skip(f"no OpenBLAS in {libs}")
    copy = tmp_path / "numpy.libs" / openblas.name
    copy.parent.mkdir()
    shutil.copy2(openblas, copy)
    report = strip_libraries.strip_tree(tmp_path)
    assert report.stripped == []
    assert "misalign" in report.kept[f"numpy.libs/{openblas.name}"]
    assert _sha(copy) == _sha(openblas)
    assert sorted(p.name for p in copy.parent.iterdir()) == [openblas.name], "no temporary left"


def test_skipped_folders_are_not_touched(tmp_path):
    lib = tmp_path / "runtimes" / "cpu" / "libx.so"
    lib.parent.mkdir(parents=True)
    lib.write_bytes(elf64([(LOAD, 0, 0, 0x1000)]))
    report = strip_libraries.strip_tree(tmp_path, skip=("runtimes/",))
    assert report.stripped == [] and report.saved_bytes == 0
    assert "runtimes/cpu/libx.so" not in report.kept
