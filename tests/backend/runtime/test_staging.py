"""Staging pieces: where wheel members go, refusing hostile or broken zips, the CUDA libraries
found in nvidia wheels, packs, and the probe's verdict (pure, table-style)."""

from __future__ import annotations

import json
import zipfile
from pathlib import PurePosixPath

import pytest
from hearth.runtime import installed, staging
from hearth.runtime.probe import ChildRun, judge
from hearth.runtime.staging import StageError


@pytest.mark.parametrize(
    ("member", "target"),
    [
        ("llama_cpp/__init__.py", "llama_cpp/__init__.py"),
        ("llama_cpp/lib/libllama.so", "llama_cpp/lib/libllama.so"),
        (
            "x-1.0.data/platlib/nvidia/cublas/lib/libcublas.so.12",
            "nvidia/cublas/lib/libcublas.so.12",
        ),
        ("x-1.0.data/purelib/pkg/mod.py", "pkg/mod.py"),
        ("x-1.0.data/scripts/tool", None),
        ("x-1.0.data/headers/h.h", None),
    ],
)
def test_wheel_target(member, target):
    got = staging.wheel_target(member)
    assert got == (PurePosixPath(target) if target else None)


@pytest.mark.parametrize("member", ["../evil.py", "/etc/passwd", "a/../../b", "C:/x.dll"])
def test_hostile_members_are_refused(member):
    with pytest.raises(StageError) as err:
        staging.wheel_target(member)
    assert err.value.code == "bad_wheel"


def test_unpack_refuses_zip_slip_and_non_zips(tmp_path):
    evil = tmp_path / "evil.whl"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../outside.txt", "x")
    with pytest.raises(StageError) as err:
        staging.unpack_wheel(evil, tmp_path / "dest")
    assert err.value.code == "bad_wheel"
    assert not (tmp_path / "outside.txt").exists()

    junk = tmp_path / "junk.whl"
    junk.write_bytes(b"<html>not found</html>")
    with pytest.raises(StageError) as err:
        staging.unpack_wheel(junk, tmp_path / "dest2")
    assert err.value.code == "bad_wheel"


def test_corrupt_member_is_caught_by_its_crc(tmp_path):
    wheel = tmp_path / "w.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("llama_cpp/__init__.py", "A" * 1000)
    data = bytearray(wheel.read_bytes())
    data[data.index(b"AAAA")] = ord("B")
    wheel.write_bytes(bytes(data))
    with pytest.raises(StageError) as err:
        staging.unpack_wheel(wheel, tmp_path / "dest")
    assert err.value.code == "bad_wheel"


def test_native_libraries_are_found_in_load_order(tmp_path):
    for rel in (
        "nvidia/cublas/lib/libcublas.so.12",
        "nvidia/cublas/lib/libcublasLt.so.12",
        "nvidia/cublas/lib/libnvblas.so.12",
        "nvidia/cuda_runtime/lib/libcudart.so.12",
        "nvidia/cuda_runtime/bin/cudart64_12.dll",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    preload, dll_dirs = installed.native_libraries(tmp_path)
    assert preload == (
        "nvidia/cuda_runtime/lib/libcudart.so.12",
        "nvidia/cublas/lib/libcublasLt.so.12",
        "nvidia/cublas/lib/libcublas.so.12",
    )
    assert dll_dirs == ("nvidia/cuda_runtime/bin",)


def _pack(path, manifest, members):
    with zipfile.ZipFile(path, "w") as zf:
        if manifest is not None:
            zf.writestr(staging.PACK_MANIFEST, json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("manifest", "members"),
    [
        (None, {"artifacts/a.whl": b"x"}),
        ({"format": 9, "variant": "v", "artifacts": []}, {}),
        ({"format": 1, "variant": "v", "artifacts": [{"filename": "a.whl"}]}, {}),
        ({"format": 1, "artifacts": []}, {}),
    ],
)
def test_bad_packs_are_refused(tmp_path, manifest, members):
    with pytest.raises(StageError) as err:
        staging.read_pack(_pack(tmp_path / "p.zip", manifest, members))
    assert err.value.code == "bad_pack"


def test_a_file_that_is_no_zip_is_no_pack(tmp_path):
    path = tmp_path / "p.zip"
    path.write_text("hello")
    with pytest.raises(StageError) as err:
        staging.read_pack(path)
    assert err.value.code == "bad_pack"


def _run(tps, ok=True, code=None, message="ok", layers=0):
    return ChildRun(ok, code, message, {"tokens_per_s": tps, "offloaded_layers": layers})


@pytest.mark.parametrize(
    ("kind", "min_speedup", "new", "baseline", "ok", "code"),
    [
        ("cuda", 1.0, _run(90.0, layers=31), _run(30.0), True, None),
        ("cuda", 1.0, _run(29.0, layers=31), _run(30.0), False, "probe_slower"),
        (
            "cuda",
            1.0,
            _run(30.0, layers=31),
            _run(30.0),
            False,
            "probe_slower",
        ),  # equal isn't faster
        ("cpu", 1.05, _run(33.0), _run(30.0), True, None),
        ("cpu", 1.2, _run(33.0), _run(30.0), False, "probe_slower"),
        ("cpu", 0.0, _run(1.0), _run(30.0), True, None),  # a test registry's any-build bar
        ("cuda", 1.0, _run(0, False, "no_gpu_offload", "no"), None, False, "probe_no_gpu_offload"),
        ("cuda", 1.0, _run(0, False, "crashed", "SIGSEGV"), None, False, "probe_crashed"),
        ("cuda", 1.0, _run(0, False, "timeout", "slow"), None, False, "probe_timeout"),
        ("cuda", 1.0, _run(90.0), _run(0, False, "load_failed", "x"), False, "cpu_baseline_failed"),
    ],
)
def test_judge(kind, min_speedup, new, baseline, ok, code):
    verdict = judge(label="X", kind=kind, min_speedup=min_speedup, new=new, baseline=baseline)
    assert (verdict.ok, verdict.code) == (ok, code)
    if verdict.result:
        assert verdict.result["speedup"] == pytest.approx(
            new.data["tokens_per_s"] / baseline.data["tokens_per_s"], abs=1e-3
        )
