"""Free VRAM right now, for the planner at model load: the cached detection is too old for it."""

from __future__ import annotations

from hearth.hardware import nvidia_smi, nvml, policy
from hearth.hardware.detect import Probes

_MIB = 1024 * 1024


def free_vram_bytes(timeout: float, probes: Probes | None = None) -> list[int] | None:
    """Free bytes per GPU (NVML first, nvidia-smi as the fallback); None when no GPU answers or a
    GPU does not report its free memory."""
    probes = probes or Probes()
    nvml_result = nvml.probe_nvml(probes.nvml_loader)
    smi_result = None
    if not nvml_result.ok or any(g.memory_free_mib is None for g in nvml_result.gpus):
        smi_result = nvidia_smi.probe_nvidia_smi(timeout, probes.find_smi)
    found = policy.combine(nvml_result, smi_result)
    if not found.gpus or any(g.memory_free_mib is None for g in found.gpus):
        return None
    return [int(g.memory_free_mib or 0) * _MIB for g in found.gpus]
