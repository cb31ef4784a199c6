"""VRAM planner (pure): how many layers to offload given a model's shape and the free VRAM.

Plain numbers in, so it does not depend on the GGUF reader. From `library.gguf.GGUFInfo`:
layer_bytes = info.layer_bytes, output_bytes = info.non_layer_bytes - info.token_embd_bytes
(llama.cpp keeps token embeddings on the CPU), n_embd/n_head/n_head_kv from the header,
n_ctx = the context the engine will actually allocate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

MIB = 1024 * 1024
# CUDA context plus llama.cpp's compute buffers: a few hundred MiB per device in practice.
DEFAULT_OVERHEAD_BYTES = 512 * MIB
# Other programs (the desktop, a browser) allocate VRAM between planning and loading.
DEFAULT_HEADROOM_FRACTION = 0.05
F16_BYTES = 2.0

FULL = "full"
PARTIAL = "partial"
CPU = "cpu"


@dataclass(frozen=True)
class ModelShape:
    layer_bytes: tuple[int, ...]  # bytes of the blk.N.* tensors, N = 0..n_layers-1
    output_bytes: int  # output norm and head: on the GPU only with a full offload
    n_ctx: int
    n_embd: int
    n_head: int
    n_head_kv: int
    kv_bytes_per_element: float = F16_BYTES  # 2 for an f16 cache, ~1.06 for q8_0

    @classmethod
    def uniform(cls, n_layers: int, bytes_per_layer: int, **kwargs: Any) -> ModelShape:
        """When only the mean layer size is known."""
        return cls(layer_bytes=(bytes_per_layer,) * n_layers, **kwargs)

    @property
    def n_layers(self) -> int:
        return len(self.layer_bytes)

    @property
    def kv_bytes_per_layer(self) -> int:
        return kv_cache_bytes_per_layer(
            self.n_ctx, self.n_embd, self.n_head, self.n_head_kv, self.kv_bytes_per_element
        )


def kv_cache_bytes_per_layer(
    n_ctx: int, n_embd: int, n_head: int, n_head_kv: int, bytes_per_element: float = F16_BYTES
) -> int:
    """K and V for one layer: 2 x n_ctx x (head_dim x n_head_kv) elements (GQA-aware)."""
    head_dim = n_embd // max(n_head, 1)
    return int(2 * n_ctx * head_dim * n_head_kv * bytes_per_element)


def gpu_bytes(shape: ModelShape, layers: int) -> int:
    """Weights and KV cache on the GPU with `layers` layers offloaded. llama.cpp offloads the
    last layers first, and the output head only when every layer is offloaded."""
    layers = max(0, min(layers, shape.n_layers))
    if layers == 0:
        return 0
    weights = sum(shape.layer_bytes[shape.n_layers - layers :])
    total = weights + layers * shape.kv_bytes_per_layer
    if layers == shape.n_layers:
        total += shape.output_bytes
    return total


@dataclass(frozen=True)
class OffloadPlan:
    n_gpu_layers: int  # what to pass to llama.cpp: -1 = all, 0 = CPU only
    layers_on_gpu: int
    n_layers: int
    mode: str  # full | partial | cpu
    source: str  # auto | override | oom-step-down
    estimated_vram_bytes: int
    free_vram_bytes: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _estimate(shape: ModelShape, layers: int, devices: int, overhead: int) -> int:
    return gpu_bytes(shape, layers) + overhead * devices if layers > 0 else 0


def _mib(value: int) -> str:
    return f"{value / MIB:,.0f} MiB"


def _plan(
    shape: ModelShape,
    layers: int,
    source: str,
    reason: str,
    free: int | None,
    devices: int = 1,
    overhead: int = DEFAULT_OVERHEAD_BYTES,
) -> OffloadPlan:
    n = shape.n_layers
    layers = max(0, min(layers, n))
    mode = FULL if layers == n and n > 0 else PARTIAL if layers > 0 else CPU
    return OffloadPlan(
        n_gpu_layers=-1 if mode == FULL else layers,
        layers_on_gpu=layers,
        n_layers=n,
        mode=mode,
        source=source,
        estimated_vram_bytes=_estimate(shape, layers, devices, overhead),
        free_vram_bytes=free,
        reason=reason,
    )


def plan_offload(
    shape: ModelShape,
    free_vram_bytes: int | Sequence[int] | None,
    *,
    override: int | None = None,
    gpu_offload: bool = True,
    overhead_bytes: int = DEFAULT_OVERHEAD_BYTES,
    headroom_fraction: float = DEFAULT_HEADROOM_FRACTION,
) -> OffloadPlan:
    """The offload for a model load. `free_vram_bytes` is one number or one per GPU (llama.cpp
    splits layers across GPUs); None means no GPU. `override` is LLAMACPP_N_GPU_LAYERS."""
    if free_vram_bytes is None:
        frees: list[int] = []
    elif isinstance(free_vram_bytes, int):
        frees = [free_vram_bytes]
    else:
        frees = [int(f) for f in free_vram_bytes]
    free = sum(frees) if frees else None
    devices = max(1, len(frees))
    n = shape.n_layers

    def plan(layers: int, source: str, reason: str) -> OffloadPlan:
        return _plan(shape, layers, source, reason, free, devices, overhead_bytes)

    if not gpu_offload:
        why = "The active runtime cannot offload to a GPU; running on the CPU."
        if override not in (None, 0):
            why += f" LLAMACPP_N_GPU_LAYERS={override} has no effect."
        return plan(0, "override" if override is not None else "auto", why)
    if override is not None:
        layers = n if override < 0 or override >= n else override
        result = plan(layers, "override", f"LLAMACPP_N_GPU_LAYERS={override}.")
        if free is not None and result.estimated_vram_bytes > free:
            result = _with_reason(
                result,
                f"LLAMACPP_N_GPU_LAYERS={override}; estimated "
                f"{_mib(result.estimated_vram_bytes)} exceeds the {_mib(free)} free, "
                "loading may run out of memory.",
            )
        return result
    if not frees:
        return plan(0, "auto", "No GPU with free memory was found; running on the CPU.")
    total_free = sum(frees)

    usable = sum(max(0, int(f * (1 - headroom_fraction)) - overhead_bytes) for f in frees)
    if gpu_bytes(shape, n) <= usable:
        need = _estimate(shape, n, devices, overhead_bytes)
        return plan(
            n, "auto", f"All {n} layers fit: about {_mib(need)} of {_mib(total_free)} free."
        )
    layers = 0
    while layers < n and gpu_bytes(shape, layers + 1) <= usable:
        layers += 1
    if layers == 0:
        smallest = gpu_bytes(shape, 1)
        return plan(
            0,
            "auto",
            f"Not enough free VRAM ({_mib(total_free)}) for even one layer "
            f"({_mib(smallest)} plus {_mib(overhead_bytes)} overhead); running on the CPU.",
        )
    need = _estimate(shape, layers, devices, overhead_bytes)
    return plan(
        layers,
        "auto",
        f"{layers} of {n} layers fit in {_mib(total_free)} free VRAM (about {_mib(need)} used); "
        "the rest run on the CPU.",
    )


def _with_reason(plan: OffloadPlan, reason: str) -> OffloadPlan:
    return OffloadPlan(**{**asdict(plan), "reason": reason})


def step_down(
    previous: OffloadPlan, shape: ModelShape, overhead_bytes: int = DEFAULT_OVERHEAD_BYTES
) -> OffloadPlan | None:
    """The next, smaller plan after an out-of-memory on load: full -> half the layers -> CPU.
    At most two retries, because each failed load can take seconds. None once on the CPU."""
    tried = previous.layers_on_gpu
    if tried == 0:
        return None
    free = previous.free_vram_bytes
    if previous.source != "oom-step-down" and tried >= 2:
        fewer = tried // 2
        return _plan(
            shape,
            fewer,
            "oom-step-down",
            f"Out of memory loading with {tried} of {previous.n_layers} layers on the GPU; "
            f"retrying with {fewer}.",
            free,
            overhead=overhead_bytes,
        )
    return _plan(
        shape,
        0,
        "oom-step-down",
        f"Out of memory loading with {tried} of {previous.n_layers} layers on the GPU; "
        "loading on the CPU only.",
        free,
        overhead=overhead_bytes,
    )
