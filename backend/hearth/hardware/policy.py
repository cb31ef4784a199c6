"""Pure decisions over probe results: when nvidia-smi is still needed, how NVML and nvidia-smi
are merged (NVML wins), and which reason the user reads when no GPU is usable."""

from __future__ import annotations

from dataclasses import replace

from hearth.hardware import model
from hearth.hardware.cc_table import compute_capability_from_name
from hearth.hardware.model import Gpu, GpuFindings, GpuProbe

# When no source found a GPU, the most telling failure explains it; lower is more telling.
_FAILURE_RANK = {
    model.DRIVER_UNREACHABLE: 0,
    model.TIMEOUT: 1,
    model.UNEXPECTED_OUTPUT: 2,
    model.FAILED: 3,
    model.NO_DEVICES: 4,
    model.MISSING: 5,
}
_BROKEN = {model.DRIVER_UNREACHABLE, model.TIMEOUT, model.UNEXPECTED_OUTPUT, model.FAILED}


def needs_nvidia_smi(nvml: GpuProbe) -> bool:
    """nvidia-smi (a subprocess that can hang) only runs when NVML failed or left a gap."""
    if not nvml.ok:
        return True
    if nvml.cuda_driver_version is None or nvml.driver_version is None:
        return True
    return any(g.compute_capability is None for g in nvml.gpus)


def _fill(primary: Gpu, other: Gpu | None) -> Gpu:
    if other is None:
        return primary
    return replace(
        primary,
        uuid=primary.uuid or other.uuid,
        memory_total_mib=(
            primary.memory_total_mib
            if primary.memory_total_mib is not None
            else other.memory_total_mib
        ),
        memory_free_mib=(
            primary.memory_free_mib
            if primary.memory_free_mib is not None
            else other.memory_free_mib
        ),
        compute_capability=primary.compute_capability or other.compute_capability,
        compute_capability_source=(
            primary.compute_capability_source
            if primary.compute_capability
            else other.compute_capability_source
        ),
    )


def _with_table_cc(gpu: Gpu) -> Gpu:
    if gpu.compute_capability is not None:
        return gpu
    cc = compute_capability_from_name(gpu.name)
    if cc is None:
        return gpu
    return replace(gpu, compute_capability=cc, compute_capability_source="name-table")


def _match(gpu: Gpu, candidates: tuple[Gpu, ...]) -> Gpu | None:
    # UUIDs are stable across tools; indexes can differ (CUDA_VISIBLE_DEVICES, PCI vs fastest).
    if gpu.uuid:
        for other in candidates:
            if other.uuid == gpu.uuid:
                return other
    for other in candidates:
        if other.index == gpu.index and not (gpu.uuid and other.uuid):
            return other
    return None


def combine(nvml: GpuProbe | None, smi: GpuProbe | None) -> GpuFindings:
    """One verdict from both sources. When both answer, NVML wins field by field and
    nvidia-smi fills what NVML left empty; the name table fills a still-missing capability."""
    probes = tuple(p for p in (nvml, smi) if p is not None)
    summaries = tuple(p.summary() for p in probes)
    primary = next((p for p in probes if p.ok), None)
    if primary is None:
        return _no_gpu(probes, summaries)
    other = next((p for p in probes if p.ok and p is not primary), None)
    other_gpus = other.gpus if other else ()
    gpus = tuple(_with_table_cc(_fill(g, _match(g, other_gpus))) for g in primary.gpus)
    return GpuFindings(
        status=model.FOUND,
        reason=_found_reason(gpus),
        source=primary.source,
        gpus=gpus,
        driver_version=primary.driver_version or (other.driver_version if other else None),
        cuda_driver_version=(
            primary.cuda_driver_version or (other.cuda_driver_version if other else None)
        ),
        probes=summaries,
    )


def _found_reason(gpus: tuple[Gpu, ...]) -> str:
    names = ", ".join(
        f"{g.name} (compute capability {g.compute_capability or 'unknown'})" for g in gpus
    )
    return f"{len(gpus)} NVIDIA GPU{'' if len(gpus) == 1 else 's'}: {names}"


def _no_gpu(probes: tuple[GpuProbe, ...], summaries: tuple[dict, ...]) -> GpuFindings:
    if not probes:
        return GpuFindings(model.NONE, "No GPU probe ran.", "none", probes=summaries)
    ordered = sorted(probes, key=lambda p: _FAILURE_RANK.get(p.status, 9))
    details = "; ".join(p.reason for p in ordered)
    if ordered[0].status in _BROKEN:
        return GpuFindings(
            model.UNUSABLE,
            f"An NVIDIA driver seems present but no GPU could be read: {details}.",
            "none",
            probes=summaries,
        )
    return GpuFindings(model.NONE, f"No NVIDIA GPU found: {details}.", "none", probes=summaries)
