"""Does a model fit this PC: the decision table with plain numbers, and the first-run pick."""

from __future__ import annotations

import pytest
from hearth.engine.planner import MIB, ModelShape
from hearth.library.fit import (
    CPU,
    FULL,
    GIB,
    PARTIAL,
    RAM_OVERHEAD_BYTES,
    RAM_RESERVE_BYTES,
    TOO_LARGE,
    Candidate,
    Fit,
    Machine,
    catalogue_shape,
    fit_shape,
    fit_size,
    recommend,
)

# The planner tests' 8B-class model: 32 layers of 128 MiB, a 256 MiB head, 16 MiB of f16 KV cache
# per layer at 4096 tokens; 4,864 MiB on a GPU in all. The file adds a 512 MiB token embedding
# that llama.cpp keeps in RAM.
EIGHT_B = ModelShape.uniform(
    32, 128 * MIB, output_bytes=256 * MIB, n_ctx=4096, n_embd=4096, n_head=32, n_head_kv=8
)
EIGHT_B_FILE = 32 * 128 * MIB + 256 * MIB + 512 * MIB  # 4,864 MiB
ROOMY_RAM = dict(ram_total_bytes=32 * GIB, ram_available_bytes=20 * GIB)


def fit(free: tuple[int, ...], **ram: int | None) -> Fit:
    return fit_shape(EIGHT_B, EIGHT_B_FILE, Machine(free, **ram), basis="gguf")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("label", "free", "ram", "mode", "layers"),
    [
        ("24 GiB card", (24 * GIB,), ROOMY_RAM, FULL, 32),
        ("6 GiB card: everything fits", (6 * GIB,), ROOMY_RAM, FULL, 32),
        ("5 GiB: headroom keeps two layers back", (5 * GIB,), ROOMY_RAM, PARTIAL, 30),
        ("3 GiB", (3 * GIB,), ROOMY_RAM, PARTIAL, 16),
        ("two cards share the layers", (4 * GIB, 4 * GIB), ROOMY_RAM, FULL, 32),
        ("600 MiB: not one layer", (600 * MIB,), ROOMY_RAM, CPU, 0),
        ("no GPU (or a CPU runtime)", (), ROOMY_RAM, CPU, 0),
        ("RAM unknown: never too large", (), {}, CPU, 0),
        ("4 GiB of RAM: too large on the CPU", (), dict(ram_total_bytes=4 * GIB), TOO_LARGE, 0),
        (
            "4 GiB of RAM is plenty with a full offload",
            (24 * GIB,),
            dict(ram_total_bytes=4 * GIB),
            FULL,
            32,
        ),
        (
            "partial: the CPU half must fit in RAM",
            (3 * GIB,),
            dict(ram_total_bytes=3 * GIB),
            TOO_LARGE,
            16,
        ),
    ],
)
def test_decision_table(label, free, ram, mode, layers):
    result = fit(free, **ram)
    assert (result.mode, result.layers_on_gpu) == (mode, layers), (label, result)
    assert result.n_layers == 32 and result.n_ctx == 4096 and result.basis == "gguf"


def test_the_numbers_behind_each_mode():
    full = fit((24 * GIB,), **ROOMY_RAM)
    # 4,864 MiB of weights and cache, plus 512 MiB of CUDA overhead.
    assert full.vram_bytes == (4864 + 512) * MIB
    # RAM keeps the token embedding (not offloaded) and the CPU buffers.
    assert full.ram_bytes == 512 * MIB + RAM_OVERHEAD_BYTES
    assert full.free_vram_bytes == 24 * GIB and full.fits_free_ram is True
    assert full.reason.startswith("All of it on the GPU")

    cpu = fit((), **ROOMY_RAM)
    assert cpu.vram_bytes == 0 and cpu.free_vram_bytes is None
    # All the weights, the cache for all 32 layers, the buffers.
    assert cpu.ram_bytes == EIGHT_B_FILE + 32 * 16 * MIB + RAM_OVERHEAD_BYTES
    assert cpu.reason.startswith("No GPU")

    partial = fit((3 * GIB,), **ROOMY_RAM)
    on_gpu = 16 * 128 * MIB
    assert partial.ram_bytes == EIGHT_B_FILE - on_gpu + 16 * 16 * MIB + RAM_OVERHEAD_BYTES
    assert "16 of 32 layers" in partial.reason
    assert set(partial.to_dict()) >= {"mode", "vram_bytes", "ram_bytes", "fits_free_ram", "reason"}


