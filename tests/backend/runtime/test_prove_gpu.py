"""build/prove-gpu's parts that need neither a GPU nor minutes: what it carries. Its whole run is
`build/prove-gpu run --cpu-only` here (about 12 minutes on 2 cores, most of it building
llama-bench) and `build/prove-gpu run` on a GPU machine; neither belongs in CI."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest

from tests.scripts import load_script

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def prove():
    return load_script("prove-gpu")


def test_the_carried_packages_are_the_versions_the_project_pins(prove):
    pins = {}
    for line in (REPO / "requirements-base.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[match[1].lower().replace("_", "-")] = match[2]
    carried = dict(p.split("==") for p in prove.PACKAGES)
    shared = set(carried) & set(pins)
    assert {"fastapi", "uvicorn", "pydantic", "sqlmodel", "gguf"} <= shared
    assert {name: carried[name] for name in shared} == {name: pins[name] for name in shared}


def test_the_source_is_trimmed_of_what_no_build_reads(prove, tmp_path):
    sdist = tmp_path / "llama_cpp_python-0.3.36.tar.gz"
    names = [
        "llama_cpp_python-0.3.36/pyproject.toml",
        "llama_cpp_python-0.3.36/.git/modules/vendor/llama.cpp/HEAD",
        "llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-llama.gguf",
        "llama_cpp_python-0.3.36/vendor/llama.cpp/tools/ui/index.html",
        "llama_cpp_python-0.3.36/vendor/llama.cpp/tools/llama-bench/llama-bench.cpp",
        "llama_cpp_python-0.3.36/vendor/llama.cpp/ggml/src/ggml.c",
    ]
    with tarfile.open(sdist, "w:gz") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    out = tmp_path / "src.tar.gz"
    prove.trim_source(sdist, out)
    with tarfile.open(out) as tar:
        kept = set(tar.getnames())
    assert kept == {names[0], names[4], names[5]}
