"""Live free VRAM for the planner: NVML first, nvidia-smi as the fallback."""

from __future__ import annotations

from hearth.engine.planner import MIB, ModelShape, plan_offload
from hearth.hardware.vram import free_vram_bytes

from tests.backend.hardware.conftest import probes_with
from tests.backend.hardware.fakes.fake_nvml import FakeGpu, FakeNvml


def test_from_nvml(empty_path):
    nvml = FakeNvml(
        gpus=[
            FakeGpu("NVIDIA GeForce RTX 3090", "GPU-a", 24576, 20000, (8, 6)),
            FakeGpu("NVIDIA GeForce GTX 1080 Ti", "GPU-b", 11264, 9000, (6, 1)),
        ]
    )
    assert free_vram_bytes(5, probes_with(nvml)) == [20000 * MIB, 9000 * MIB]


def test_from_nvidia_smi(fake_smi):
    fake_smi("rtx3060-535")
    assert free_vram_bytes(5, probes_with()) == [11795 * MIB]


def test_no_gpu(empty_path):
    assert free_vram_bytes(5, probes_with()) is None


def test_free_memory_not_reported(fake_smi):
    fake_smi("na-fields-t4")
    assert free_vram_bytes(5, probes_with()) is None


def test_feeds_the_planner(fake_smi):
    fake_smi("rtx3060-535")
    shape = ModelShape.uniform(
        32, 128 * MIB, output_bytes=256 * MIB, n_ctx=4096, n_embd=4096, n_head=32, n_head_kv=8
    )
    plan = plan_offload(shape, free_vram_bytes(5, probes_with()))
    assert plan.mode == "full"