def test_too_large_boundary_is_total_ram_less_the_reserve():
    need = fit((), ram_total_bytes=64 * GIB).ram_bytes
    assert fit((), ram_total_bytes=need + RAM_RESERVE_BYTES).mode == CPU
    assert fit((), ram_total_bytes=need + RAM_RESERVE_BYTES - 1).mode == TOO_LARGE


def test_little_free_ram_is_a_warning_not_a_verdict():
    result = fit((), ram_total_bytes=16 * GIB, ram_available_bytes=2 * GIB)
    assert result.mode == CPU
    assert result.fits_free_ram is False
    assert "close other programs" in result.reason
    assert fit((), ram_total_bytes=16 * GIB).fits_free_ram is None


def test_loaded_model_vram_counts_as_free():
    machine = Machine((2 * GIB, 1 * GIB), 16 * GIB, 8 * GIB).with_vram_back(4 * GIB)
    assert machine.free_vram_bytes == (6 * GIB, 1 * GIB)
    assert Machine((), 1, 1).with_vram_back(4 * GIB).free_vram_bytes == ()


@pytest.mark.parametrize(
    ("free", "ram_total", "mode"),
    [
        ((8 * GIB,), 16 * GIB, FULL),  # 2 GiB x 1.2 fits the usable 7.1 GiB
        ((2 * GIB,), 16 * GIB, PARTIAL),  # 1.4 GiB usable of the 2.4 GiB needed
        ((512 * MIB,), 16 * GIB, CPU),  # the overhead alone eats it
        ((), 16 * GIB, CPU),
        ((), 3 * GIB, TOO_LARGE),  # 2.4 GiB + buffers > 3 GiB - 1 GiB
        ((), None, CPU),
    ],
)
def test_size_only_estimate(free, ram_total, mode):
    result = fit_size(2 * GIB, Machine(free, ram_total, None))
    assert result.mode == mode
    assert result.basis == "size" and result.layers_on_gpu is None and result.n_ctx is None


def test_catalogue_shape_spreads_the_bytes_and_caps_the_context():
    shape = catalogue_shape(
        800 * MIB, 32768, n_layers=16, n_embd=2048, n_head=32, n_head_kv=8, context_length=8192
    )
    assert shape.n_layers == 16 and shape.layer_bytes[0] == 50 * MIB and shape.output_bytes == 0
    assert shape.n_ctx == 8192
    # No KV heads given: no GQA, as many as the query heads.
    assert catalogue_shape(1, 4096, n_layers=1, n_embd=64, n_head=8).n_head_kv == 8
    full = fit_shape(shape, 800 * MIB, Machine((8 * GIB,), 16 * GIB, 8 * GIB), basis="catalogue")
    assert full.mode == FULL and full.basis == "catalogue"


def _candidate(name: str, size_gib: float, free: tuple[int, ...], avail: int | None) -> Candidate:
    size = int(size_gib * GIB)
    return Candidate(name, size, fit_size(size, Machine(free, 32 * GIB, avail)))


def test_recommend_the_largest_full_offload():
    gpu = (6 * GIB,)
    picks = [
        _candidate("small", 0.5, gpu, 16 * GIB),
        _candidate("medium", 2.0, gpu, 16 * GIB),
        _candidate("big", 5.0, gpu, 16 * GIB),  # partial on 6 GiB: not preferred
    ]
    assert recommend(picks) == "medium"


def test_recommend_on_the_cpu_leaves_half_the_free_ram():
    picks = [
        _candidate("small", 0.5, (), 6 * GIB),
        _candidate("medium", 2.0, (), 6 * GIB),  # 2.65 GiB of RAM <= 3 GiB
        _candidate("big", 3.0, (), 6 * GIB),  # 3.85 GiB > half of 6
    ]
    assert recommend(picks) == "medium"


def test_recommend_nothing_when_nothing_qualifies():
    assert recommend([]) is None
    assert recommend([_candidate("big", 3.0, (), 2 * GIB)]) is None
    too_large = Candidate("huge", 100 * GIB, fit_size(100 * GIB, Machine((), 16 * GIB, 8 * GIB)))
    assert too_large.fit.mode == TOO_LARGE and recommend([too_large]) is None
