"""build/strip_libraries.py: the LOAD-segment check (pure), and real libraries from .venv stripped
in tmp_path: one with debug info that still imports, one that `strip` would misalign (a stand-in
for strip does to it what binutils did to a patchelf'd OpenBLAS) and that must stay as it is."""

from __future__ import annotations

import hashlib
import importlib.util
import os
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


# What binutils' strip made of numpy.libs' OpenBLAS, which auditwheel had relocated with patchelf
# (the PyPI numpy wheel; Hearth's numpy has no OpenBLAS now): a LOAD segment whose file offset no
# longer agrees with its address. This stand-in for `strip`, first on PATH, does the same to
# whatever it is given, so the check runs on a real library wherever the test runs.
FAKE_STRIP = """#!{python}
import struct, sys
path = sys.argv[-1]
data = bytearray(open(path, "rb").read())
(phoff,) = struct.unpack_from("<Q", data, 0x20)
phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
loads = [phoff + i * phentsize for i in range(phnum)
         if struct.unpack_from("<I", data, phoff + i * phentsize)[0] == 1]
offset = struct.unpack_from("<Q", data, loads[-1] + 8)[0]
struct.pack_into("<Q", data, loads[-1] + 8, offset + 0x98)
open(path, "wb").write(bytes(data[: len(data) - 4096]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF libraries, on Linux")
def test_a_library_that_strip_would_misalign_is_left_as_it_was(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "strip"
    fake.write_text(FAKE_STRIP.format(python=sys.executable))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    original = _origin("mmh3")
    copy = tmp_path / "tree" / original.name
    copy.parent.mkdir()
    shutil.copy2(original, copy)
    report = strip_libraries.strip_tree(tmp_path / "tree")
    assert report.stripped == [] and report.saved_bytes == 0
    assert "misalign" in report.kept[original.name]
    assert _sha(copy) == _sha(original)
    assert [p.name for p in copy.parent.iterdir()] == [original.name], "no temporary left"


def test_skipped_folders_are_not_touched(tmp_path):
    lib = tmp_path / "runtimes" / "cpu" / "libx.so"
    lib.parent.mkdir(parents=True)
    lib.write_bytes(elf64([(LOAD, 0, 0, 0x1000)]))
    report = strip_libraries.strip_tree(tmp_path, skip=("runtimes/",))
    assert report.stripped == [] and report.saved_bytes == 0
    assert "runtimes/cpu/libx.so" not in report.kept
