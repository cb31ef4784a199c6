"""Fit badges for the models list and the catalogue: the PC read once (I/O, the hardware
service), then a pure `library.fit` decision per model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hearth.library.fit import (
    Candidate,
    Fit,
    Machine,
    catalogue_shape,
    fit_shape,
    fit_size,
    recommend,
)

if TYPE_CHECKING:
    from hearth.hardware.service import HardwareService
    from hearth.library.catalogue import CatalogueEntry
    from hearth.library.library import ModelEntry

# An embedding model's header may not say its context; BERT-class models are trained on 512.
EMBEDDING_CTX = 512


@dataclass(frozen=True)
class FitJudge:
    """This PC now, and the context a chat model would be loaded with."""

    machine: Machine
    n_ctx: int

    @property
    def cpu_only(self) -> Machine:
        # Hearth loads embedding models on the CPU (LlamaEmbedder, n_gpu_layers=0).
        return Machine((), self.machine.ram_total_bytes, self.machine.ram_available_bytes)

    def installed(self, entry: ModelEntry) -> Fit | None:
        """For a usable chat or embedding model; None for adapters, projectors, broken files."""
        from hearth.engine.factory import model_shape

        info = entry.info
        if info is None or entry.kind not in ("chat", "embedding"):
            return None
        if entry.kind == "embedding":
            shape = model_shape(info, info.context_length or EMBEDDING_CTX)
            return fit_shape(shape, entry.size, self.cpu_only, basis="gguf")
        n_ctx = min(self.n_ctx, info.context_length or self.n_ctx)
        return fit_shape(model_shape(info, n_ctx), entry.size, self.machine, basis="gguf")

    def catalogue(self, entry: CatalogueEntry) -> Fit | None:
        """None while the size is unknown (offline, and not pinned in the catalogue)."""
        if entry.size is None:
            return None
        machine = self.cpu_only if entry.kind == "embedding" else self.machine
        if entry.shape is None:
            return fit_size(entry.size, machine)
        n_ctx = self.n_ctx
        if entry.kind == "embedding":
            n_ctx = entry.shape.context_length or EMBEDDING_CTX
        shape = catalogue_shape(entry.size, n_ctx, **entry.shape.model_dump())
        return fit_shape(shape, entry.size, machine, basis="catalogue")


def read_machine(hardware: HardwareService) -> Machine:
    """Free VRAM (only where the active runtime can offload: a CPU runtime runs every model on
    the CPU, whatever card is in the PC) and RAM, now. Blocking: NVML or nvidia-smi, /proc."""
    memory = hardware.memory_now()
    frees = hardware.free_vram_bytes() if hardware.runtime().supports_gpu_offload else None
    machine = Machine(tuple(frees or ()), memory.total_bytes, memory.available_bytes)
    offload = hardware.offload
    plan = offload.get("plan") if offload else None
    if isinstance(plan, dict):
        machine = machine.with_vram_back(int(plan.get("estimated_vram_bytes") or 0))
    return machine


def recommendation(
    entries: Sequence[CatalogueEntry], fits: dict[str, Fit | None], starter_file: str
) -> dict[str, Any] | None:
    """The first-run pick: the best fitting catalogue chat model, else the starter (small enough
    for any PC, and installable offline), else none."""
    candidates = [
        Candidate(e.id, e.size, fit)
        for e in entries
        if e.kind == "chat" and e.size is not None and (fit := fits.get(e.id)) is not None
    ]
    best = recommend(candidates)
    if best is not None:
        return {"id": best, "why": "fits"}
    starter = next((e for e in entries if e.filename.lower() == starter_file.lower()), None)
    return {"id": starter.id, "why": "starter"} if starter else None
