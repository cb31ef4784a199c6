"""Does a model fit this PC? (pure) Full GPU offload, partial offload, CPU, or too large.

The GPU side is the VRAM planner's (`engine.planner.plan_offload`), so a badge says what a load
would really do; the rest of the model, its KV cache for the layers left on the CPU and llama.cpp's
CPU buffers must then fit in RAM. Three bases, from best to roughest:

- "gguf": an installed file's header (every layer's real size);
- "catalogue": a downloadable model's byte size and its published shape (layers, heads), the
  bytes spread evenly over the layers;
- "size": the byte size alone, with the KV cache guessed as a share of the weights.

Numbers in, numbers out: the callers read the GPU, RAM and preferences (see api/models.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from hearth.engine.planner import (
    CPU,
    DEFAULT_HEADROOM_FRACTION,
    DEFAULT_OVERHEAD_BYTES,
    FULL,
    MIB,
    PARTIAL,
    ModelShape,
    plan_offload,
)

GIB = 1024 * MIB
TOO_LARGE = "too_large"
MODES = (FULL, PARTIAL, CPU, TOO_LARGE)

# The OS, the desktop and Hearth itself keep this much RAM whatever the model.
RAM_RESERVE_BYTES = 1 * GIB
# llama.cpp's CPU-side compute buffers and scratch, on top of the weights it maps.
RAM_OVERHEAD_BYTES = 256 * MIB
# Without a shape the KV cache is unknown; at 4K tokens it is 10-20 % of a Q4 model's weights
# (Llama 3.2 1B: 17 %, an 8B with GQA: 12 %), so the estimate takes the upper end.
KV_GUESS_FRACTION = 0.2
# A first-run recommendation on the CPU leaves half the free RAM to the person's other programs.
RECOMMEND_RAM_SHARE = 0.5


@dataclass(frozen=True)
class Machine:
    """What this PC offers a model now."""

    # Free bytes per GPU; empty when there is none, or the runtime cannot offload to it.
    free_vram_bytes: tuple[int, ...] = ()
    ram_total_bytes: int | None = None
    ram_available_bytes: int | None = None

    def with_vram_back(self, bytes_in_use: int) -> Machine:
        """As if Hearth's loaded model were ejected: its estimated VRAM counted free again, so
        a loaded model is not judged against the memory it holds itself."""
        if not self.free_vram_bytes or bytes_in_use <= 0:
            return self
        first, *rest = self.free_vram_bytes
        return Machine(
            (first + bytes_in_use, *rest), self.ram_total_bytes, self.ram_available_bytes
        )


@dataclass(frozen=True)
class Fit:
    mode: str  # full | partial | cpu | too_large
    basis: str  # gguf | catalogue | size
    n_ctx: int | None  # the context the estimate allows for (None: size basis)
    layers_on_gpu: int | None
    n_layers: int | None
    vram_bytes: int  # estimated on the GPU(s), overhead included
    ram_bytes: int  # estimated in RAM
    free_vram_bytes: int | None
    ram_total_bytes: int | None
    ram_available_bytes: int | None
    reason: str

    @property
    def fits_free_ram(self) -> bool | None:
        """Whether the RAM part fits in what is free now (None when unknown)."""
        if self.ram_available_bytes is None:
            return None
        return self.ram_bytes <= self.ram_available_bytes

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fits_free_ram": self.fits_free_ram}


def gib(value: int) -> str:
    return f"{value / GIB:,.1f} GiB"


def fit_shape(shape: ModelShape, file_bytes: int, machine: Machine, *, basis: str) -> Fit:
    """The planner's automatic offload for `shape`, then whether the rest fits in RAM."""
    frees = list(machine.free_vram_bytes)
    plan = plan_offload(shape, frees or None, gpu_offload=bool(frees))
    n, layers = shape.n_layers, plan.layers_on_gpu
    weights_on_gpu = sum(shape.layer_bytes[n - layers :]) if layers else 0
    if layers == n and n > 0:
        weights_on_gpu += shape.output_bytes
    ram = (
        max(0, file_bytes - weights_on_gpu)
        + (n - layers) * shape.kv_bytes_per_layer
        + RAM_OVERHEAD_BYTES
    )
    gpu_words = _gpu_words(plan.mode, layers, n, plan.estimated_vram_bytes, sum(frees))
    return _judge(
        plan.mode,
        basis=basis,
        n_ctx=shape.n_ctx,
        layers=layers,
        n_layers=n,
        vram=plan.estimated_vram_bytes,
        ram=ram,
        machine=machine,
        gpu_words=gpu_words,
    )


