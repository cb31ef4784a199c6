"""The VRAM planner, table-style, and the step-down after an out-of-memory."""

from __future__ import annotations

import pytest
from hearth.engine.planner import (
    CPU,
    FULL,
    MIB,
    PARTIAL,
    ModelShape,
    gpu_bytes,
    kv_cache_bytes_per_layer,
    plan_offload,
    step_down,
)

GIB = 1024 * MIB

# An 8B-class model in round numbers: 32 layers of 128 MiB, a 256 MiB output head, GQA 32/8
# heads at n_embd 4096, so an f16 KV cache of 16 MiB per layer at 4096 tokens: 144 MiB a layer,
# 4,864 MiB for everything. Usable VRAM = 95 % of free - 512 MiB overhead.
EIGHT_B = ModelShape.uniform(
    32, 128 * MIB, output_bytes=256 * MIB, n_ctx=4096, n_embd=4096, n_head=32, n_head_kv=8
)
EIGHT_B_Q8_KV = ModelShape.uniform(
    32,
    128 * MIB,
    output_bytes=256 * MIB,
    n_ctx=4096,
    n_embd=4096,
    n_head=32,
    n_head_kv=8,
    kv_bytes_per_element=1.0625,
)
EIGHT_B_32K = ModelShape.uniform(
    32, 128 * MIB, output_bytes=256 * MIB, n_ctx=32768, n_embd=4096, n_head=32, n_head_kv=8
)


def test_kv_cache_size():
    assert EIGHT_B.kv_bytes_per_layer == 16 * MIB
    assert EIGHT_B_32K.kv_bytes_per_layer == 128 * MIB
    # Without GQA (n_head_kv == n_head) the cache is 4x larger.
    assert kv_cache_bytes_per_layer(4096, 4096, 32, 32) == 64 * MIB
    assert gpu_bytes(EIGHT_B, 32) == 4864 * MIB
    assert gpu_bytes(EIGHT_B, 31) == 31 * 144 * MIB  # no output head until every layer is in


@pytest.mark.parametrize(
    ("label", "shape", "free", "kwargs", "n_gpu_layers", "mode", "says"),
    [
        ("24 GiB card", EIGHT_B, 24 * GIB, {}, -1, FULL, "All 32 layers fit"),
        ("6 GiB card", EIGHT_B, 6 * GIB, {}, -1, FULL, "All 32 layers fit"),
        (
            "5 GiB: headroom keeps two layers back",
            EIGHT_B,
            5 * GIB,
            {},
            30,
            PARTIAL,
            "30 of 32 layers fit",
        ),
        ("2 GiB", EIGHT_B, 2 * GIB, {}, 9, PARTIAL, "9 of 32 layers fit"),
        ("640 MiB: overhead eats it", EIGHT_B, 640 * MIB, {}, 0, CPU, "Not enough free VRAM"),
        ("nothing free", EIGHT_B, 0, {}, 0, CPU, "Not enough free VRAM"),
        ("no GPU", EIGHT_B, None, {}, 0, CPU, "No GPU"),
        ("CPU runtime", EIGHT_B, 24 * GIB, {"gpu_offload": False}, 0, CPU, "cannot offload"),
        ("q8_0 KV cache fits one more", EIGHT_B_Q8_KV, 5 * GIB, {}, 31, PARTIAL, "31 of 32"),
        ("32k context on 24 GiB", EIGHT_B_32K, 24 * GIB, {}, -1, FULL, "All 32 layers fit"),
        ("32k context on 8 GiB", EIGHT_B_32K, 8 * GIB, {}, 28, PARTIAL, "28 of 32"),
        ("two 5 GiB cards", EIGHT_B, [5 * GIB, 5 * GIB], {}, -1, FULL, "All 32 layers fit"),
        ("override all", EIGHT_B, 2 * GIB, {"override": -1}, -1, FULL, "LLAMACPP_N_GPU_LAYERS=-1"),
        (
            "override 10 fits",
            EIGHT_B,
            2 * GIB,
            {"override": 10},
            10,
            PARTIAL,
            "LLAMACPP_N_GPU_LAYERS=10.",
        ),
        (
            "override 20 too big",
            EIGHT_B,
            2 * GIB,
            {"override": 20},
            20,
            PARTIAL,
            "may run out of memory",
        ),
        ("override 0", EIGHT_B, 24 * GIB, {"override": 0}, 0, CPU, "LLAMACPP_N_GPU_LAYERS=0"),
        (
            "override beyond the model",
            EIGHT_B,
            24 * GIB,
            {"override": 100},
            -1,
            FULL,
            "LLAMACPP_N_GPU_LAYERS=100",
        ),
        (
            "override without GPU runtime",
            EIGHT_B,
            None,
            {"override": 5, "gpu_offload": False},
            0,
            CPU,
            "LLAMACPP_N_GPU_LAYERS=5 has no effect",
        ),
        (
            "override without free VRAM info",
            EIGHT_B,
            None,
            {"override": 8},
            8,
            PARTIAL,
            "LLAMACPP_N_GPU_LAYERS=8.",
        ),
        (
            "more overhead",
            EIGHT_B,
            6 * GIB,
            {"overhead_bytes": 1536 * MIB},
            29,
            PARTIAL,
            "29 of 32",
        ),
    ],
)
def test_plan_table(label, shape, free, kwargs, n_gpu_layers, mode, says):
    plan = plan_offload(shape, free, **kwargs)
    assert (plan.n_gpu_layers, plan.mode) == (n_gpu_layers, mode), plan.reason
    assert says in plan.reason
    assert plan.n_layers == 32
    assert plan.source == ("override" if "override" in kwargs else "auto")
    if mode == CPU:
        assert plan.layers_on_gpu == 0 and plan.estimated_vram_bytes == 0
    else:
        assert plan.layers_on_gpu == (32 if mode == FULL else n_gpu_layers)
        assert plan.estimated_vram_bytes >= gpu_bytes(shape, plan.layers_on_gpu)


