"""The cheap driver check a cached start makes instead of a full detection (well under 5 ms).

Linux: the kernel module's /proc/driver/nvidia/version, else NVML's driver version (WSL has no
/proc entry); elsewhere: nvidia-smi's path and mtime, since a driver update replaces it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hearth.hardware import nvidia_smi, nvml

log = logging.getLogger(__name__)

PROC_DRIVER_VERSION = Path("/proc/driver/nvidia/version")


def driver_stamp(
    os_name: str,
    *,
    proc_driver_version: Path = PROC_DRIVER_VERSION,
    nvml_loader: Callable[[], Any] = nvml.load_pynvml,
    find_smi: Callable[[], str | None] = nvidia_smi.find_nvidia_smi,
) -> dict[str, Any]:
    """A small JSON value that changes when the NVIDIA driver changes."""
    if os_name == "linux":
        try:
            with proc_driver_version.open(errors="replace") as handle:
                return {"kind": "proc", "value": handle.readline().strip()}
        except OSError:
            pass
        version = nvml.nvml_driver_version(nvml_loader)
        if version is not None:
            return {"kind": "nvml", "value": version}
    return {"kind": "nvidia-smi", "value": nvidia_smi.nvidia_smi_stamp(find_smi)}
