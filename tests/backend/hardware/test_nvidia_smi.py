"""The nvidia-smi probe against the fake program on PATH, one recorded scenario per row."""

from __future__ import annotations

import os

import pytest
from hearth.hardware import model
from hearth.hardware.nvidia_smi import find_nvidia_smi, nvidia_smi_stamp, probe_nvidia_smi


@pytest.mark.parametrize(
    ("scenario", "names", "ccs", "driver", "cuda"),
    [
        ("rtx3060-535", ["NVIDIA GeForce RTX 3060"], ["8.6"], "535.183.01", "12.2"),
        ("rtx4090-550", ["NVIDIA GeForce RTX 4090"], ["8.9"], "550.54.15", "12.4"),
        ("h100-570", ["NVIDIA H100 80GB HBM3"], ["9.0"], "570.124.06", "12.8"),
        ("rtx5090-580", ["NVIDIA GeForce RTX 5090"], ["12.0"], "580.65.06", "13.0"),
        ("rtx4070-win-551", ["NVIDIA GeForce RTX 4070"], ["8.9"], "551.86", "12.4"),
        # Drivers before R510 refuse compute_cap: the probe asks again without it.
        ("gtx1060-470", ["NVIDIA GeForce GTX 1060 6GB"], [None], "470.239.06", "11.4"),
        ("kepler-k40-470", ["Tesla K40m"], [None], "470.256.02", "11.4"),
        ("gtx1080-418", ["GeForce GTX 1080"], [None], "418.226.00", "10.1"),
        (
            "dual-3090-1080ti-550",
            ["NVIDIA GeForce RTX 3090", "NVIDIA GeForce GTX 1080 Ti"],
            ["8.6", "6.1"],
            "550.120",
            "12.4",
        ),
        (
            "dual-3060-k80-470",
            ["NVIDIA GeForce RTX 3060", "Tesla K80"],
            [None, None],
            "470.256.02",
            "11.4",
        ),
        ("na-fields-t4", ["Tesla T4"], [None], "535.104.05", "12.2"),
    ],
)
def test_real_cards(fake_smi, scenario, names, ccs, driver, cuda):
    smi = fake_smi(scenario)
    probe = probe_nvidia_smi(timeout=10)
    assert probe.status == model.OK, probe.reason
    assert [g.name for g in probe.gpus] == names
    assert [g.compute_capability for g in probe.gpus] == ccs
    assert (probe.driver_version, probe.cuda_driver_version) == (driver, cuda)
    queries = [c for c in smi.calls() if c.startswith("--query-gpu")]
    assert "compute_cap" in queries[0]
    if None in ccs and scenario != "na-fields-t4":
        assert len(queries) == 2 and "compute_cap" not in queries[1]
        assert "this driver's nvidia-smi has no compute_cap field" in probe.notes
    else:
        assert len(queries) == 1


@pytest.mark.parametrize(
    ("scenario", "status", "snippet"),
    [
        ("exit9-driver", model.DRIVER_UNREACHABLE, "could not communicate with the NVIDIA driver"),
        ("no-devices", model.NO_DEVICES, "found no NVIDIA GPU"),
        ("version-mismatch", model.DRIVER_UNREACHABLE, "Driver/library version mismatch"),
        ("garbage", model.UNEXPECTED_OUTPUT, "printed something unexpected"),
    ],
)
def test_failure_modes(fake_smi, scenario, status, snippet):
    fake_smi(scenario)
    probe = probe_nvidia_smi(timeout=10)
    assert probe.status == status
    assert snippet in probe.reason
    assert probe.gpus == ()


def test_hang_is_cut_at_the_timeout(fake_smi):
    fake_smi("hang")  # the fake sleeps far longer than any test runs: only the timeout ends it
    probe = probe_nvidia_smi(timeout=0.5)
    assert probe.status == model.TIMEOUT
    assert "did not answer within 0.5 s" in probe.reason


def test_missing_nvidia_smi(empty_path):
    # How fast this is, is bench/bench_detect.py's business; tests never time things.
    probe = probe_nvidia_smi(timeout=5)
    assert probe.status == model.MISSING
    assert probe.reason == "nvidia-smi not found on PATH"


def test_unrunnable_nvidia_smi(tmp_path, monkeypatch):
    broken = tmp_path / "nvidia-smi"
    broken.write_text("not a program\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    probe = probe_nvidia_smi(timeout=5)
    assert probe.status == model.FAILED
    assert "could not start" in probe.reason


def test_no_stamp_without_nvidia_smi(empty_path):
    assert nvidia_smi_stamp() is None


def test_stamp_changes_with_the_binary(fake_smi):
    smi = fake_smi("rtx3060-535")
    assert find_nvidia_smi() == str(smi.path)
    before = nvidia_smi_stamp()
    stat = smi.path.stat()
    os.utime(smi.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = nvidia_smi_stamp()
    assert before is not None and after is not None
    assert before[0] == after[0] and before != after