def test_estimate_includes_overhead_per_device():
    one = plan_offload(EIGHT_B, 24 * GIB)
    assert one.estimated_vram_bytes == (4864 + 512) * MIB
    two = plan_offload(EIGHT_B, [5 * GIB, 5 * GIB])
    assert two.estimated_vram_bytes == (4864 + 2 * 512) * MIB
    assert two.free_vram_bytes == 10 * GIB


def test_the_last_layers_are_offloaded_first():
    """llama.cpp puts layers n-k..n-1 on the GPU: a big last layer is what has to fit."""
    shape = ModelShape(
        layer_bytes=(100 * MIB, 100 * MIB, 100 * MIB, 400 * MIB),
        output_bytes=0,
        n_ctx=1,
        n_embd=64,
        n_head=1,
        n_head_kv=1,
    )
    plan = plan_offload(shape, 1000 * MIB, overhead_bytes=0, headroom_fraction=0.5)
    assert plan.layers_on_gpu == 1  # 400 fits in 500, 400 + 100 does not


def test_step_down_from_full():
    first = plan_offload(EIGHT_B, 24 * GIB)
    second = step_down(first, EIGHT_B)
    assert second is not None
    assert (second.n_gpu_layers, second.mode, second.source) == (16, PARTIAL, "oom-step-down")
    assert "Out of memory loading with 32 of 32 layers on the GPU; retrying with 16" in (
        second.reason
    )
    third = step_down(second, EIGHT_B)
    assert third is not None
    assert (third.n_gpu_layers, third.mode) == (0, CPU)
    assert "loading on the CPU only" in third.reason
    assert step_down(third, EIGHT_B) is None


@pytest.mark.parametrize(
    ("layers", "sequence"),
    [
        (9, [4, 0]),
        (2, [1, 0]),
        (1, [0]),
    ],
)
def test_step_down_from_partial(layers, sequence):
    plan = plan_offload(EIGHT_B, 24 * GIB, override=layers)
    seen = []
    while (plan := step_down(plan, EIGHT_B)) is not None:
        seen.append(plan.layers_on_gpu)
    assert seen == sequence
