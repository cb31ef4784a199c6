"""The detection cache: reused while the fingerprint holds, re-detected (with a reason) when not."""

from __future__ import annotations

import json
import os

import pytest
from hearth.hardware import cache, model
from hearth.hardware.detect import detect

from tests.backend.hardware.conftest import probes_with
from tests.backend.hardware.fakes.fake_nvml import FakeGpu, FakeNvml


def _detect(data_dir, probes, **kwargs):
    kwargs.setdefault("app_version", "0.1.0")
    return detect(data_dir, timeout=10, probes=probes, **kwargs)


def test_second_start_reuses_the_cache_without_running_nvidia_smi(fake_smi, tmp_path):
    smi = fake_smi("rtx3060-535")
    probes = probes_with()
    first = _detect(tmp_path, probes)
    assert not first.cache.used
    assert first.cache.reason == "detected: no cache yet"
    calls_after_first = len(smi.calls())
    assert calls_after_first >= 2  # query and banner

    second = _detect(tmp_path, probes)
    assert second.cache.used, second.cache.reason
    assert second.cache.reason == "reused: fingerprint matches"
    assert len(smi.calls()) == calls_after_first
    assert second.profile.gpu == first.profile.gpu
    assert second.source == "nvidia-smi"


def test_cache_file_content(fake_smi, tmp_path):
    fake_smi("dual-3090-1080ti-550")
    folder = tmp_path / "data"
    d = _detect(folder, probes_with(), runtime_id="cpu-bundled")
    data = json.loads((folder / ".gpu_detection_cache.json").read_text())
    assert data["schema"] == cache.SCHEMA
    assert data["source"] == "nvidia-smi"
    assert isinstance(data["created_at"], float)
    assert data["fingerprint"] == {
        "driver_version": "550.120",
        "gpu_uuids": [
            "GPU-aa11bb22-cc33-dd44-ee55-ff6677889900",
            "GPU-0099ff88-ee77-dd66-cc55-bb44aa332211",
        ],
        "os": d.profile.host.os_id,
        "app_version": "0.1.0",
        "runtime": "cpu-bundled",
    }
    assert data["profile"]["gpu"]["gpus"][1]["compute_capability"] == "6.1"
    assert data["stamp"]["kind"] == "nvidia-smi"
    # Atomic write: nothing but the cache is left in the folder.
    assert [p.name for p in folder.iterdir()] == [".gpu_detection_cache.json"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"use_cache": False}, "detected: cache disabled (GPU_DETECTION_CACHE=false)"),
        ({"app_version": "0.2.0"}, "detected: app version changed (0.1.0 -> 0.2.0)"),
        (
            {"runtime_id": "cuda-12.4"},
            "detected: active runtime changed (cpu-bundled -> cuda-12.4)",
        ),
        ({"force": True}, "detected: refresh requested"),
    ],
)
def test_invalidation_by_settings(empty_path, tmp_path, change, reason):
    probes = probes_with()
    _detect(tmp_path, probes)
    again = _detect(tmp_path, probes, **change)
    assert not again.cache.used
    assert again.cache.reason == reason


def test_driver_change_seen_in_proc(empty_path, tmp_path):
    proc = tmp_path / "proc-nvidia-version"
    proc.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12\n")
    probes = probes_with(proc=proc)
    data = tmp_path / "data"
    _detect(data, probes)
    assert _detect(data, probes).cache.used
    proc.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5\n")
    after = _detect(data, probes)
    assert not after.cache.used
    assert after.cache.reason == "detected: NVIDIA driver changed"
    assert _detect(data, probes).cache.used


def test_driver_change_seen_through_nvml(empty_path, tmp_path):
    """Without /proc/driver/nvidia (WSL), NVML's driver version is the cheap check."""
    nvml = FakeNvml(gpus=[FakeGpu("NVIDIA GeForce RTX 4090", "GPU-1", 24564, 20000, (8, 9))])
    probes = probes_with(nvml)
    first = _detect(tmp_path, probes)
    assert first.profile.gpu.source == "nvml"
    assert _detect(tmp_path, probes).cache.used
    nvml.driver = "560.35.03"
    after = _detect(tmp_path, probes)
    assert after.cache.reason == "detected: NVIDIA driver changed"
    assert after.profile.gpu.driver_version == "560.35.03"


def test_driver_change_seen_through_nvidia_smi_mtime(fake_smi, tmp_path):
    smi = fake_smi("rtx4090-550")
    probes = probes_with()
    _detect(tmp_path, probes)
    assert _detect(tmp_path, probes).cache.used
    stat = smi.path.stat()
    os.utime(smi.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5 * 10**9))
    assert _detect(tmp_path, probes).cache.reason == "detected: NVIDIA driver changed"


def test_driver_installed_after_the_cache_was_written(fake_smi, tmp_path, monkeypatch):
    smi = fake_smi("rtx3060-535")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    probes = probes_with()
    first = _detect(tmp_path, probes)
    assert first.profile.gpu.status == model.NONE
    monkeypatch.setenv("PATH", str(smi.bin_dir))  # the driver is installed
    after = _detect(tmp_path, probes)
    assert after.cache.reason == "detected: NVIDIA driver changed"
    assert after.profile.gpu.status == model.FOUND


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "detected: cache file is corrupt"),
        (b"\xff\xfe\x00garbage", "detected: cache file is corrupt"),
        (b"[1, 2, 3]", "detected: cache file has another format"),
        (b'{"schema": "someone-else/7", "data": 1}', "detected: cache file has another format"),
        (
            json.dumps({"schema": cache.SCHEMA, "created_at": 1.0}).encode(),
            "detected: cache file is incomplete",
        ),
        (
            json.dumps(
                {
                    "schema": cache.SCHEMA,
                    "created_at": 1.0,
                    "source": "none",
                    "fingerprint": {},
                    "stamp": {},
                    "profile": {"gpu": {"status": "none"}},
                }
            ).encode(),
            "detected: cache file is incomplete",
        ),
    ],
)
def test_corrupt_or_foreign_cache_triggers_redetection(empty_path, tmp_path, content, reason):
    (tmp_path / cache.CACHE_FILE).write_bytes(content)
    d = _detect(tmp_path, probes_with())
    assert not d.cache.used
    assert d.cache.reason.startswith(reason)
    # ...and the re-detection replaced it with a good one.
    assert _detect(tmp_path, probes_with()).cache.used


def test_unwritable_data_dir_is_not_fatal(empty_path, tmp_path, caplog):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data dir should be")
    d = _detect(blocker, probes_with())
    assert d.profile.gpu.status == model.NONE
    assert "could not write" in caplog.text


def test_cache_age_and_fingerprint_are_reported(empty_path, tmp_path):
    clock = [1000.0]
    probes = probes_with()
    detect(tmp_path, app_version="0.1.0", probes=probes, clock=lambda: clock[0])
    reused = _detect(tmp_path, probes)
    report = reused.to_dict(now=1012.5)
    assert report["cache"]["age_s"] == 12.5
    assert report["cache"]["source"] == "none"
    assert report["cache"]["fingerprint"]["app_version"] == "0.1.0"


def test_a_later_start_uses_the_cache(empty_path, tmp_path):
    """Its speed (budget 5 ms) is bench/bench_detect.py's to print; tests never time things."""
    probes = probes_with()
    _detect(tmp_path, probes)
    _detect(tmp_path, probes)
    d = _detect(tmp_path, probes)
    assert d.cache.used
