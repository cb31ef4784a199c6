"""Bootstrap in fresh interpreters (it changes sys.path and loads libraries, so never in the
test process): which llama_cpp gets imported, the CUDA preload, the revert rule's file edits."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hearth.runtime import installed
from hearth.runtime.switch import Marker, Pointer, StateFiles

from tests.backend.runtime.wheels import make_wheel
from tests.backend.server_process import REPO


def _python(code: str, **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={"PYTHONPATH": str(REPO / "backend"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _install(root: Path, tmp_path: Path, init: str, *, libs: dict[str, Path] | None = None) -> str:
    """A runtime folder as staging leaves it: an unpacked wheel plus its manifest."""
    from hearth.runtime.staging import unpack_wheel

    wheel = make_wheel(tmp_path / "wheels", "w", init)
    folder = root / "fake-0.3.36"
    unpack_wheel(wheel.path, folder)
    for rel, source in (libs or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, folder / rel)
    preload, dll_dirs = installed.native_libraries(folder)
    installed.write_manifest(
        installed.InstalledRuntime(
            folder=folder.name,
            variant="fake",
            kind="cuda",
            version="0.3.36",
            python="cp311",
            platform="linux_x86_64",
            artifacts=(),
            preload=preload,
            dll_dirs=dll_dirs,
            path=folder,
        )
    )
    return folder.name


def test_bootstrap_imports_nothing_heavy():
    loaded = _python(
        """
        import json, sys
        import hearth.runtime.bootstrap
        heavy = {"pydantic", "fastapi", "llama_cpp", "numpy", "httpx", "uvicorn"}
        print(json.dumps(sorted(heavy & set(sys.modules))))
        """
    )
    assert loaded == []


def test_the_active_runtime_is_imported_and_its_cuda_libraries_preloaded(tmp_path):
    if sys.platform != "linux":
        pytest.skip("the preload test copies a Linux shared library")
    import llama_cpp

    real_so = Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"
    root = tmp_path / "data" / "runtimes"
    folder = _install(
        root,
        tmp_path,
        "MARK = 'staged'\n",
        libs={"nvidia/cuda_runtime/lib/libcudart.so.12": real_so},
    )
    StateFiles(root).commit_switch(Pointer(folder, "fake", "cuda"), "job1")
    result = _python(
        f"""
        import json, sys
        from hearth.runtime import bootstrap
        boot = bootstrap.boot({str(tmp_path / "data")!r})
        import llama_cpp
        maps = open("/proc/self/maps").read()
        print(json.dumps({{
            "mark": llama_cpp.MARK, "file": llama_cpp.__file__, "first": sys.path[0],
            "boot": boot.to_dict(), "mapped": "libcudart.so.12" in maps,
        }}))
        """
    )
    assert result["mark"] == "staged"
    assert result["first"] == str(root / folder)
    assert result["mapped"] is True
    boot = result["boot"]
    assert (boot["runtime_id"], boot["kind"], boot["pending"], boot["attempts"]) == (
        "fake",
        "cuda",
        True,
        1,
    )
    assert boot["preloaded"] == [str(root / folder / "nvidia/cuda_runtime/lib/libcudart.so.12")]
    assert StateFiles(root).marker().attempts == 1  # counted before llama_cpp was imported


def test_without_a_pointer_the_environment_llama_cpp_is_used(tmp_path):
    import llama_cpp

    result = _python(
        f"""
        import json
        from hearth.runtime import bootstrap
        boot = bootstrap.boot({str(tmp_path / "data")!r})
        import llama_cpp
        print(json.dumps({{"file": llama_cpp.__file__, "id": boot.runtime_id}}))
        """
    )
    assert result == {"file": llama_cpp.__file__, "id": "cpu-bundled"}


def test_force_cpu_reverts_and_says_why(tmp_path):
    root = tmp_path / "data" / "runtimes"
    folder = _install(root, tmp_path, "MARK = 'staged'\n")
    StateFiles(root).commit_switch(Pointer(folder, "fake", "cuda"), "job1")
    (root / "last_job.json").write_text(
        json.dumps({"id": "job1", "state": "running", "stage": "restart_requested"})
    )
    result = _python(
        f"""
        import json
        from hearth.runtime import bootstrap
        boot = bootstrap.boot({str(tmp_path / "data")!r}, force_cpu=True)
        print(json.dumps(boot.to_dict()))
        """
    )
    assert result["runtime_id"] == "cpu-bundled"
    assert result["revert"]["code"] == "user_chose_cpu"
    files = StateFiles(root)
    assert files.pointer().bundled and files.marker() is None
    assert files.last_revert()["reason"] == "user chose CPU runtime"
    job = files.last_job()
    assert (
        job["state"] == "failed"
        and job["reverted_to_cpu"]
        and job["error"]["code"] == ("user_chose_cpu")
    )
    assert (root / folder).is_dir()  # the runtime stays installed; only the pointer moved


def test_read_only_boot_leaves_a_pending_activation_to_the_server(tmp_path):
    root = tmp_path / "data" / "runtimes"
    folder = _install(root, tmp_path, "MARK = 'staged'\n")
    StateFiles(root).commit_switch(Pointer(folder, "fake", "cuda"))
    before = (root / "pending.json").read_text()
    result = _python(
        f"""
        import json
        from hearth.runtime import bootstrap
        boot = bootstrap.boot({str(tmp_path / "data")!r}, apply_rules=False)
        print(json.dumps(boot.to_dict()))
        """
    )
    assert result["runtime_id"] == "cpu-bundled"
    assert (root / "pending.json").read_text() == before
    assert Marker.from_json(json.loads(before)).attempts == 0
