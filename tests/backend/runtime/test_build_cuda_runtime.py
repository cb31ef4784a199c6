"""build/build-cuda-runtime's parts that need no compiler: the toolkit it assembles from PyPI
wheels, the pack it writes (read back by the app's own pack reader), and the registry pin under
the release base URL. The build itself takes an hour or more and never runs in CI; its real
output is tested by test_upgrade_e2e.py where it has been built."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest
from hearth.runtime import staging
from hearth.runtime.registry import load_registry

from tests.scripts import load_script

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "build" / "build-cuda-runtime"
REGISTRY = REPO / "backend" / "hearth" / "data" / "runtime-registry.json"


@pytest.fixture(scope="module")
def script():
    return load_script("build-cuda-runtime")


def test_the_toolkit_lock_holds_the_registrys_cuda_libraries(script):
    """cudart and cuBLAS that the build links are the files the app downloads beside it."""
    locked = script.lock_entries()
    assert set(locked) == {
        "nvidia-cuda-nvcc",
        "nvidia-nvvm",
        "nvidia-cuda-crt",
        "nvidia-cuda-cccl",
        "nvidia-cuda-runtime",
        "nvidia-cublas",
    }
    pinned = script.registry_artifacts(REGISTRY)
    for role, project in (("cuda-runtime", "nvidia-cuda-runtime"), ("cublas", "nvidia-cublas")):
        assert (pinned[role]["project"], pinned[role]["version"]) == (project, locked[project][0])
        assert pinned[role]["sha256"] == locked[project][1]


def test_the_pack_format_is_the_apps(script):
    assert (script.PACK_FORMAT, script.PACK_MANIFEST) == (
        staging.PACK_FORMAT,
        staging.PACK_MANIFEST,
    )


def _wheel(path: Path, files: dict[str, tuple[str, int]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, (text, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, text)
    return path


def test_the_toolkit_gets_what_nvcc_and_cmake_expect_of_an_installed_one(script, tmp_path):
    nvcc = "#!/bin/sh\necho 'Cuda compilation tools, release 13.0, V13.0.88'\n"
    wheels = [
        _wheel(tmp_path / "nvcc.whl", {"nvidia/cu13/bin/nvcc": (nvcc, 0o644)}),
        _wheel(
            tmp_path / "rt.whl",
            {
                "nvidia/cu13/lib/libcudart.so.13": ("elf", 0o644),
                "nvidia/cu13/include/cuda.h": ("/* */", 0o644),
                "nvidia_cuda_runtime-13.0.96.dist-info/METADATA": ("x", 0o644),
            },
        ),
    ]
    cuda = script.assemble_toolkit(wheels, tmp_path / "toolkit")
    assert cuda == tmp_path / "toolkit" / "nvidia" / "cu13"
    assert os.access(cuda / "bin" / "nvcc", os.X_OK)  # wheels lose the mode bits of tools
    assert (cuda / "lib64").resolve() == (cuda / "lib").resolve()
    assert os.readlink(cuda / "lib" / "libcudart.so") == "libcudart.so.13"
    assert not (tmp_path / "toolkit" / "nvidia_cuda_runtime-13.0.96.dist-info").exists()
    assert script.nvcc_version(cuda) == "13.0.88"


def test_the_pack_is_one_the_app_installs_and_the_pin_follows_the_release_url(script, tmp_path):
    wheel = _wheel(
        tmp_path / "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl",
        {"llama_cpp/__init__.py": ("", 0o644), "llama_cpp/lib/libggml-cuda.so": ("elf", 0o644)},
    )
    libraries = {
        "cuda-runtime": _wheel(tmp_path / "cudart.whl", {"a": ("cudart", 0o644)}),
        "cublas": _wheel(tmp_path / "cublas.whl", {"b": ("cublas", 0o644)}),
    }
    facts = {
        "version": "0.3.36",
        "cuda": "13.0",
        "nvcc": "13.0.88",
        "architectures": "90-real",
        "architectures_tag": "90_real",
        "source": "llama-cpp-python 0.3.36 sdist from PyPI",
        "llama_cpp": "0c1e57098bba43ac29e6e3b677cdceebdd22334f",
        "cmake_flags": ["-DGGML_CUDA=ON"],
        "build_seconds": 1.0,
        "cores": 2,
        "built_at": "2026-12-01T00:00:00Z",
        "files": script.file_list(wheel),
    }
    pack = script.write_pack(tmp_path, wheel, facts, libraries)
    assert pack.name == "hearth-runtime-cuda-13.0-90_real.zip"
    contents = staging.read_pack(pack)  # the reader behind "Install from file"
    assert contents.variant_id == "cuda-13.0"
    assert set(contents.members) == {wheel.name, "cudart.whl", "cublas.whl"}
    with zipfile.ZipFile(pack) as zf:
        manifest = json.loads(zf.read(staging.PACK_MANIFEST))
    assert manifest["build"]["architectures"] == "90-real" and manifest["build"]["cuda"] == "13.0"
    assert {f["path"] for f in manifest["files"]} == {
        "llama_cpp/__init__.py",
        "llama_cpp/lib/libggml-cuda.so",
    }

    registry = tmp_path / "registry.json"
    registry.write_text(REGISTRY.read_text())
    script.pin_registry(registry, wheel, facts)
    mirror = "https://mirror.example.org/hearth/"
    build = load_registry(registry, mirror).get("cuda-13.0").build_for("cp311", "linux_x86_64")
    llama = build.artifacts[0]
    assert llama.url == f"https://mirror.example.org/hearth/cuda-13.0-0.3.36/{wheel.name}"
    assert (llama.size, llama.sha256) == (wheel.stat().st_size, script.rw.sha256(wheel))
    assert build.pinned  # with the registry's cudart and cuBLAS pins beside it


def test_a_smoke_build_never_goes_into_the_shipped_registry(script, capsys):
    assert script.main(["--smoke", "--pin-registry"]) == 2
    assert "only the release architectures" in capsys.readouterr().err


def test_the_script_is_executable():
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text().startswith("#!/usr/bin/env python3\n")


def test_the_llama_cpp_commit_comes_from_the_sdists_git_data(script, tmp_path):
    import io
    import tarfile

    commit = "0c1e57098bba43ac29e6e3b677cdceebdd22334f"
    sdist = tmp_path / "llama_cpp_python-0.3.36.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        data = (commit + "\n").encode()
        info = tarfile.TarInfo("llama_cpp_python-0.3.36/.git/modules/vendor/llama.cpp/HEAD")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert script.llama_cpp_commit(sdist) == commit
    facts = script.source_facts(sdist)
    assert facts["llama_cpp"] == commit
    assert facts["source"] == f"{sdist.name}, sha256 {script.rw.sha256(sdist)}"


def _sdist(path: Path, text: str) -> Path:
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        data = text.encode()
        info = tarfile.TarInfo("llama_cpp_python-0.3.36/CMakeLists.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_a_resumed_build_finds_its_source_where_cmake_left_it(tmp_path):
    """CMake's kept build tree names its source folder: the sdist is unpacked once, to one place,
    and again only when it is another sdist or the last unpacking did not finish."""
    rw = load_script("runtime_wheels.py")
    into = tmp_path / "tree" / "src"
    first = rw.unpack_once(_sdist(tmp_path / "a.tar.gz", "one"), into)
    assert first == into / "llama_cpp_python-0.3.36"
    (first / "CMakeLists.txt").write_text("touched by the build")
    again = rw.unpack_once(tmp_path / "a.tar.gz", into)
    assert again == first and (again / "CMakeLists.txt").read_text() == "touched by the build"

    (into / ".unpacked").unlink()  # as a kill between extracting and the marker leaves it
    assert (rw.unpack_once(tmp_path / "a.tar.gz", into) / "CMakeLists.txt").read_text() == "one"
    other = rw.unpack_once(_sdist(tmp_path / "b.tar.gz", "two"), into)
    assert (other / "CMakeLists.txt").read_text() == "two"
