"""Detection end to end: the fake nvidia-smi on PATH, a fake NVML, the real CPU and RAM probes."""

from __future__ import annotations

import pytest
from hearth.hardware import model
from hearth.hardware.detect import detect, probe_hardware
from hearth.hardware.model import Gpu, GpuProbe
from hearth.hardware.policy import combine, needs_nvidia_smi

from tests.backend.hardware.conftest import probes_with
from tests.backend.hardware.fakes.fake_nvml import FakeGpu, FakeNvml


def test_no_nvidia_anything(empty_path, no_nvml_probes, tmp_path):
    """What this machine (no GPU, no driver) reports: no GPU, with the reason of each source."""
    d = detect(tmp_path, app_version="0.1.0", probes=no_nvml_probes)
    gpu = d.profile.gpu
    assert gpu.status == model.NONE
    assert gpu.source == "none" and d.source == "none"
    assert "No NVIDIA GPU found" in gpu.reason
    assert "nvidia-smi not found on PATH" in gpu.reason
    assert "NVML library not found" in gpu.reason
    assert [p["status"] for p in gpu.probes] == [model.MISSING, model.MISSING]
    cpu = d.profile.cpu
    assert set(cpu.flags) == set(model.CPU_FLAGS)
    assert cpu.threads and cpu.threads >= 1
    assert d.profile.memory.total_bytes and d.profile.memory.total_bytes > 0
    assert d.profile.host.python_tag.startswith("cp3")


@pytest.mark.parametrize(
    ("scenario", "status", "source", "ccs", "cc_sources"),
    [
        ("rtx3060-535", model.FOUND, "nvidia-smi", ["8.6"], ["nvidia-smi"]),
        ("h100-570", model.FOUND, "nvidia-smi", ["9.0"], ["nvidia-smi"]),
        # Old driver, no NVML: the name table supplies the compute capability.
        ("gtx1060-470", model.FOUND, "nvidia-smi", ["6.1"], ["name-table"]),
        ("kepler-k40-470", model.FOUND, "nvidia-smi", ["3.5"], ["name-table"]),
        ("dual-3060-k80-470", model.FOUND, "nvidia-smi", ["8.6", "3.7"], ["name-table"] * 2),
        ("na-fields-t4", model.FOUND, "nvidia-smi", ["7.5"], ["name-table"]),
        ("exit9-driver", model.UNUSABLE, "none", [], []),
        ("version-mismatch", model.UNUSABLE, "none", [], []),
        ("garbage", model.UNUSABLE, "none", [], []),
        ("no-devices", model.NONE, "none", [], []),
    ],
)
def test_scenarios_without_nvml(
    fake_smi, no_nvml_probes, scenario, status, source, ccs, cc_sources
):
    fake_smi(scenario)
    gpu = probe_hardware(10, no_nvml_probes).gpu
    assert gpu.status == status, gpu.reason
    assert gpu.source == source
    assert [g.compute_capability for g in gpu.gpus] == ccs
    assert [g.compute_capability_source for g in gpu.gpus] == cc_sources


def test_hang_becomes_a_reason_within_the_timeout(fake_smi, no_nvml_probes):
    fake_smi("hang")  # sleeps for an hour: only the timeout can have ended it
    gpu = probe_hardware(0.5, no_nvml_probes).gpu
    assert gpu.status == model.UNUSABLE
    assert "did not answer within 0.5 s" in gpu.reason


def test_nvml_answering_fully_skips_nvidia_smi(fake_smi):
    smi = fake_smi("rtx4090-550")
    nvml = FakeNvml(
        gpus=[
            FakeGpu(
                "NVIDIA GeForce RTX 4090",
                "GPU-9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f",
                24564,
                20000,
                (8, 9),
            )
        ],
        driver="550.54.15",
        cuda=12040,
    )
    gpu = probe_hardware(10, probes_with(nvml)).gpu
    assert gpu.source == "nvml"
    assert gpu.gpus[0].memory_free_mib == 20000  # NVML's, not the fake nvidia-smi's 23987
    assert smi.calls() == []


def test_nvml_gap_is_filled_by_nvidia_smi_and_nvml_wins(fake_smi):
    """NVML cannot say the compute capability or the CUDA version: nvidia-smi runs, fills those
    two, and NVML's own answers (free memory) still win."""
    smi = fake_smi("rtx4090-550")
    nvml = FakeNvml(
        gpus=[
            FakeGpu(
                "NVIDIA GeForce RTX 4090",
                "GPU-9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f",
                24564,
                20000,
                None,
            )
        ],
        driver="550.54.15",
        cuda=None,
    )
    gpu = probe_hardware(10, probes_with(nvml)).gpu
    assert gpu.source == "nvml"
    assert gpu.gpus[0].memory_free_mib == 20000
    assert gpu.gpus[0].compute_capability == "8.9"
    assert gpu.gpus[0].compute_capability_source == "nvidia-smi"
    assert gpu.cuda_driver_version == "12.4"
    assert smi.calls()


def test_nvml_driver_not_loaded_and_nvidia_smi_exit_9(fake_smi):
    fake_smi("exit9-driver")
    from tests.backend.hardware.fakes import fake_nvml

    gpu = probe_hardware(
        10, probes_with(FakeNvml(init_error=fake_nvml.NVMLError_DriverNotLoaded))
    ).gpu
    assert gpu.status == model.UNUSABLE
    assert "driver is not loaded" in gpu.reason
    assert "exit 9" in gpu.reason


def _probe(source, status="ok", gpus=(), driver=None, cuda=None):
    return GpuProbe(source, status, f"{source} {status}", tuple(gpus), driver, cuda)


def test_combine_matches_gpus_by_uuid_not_index():
    nvml = _probe(
        "nvml",
        gpus=[Gpu(0, "NVIDIA GeForce RTX 3090", "GPU-a", 24576, 100, None)],
        driver="550.120",
    )
    smi = _probe(
        "nvidia-smi",
        gpus=[
            Gpu(0, "NVIDIA GeForce GTX 1080 Ti", "GPU-b", 11264, 11000, "6.1", "nvidia-smi"),
            Gpu(1, "NVIDIA GeForce RTX 3090", "GPU-a", 24576, 23000, "8.6", "nvidia-smi"),
        ],
        cuda="12.4",
    )
    merged = combine(nvml, smi)
    assert merged.gpus[0].compute_capability == "8.6"
    assert merged.gpus[0].memory_free_mib == 100
    assert (merged.driver_version, merged.cuda_driver_version) == ("550.120", "12.4")


def test_needs_nvidia_smi():
    full = _probe("nvml", gpus=[Gpu(0, "x", "GPU-x", 1, 1, "8.6")], driver="550", cuda="12.4")
    assert not needs_nvidia_smi(full)
    assert needs_nvidia_smi(_probe("nvml", status=model.MISSING))
    assert needs_nvidia_smi(_probe("nvml", gpus=[Gpu(0, "x")], driver="550", cuda="12.4"))
    assert needs_nvidia_smi(
        _probe("nvml", gpus=[Gpu(0, "x", "GPU-x", 1, 1, "8.6")], driver="550", cuda=None)
    )


def test_unknown_card_keeps_an_unknown_capability():
    merged = combine(_probe("nvidia-smi", gpus=[Gpu(0, "NVIDIA Mystery 9000")], driver="600"), None)
    assert merged.status == model.FOUND
    assert merged.gpus[0].compute_capability is None
    assert "compute capability unknown" in merged.reason
