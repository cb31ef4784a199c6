"""`python -m hearth detect`: the readable table and the JSON document."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from hearth.hardware.report import detect_command, render_table
from hearth.hardware.service import HardwareService
from hearth.runtime.active import ActiveRuntime

from tests.backend.hardware.conftest import probes_with

RUNTIME = ActiveRuntime("cpu-bundled", "cpu", None, None, False, "cannot import llama_cpp: nope")


def _service(tmp_path) -> HardwareService:
    return HardwareService(tmp_path, "0.1.0", probes=probes_with(), runtime_reader=lambda: RUNTIME)


def test_json_says_no_gpu_with_reasons_and_cpu_flags(empty_path, tmp_path):
    out = io.StringIO()
    assert detect_command(True, tmp_path, "0.1.0", out=out, service=_service(tmp_path)) == 0
    doc = json.loads(out.getvalue())
    assert doc["hardware"]["gpu"]["status"] == "none"
    assert "nvidia-smi not found on PATH" in doc["hardware"]["gpu"]["reason"]
    assert doc["recommendation"]["code"] == "no_nvidia_gpu"
    assert set(doc["hardware"]["cpu"]["flags"]) == {"avx", "avx2", "avx512", "fma", "f16c"}


def test_table(fake_smi, tmp_path):
    fake_smi("dual-3090-1080ti-550")
    out = io.StringIO()
    detect_command(False, tmp_path, "0.1.0", out=out, service=_service(tmp_path))
    text = out.getvalue()
    assert text.startswith("Hearth hardware report\n")
    for fragment in (
        "CPU flags",
        "AVX2 ",
        "AVX-512 ",
        "550.120 (CUDA 12.4)",
        "NVIDIA GeForce GTX 1080 Ti",
        "6.1",
        "cannot import llama_cpp: nope",
        "Upgrade",
        "detected: no cache yet",
    ):
        assert fragment in text, fragment


def test_table_renders_a_minimal_document():
    doc = {
        "hardware": {
            "host": {
                "os": "windows",
                "os_release": "11",
                "platform_tag": "win_amd64",
                "python_version": "3.12.4",
                "python_tag": "cp312",
            },
            "cpu": {"model": None, "cores": None, "threads": 8, "flags": {}},
            "memory": {"total_bytes": None, "available_bytes": None},
            "gpu": {
                "reason": "No NVIDIA GPU found.",
                "driver_version": None,
                "probes": [],
                "gpus": [],
            },
        },
        "detection": {
            "source": "none",
            "duration_ms": 1.0,
            "cache": {"reason": "reused: fingerprint matches", "age_s": 3.0},
        },
        "runtime": {
            "id": "cpu-bundled",
            "kind": "cpu",
            "llama_cpp_version": "0.3.36",
            "supports_gpu_offload": False,
            "llama_cpp_path": None,
            "error": None,
        },
        "recommendation": {"upgrade": False, "code": "no_nvidia_gpu", "reason": "No GPU."},
    }
    text = render_table(doc)
    assert "AVX no" in text and "unknown total" in text and "3 s old" in text


def test_standalone_module_prints_json(tmp_path):
    """The same entry the CLI wires, as a process; on this machine it reports whatever it finds."""
    env = {**os.environ, "HEARTH_DATA_DIR": str(tmp_path), "PYTHONPATH": "backend"}
    result = subprocess.run(
        [sys.executable, "-m", "hearth.hardware.report", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))),
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["hardware"]["gpu"]["status"] in {"none", "found", "unusable"}
    assert doc["hardware"]["gpu"]["reason"]
    assert doc["recommendation"]["reason"]
    assert (tmp_path / ".gpu_detection_cache.json").is_file()
