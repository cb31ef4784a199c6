"""The NVML probe with an injected fake NVML object."""

from __future__ import annotations

import sys

import pytest
from hearth.hardware import model
from hearth.hardware.nvml import NvmlUnavailable, load_pynvml, nvml_driver_version, probe_nvml

from tests.backend.hardware.fakes import fake_nvml
from tests.backend.hardware.fakes.fake_nvml import FakeGpu, FakeNvml


def test_reads_every_fact():
    nvml = FakeNvml(
        gpus=[
            FakeGpu("NVIDIA GeForce RTX 3090", "GPU-aa", 24576, 23000, (8, 6)),
            FakeGpu("NVIDIA GeForce GTX 1080 Ti", "GPU-bb", 11264, 11000, (6, 1)),
        ],
        driver="550.120",
        cuda=12040,
    )
    probe = probe_nvml(lambda: nvml)
    assert probe.status == model.OK
    assert [
        (g.name, g.uuid, g.memory_total_mib, g.memory_free_mib, g.compute_capability)
        for g in probe.gpus
    ] == [
        ("NVIDIA GeForce RTX 3090", "GPU-aa", 24576, 23000, "8.6"),
        ("NVIDIA GeForce GTX 1080 Ti", "GPU-bb", 11264, 11000, "6.1"),
    ]
    assert (probe.driver_version, probe.cuda_driver_version) == ("550.120", "12.4")
    assert all(g.compute_capability_source == "nvml" for g in probe.gpus)
    assert nvml.initialized == 0, "nvmlShutdown must balance nvmlInit"


def test_blackwell_cuda_13():
    nvml = FakeNvml(
        gpus=[FakeGpu("NVIDIA GeForce RTX 5090", "GPU-cc", 32607, 31000, (12, 0))],
        driver="580.65.06",
        cuda=13000,
    )
    probe = probe_nvml(lambda: nvml)
    assert probe.gpus[0].compute_capability == "12.0"
    assert probe.cuda_driver_version == "13.0"


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (fake_nvml.NVMLError_LibraryNotFound, model.MISSING, "NVML library not found"),
        (fake_nvml.NVMLError_DriverNotLoaded, model.DRIVER_UNREACHABLE, "driver is not loaded"),
        (fake_nvml.NVMLError_NoPermission, model.FAILED, "no permission"),
        (fake_nvml.NVMLError, model.FAILED, "NVML failed to start"),
    ],
)
def test_init_failures(error, status, reason):
    probe = probe_nvml(lambda: FakeNvml(init_error=error))
    assert probe.status == status
    assert reason in probe.reason


def test_unsupported_calls_become_notes():
    nvml = FakeNvml(gpus=[FakeGpu("Tesla K80", "GPU-k80", 11441, 11000, None)], cuda=None)
    probe = probe_nvml(lambda: nvml)
    assert probe.status == model.OK
    assert probe.gpus[0].compute_capability is None
    assert probe.cuda_driver_version is None
    assert any("compute capability" in n for n in probe.notes)


def test_no_devices():
    probe = probe_nvml(lambda: FakeNvml(gpus=[]))
    assert probe.status == model.NO_DEVICES


def test_loader_failure_and_surprises_never_raise():
    def unavailable():
        raise NvmlUnavailable("pynvml (nvidia-ml-py) is not installed")

    assert probe_nvml(unavailable).status == model.MISSING

    class Exploding(FakeNvml):
        def nvmlDeviceGetCount(self):
            raise RuntimeError("boom")

    probe = probe_nvml(lambda: Exploding())
    assert probe.status == model.FAILED and "boom" in probe.reason


def test_driver_version_for_the_cheap_check():
    assert nvml_driver_version(lambda: FakeNvml(driver="535.1")) == "535.1"
    assert nvml_driver_version(fake_nvml.missing) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the dlopen pre-check is Linux")
def test_real_loader_fails_fast_without_a_driver():
    """On a machine without libnvidia-ml the real loader refuses before importing pynvml."""
    try:
        loaded = load_pynvml()
    except NvmlUnavailable as exc:
        assert "libnvidia-ml.so.1" in exc.reason
    else:  # a machine with an NVIDIA driver
        assert hasattr(loaded, "nvmlInit")
