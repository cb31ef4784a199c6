"""build/bundle_runtime.py: the bundled CPU runtime's layout, on real files in tmp_path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.scripts import load_script

REPO = Path(__file__).resolve().parents[2]
bundle_runtime = load_script("bundle_runtime.py")

posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks are a POSIX layout")


def fake_package(root: Path, version: str = "0.3.36") -> Path:
    """A llama_cpp package as a wheel installs it: three copies of each versioned library."""
    package = root / "llama_cpp"
    (package / "lib").mkdir(parents=True)
    (package / "server").mkdir()
    (package / "__pycache__").mkdir()
    (package / "__init__.py").write_text(f'from .llama import *\n\n__version__ = "{version}"\n')
    (package / "llama.py").write_text("X = 1\n")
    (package / "server" / "app.py").write_text("import sse_starlette\n")
    (package / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"stale")
    for name in ("libllama.so", "libllama.so.0", "libllama.so.0.5.0"):
        (package / "lib" / name).write_bytes(b"llama" * 100)
    for name in ("libggml.so", "libggml.so.0", "libggml.so.0.25.3"):
        (package / "lib" / name).write_bytes(b"ggml" * 100)
    (package / "lib" / "libother.so").write_bytes(b"other")
    return package


def test_find_package_in_a_folder_and_its_version(tmp_path):
    package = fake_package(tmp_path)
    assert bundle_runtime.find_package(tmp_path) == package
    assert bundle_runtime.package_version(package) == "0.3.36"


def test_a_folder_without_the_package_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no llama_cpp package in"):
        bundle_runtime.find_package(tmp_path)


def test_a_package_without_a_version_is_a_clear_error(tmp_path):
    package = fake_package(tmp_path)
    (package / "__init__.py").write_text("from .llama import *\n")
    with pytest.raises(ValueError, match="no __version__"):
        bundle_runtime.package_version(package)


@posix_only
def test_identical_library_copies_become_links_to_the_longest_name(tmp_path):
    lib = fake_package(tmp_path) / "lib"
    links = bundle_runtime.dedupe_libraries(lib)
    assert links == {
        "libggml.so": "libggml.so.0.25.3",
        "libggml.so.0": "libggml.so.0.25.3",
        "libllama.so": "libllama.so.0.5.0",
        "libllama.so.0": "libllama.so.0.5.0",
    }
    assert os.readlink(lib / "libllama.so") == "libllama.so.0.5.0"  # relative: survives a move
    assert (lib / "libllama.so").read_bytes() == b"llama" * 100
    assert not (lib / "libother.so").is_symlink()
    assert not (lib / "libllama.so.0.5.0").is_symlink()


@posix_only
def test_assemble_copies_plain_files_without_the_server_and_compiles_bytecode(tmp_path):
    package = fake_package(tmp_path / "wheel")
    layout = bundle_runtime.assemble(package, tmp_path / "runtimes" / "cpu")
    dest = tmp_path / "runtimes" / "cpu" / "llama_cpp"
    assert layout.package == dest and layout.version == "0.3.36"
    assert not (dest / "server").exists(), "llama_cpp.server needs packages we do not ship"
    assert not (dest / "__pycache__" / "stale.cpython-311.pyc").exists()
    tag = sys.implementation.cache_tag
    assert (dest / "__pycache__" / f"__init__.{tag}.pyc").is_file()
    assert (dest / "__pycache__" / f"llama.{tag}.pyc").is_file()
    assert (dest / "lib" / "libllama.so").is_symlink()
    assert "libllama.so.0.5.0" in layout.libraries
    assert layout.size_bytes < 3 * 500 + 3 * 400 + 5 + 10_000  # one copy per library, plus .py/.pyc
    # Assembling again replaces the earlier copy instead of merging into it.
    (dest / "leftover.txt").write_text("x")
    bundle_runtime.assemble(package, tmp_path / "runtimes" / "cpu")
    assert not (dest / "leftover.txt").exists()