def fit_size(file_bytes: int, machine: Machine) -> Fit:
    """A rough fit from the byte size alone, for a catalogue model without a published shape."""
    need = int(file_bytes * (1 + KV_GUESS_FRACTION))
    frees = machine.free_vram_bytes
    usable = sum(
        max(0, int(f * (1 - DEFAULT_HEADROOM_FRACTION)) - DEFAULT_OVERHEAD_BYTES) for f in frees
    )
    overhead = DEFAULT_OVERHEAD_BYTES * len(frees)
    if frees and need <= usable:
        mode, vram, ram = FULL, need + overhead, RAM_OVERHEAD_BYTES
    elif usable > 0:
        mode, vram, ram = PARTIAL, usable + overhead, need - usable + RAM_OVERHEAD_BYTES
    else:
        mode, vram, ram = CPU, 0, need + RAM_OVERHEAD_BYTES
    gpu_words = _gpu_words(mode, None, None, vram, sum(frees))
    return _judge(
        mode,
        basis="size",
        n_ctx=None,
        layers=None,
        n_layers=None,
        vram=vram,
        ram=ram,
        machine=machine,
        gpu_words=gpu_words,
    )


def catalogue_shape(
    file_bytes: int,
    n_ctx: int,
    *,
    n_layers: int,
    n_embd: int,
    n_head: int,
    n_head_kv: int | None = None,
    context_length: int | None = None,
) -> ModelShape:
    """A planner shape for a model not downloaded yet. Its bytes are spread over the layers
    (embeddings and head included), which overstates the VRAM a little: llama.cpp keeps the
    token embeddings in RAM. Erring that way keeps "Full GPU offload" a promise."""
    n_ctx = min(n_ctx, context_length) if context_length else n_ctx
    return ModelShape.uniform(
        n_layers,
        file_bytes // max(n_layers, 1),
        output_bytes=0,
        n_ctx=n_ctx,
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=n_head_kv or n_head,
    )


def _gpu_words(mode: str, layers: int | None, n: int | None, vram: int, free: int) -> str:
    if mode == FULL:
        return f"all of it on the GPU: about {gib(vram)} of {gib(free)} free VRAM"
    if mode == PARTIAL:
        part = f"{layers} of {n} layers" if layers is not None else "part of it"
        return (
            f"{part} on the GPU (about {gib(vram)} of {gib(free)} free VRAM), the rest on the CPU"
        )
    if free > 0:
        return "not even one layer fits the free VRAM, so it runs on the CPU"
    return "no GPU it can use, so it runs on the CPU"


def _judge(
    mode: str,
    *,
    basis: str,
    n_ctx: int | None,
    layers: int | None,
    n_layers: int | None,
    vram: int,
    ram: int,
    machine: Machine,
    gpu_words: str,
) -> Fit:
    total, available = machine.ram_total_bytes, machine.ram_available_bytes
    reason = f"{gpu_words[0].upper()}{gpu_words[1:]}; about {gib(ram)} of RAM"
    if total is not None and ram > max(0, total - RAM_RESERVE_BYTES):
        mode = TOO_LARGE
        reason = (
            f"Needs about {gib(ram)} of RAM ({gpu_words}), more than this PC's "
            f"{gib(total)} less {gib(RAM_RESERVE_BYTES)} for the system."
        )
    elif available is not None:
        tight = "" if ram <= available else "; close other programs first"
        reason += f" ({gib(available)} free now{tight})."
    else:
        reason += "."
    return Fit(
        mode=mode,
        basis=basis,
        n_ctx=n_ctx,
        layers_on_gpu=layers,
        n_layers=n_layers,
        vram_bytes=vram,
        ram_bytes=ram,
        free_vram_bytes=sum(machine.free_vram_bytes) if machine.free_vram_bytes else None,
        ram_total_bytes=total,
        ram_available_bytes=available,
        reason=reason,
    )


@dataclass(frozen=True)
class Candidate:
    """A downloadable chat model with its size and fit, for the first-run recommendation."""

    id: str
    size: int
    fit: Fit


def recommend(candidates: Sequence[Candidate]) -> str | None:
    """The best model for this PC: the largest that runs fully on the GPU; else the largest that
    runs on the CPU (or partly on it) in half the free RAM; None when nothing qualifies."""
    full = [c for c in candidates if c.fit.mode == FULL]
    if full:
        return max(full, key=lambda c: c.size).id
    roomy = [
        c
        for c in candidates
        if c.fit.mode in (PARTIAL, CPU)
        and (room := _room(c.fit)) is not None
        and c.fit.ram_bytes <= room * RECOMMEND_RAM_SHARE
    ]
    return max(roomy, key=lambda c: c.size).id if roomy else None


def _room(fit: Fit) -> int | None:
    if fit.ram_available_bytes is not None:
        return fit.ram_available_bytes
    return fit.ram_total_bytes
