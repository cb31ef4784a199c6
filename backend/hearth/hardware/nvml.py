"""NVML probe: the facts nvidia-smi gives, read through the driver's library without a subprocess.

The library is passed in as an object with the pynvml calls used here, so tests inject a fake."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from hearth.hardware import model, parse
from hearth.hardware.model import Gpu, GpuProbe

log = logging.getLogger(__name__)

SOURCE = "nvml"
LINUX_LIBRARY = "libnvidia-ml.so.1"
_MIB = 1024 * 1024


class NvmlUnavailable(Exception):
    """NVML cannot even be loaded; `reason` is shown to the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def load_pynvml() -> Any:
    """pynvml, imported only once the NVML library is known to open: the import alone costs
    ~15 ms, a third of the no-GPU detection budget."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(LINUX_LIBRARY)
        except OSError as exc:
            raise NvmlUnavailable(f"NVML library not found ({LINUX_LIBRARY})") from exc
    try:
        import pynvml
    except ImportError as exc:
        raise NvmlUnavailable("pynvml (nvidia-ml-py) is not installed") from exc
    return pynvml


def _text(value: Any) -> str:
    # Older nvidia-ml-py releases return bytes.
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _init_failure(exc: Exception) -> GpuProbe:
    kind = type(exc).__name__
    if "LibraryNotFound" in kind:
        return GpuProbe(SOURCE, model.MISSING, "NVML library not found (no NVIDIA driver)")
    if "DriverNotLoaded" in kind:
        return GpuProbe(SOURCE, model.DRIVER_UNREACHABLE, "NVIDIA driver is not loaded (NVML)")
    if "NoPermission" in kind:
        return GpuProbe(SOURCE, model.FAILED, "no permission to use the NVIDIA driver (NVML)")
    return GpuProbe(SOURCE, model.FAILED, f"NVML failed to start: {exc}")


def probe_nvml(load: Callable[[], Any] = load_pynvml) -> GpuProbe:
    """Every GPU NVML sees, or a probe with the reason it could not look; never raises."""
    try:
        nvml = load()
    except NvmlUnavailable as exc:
        return GpuProbe(SOURCE, model.MISSING, exc.reason)
    try:
        nvml.nvmlInit()
    except Exception as exc:  # a probe must never take startup down
        return _init_failure(exc)
    try:
        return _read(nvml)
    except Exception as exc:
        log.warning("NVML query failed: %s", exc)
        return GpuProbe(SOURCE, model.FAILED, f"NVML query failed: {exc}")
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception as exc:
            log.debug("nvmlShutdown failed: %s", exc)


def _read(nvml: Any) -> GpuProbe:
    notes: list[str] = []

    def optional(what: str, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except nvml.NVMLError as exc:
            notes.append(f"{what}: {exc}")
            return None

    driver = optional("driver version", nvml.nvmlSystemGetDriverVersion)
    cuda_int = optional("CUDA driver version", nvml.nvmlSystemGetCudaDriverVersion)
    count = nvml.nvmlDeviceGetCount()
    gpus: list[Gpu] = []
    for index in range(count):
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        name = _text(nvml.nvmlDeviceGetName(handle))
        uuid = optional(f"GPU {index} UUID", nvml.nvmlDeviceGetUUID, handle)
        memory = optional(f"GPU {index} memory", nvml.nvmlDeviceGetMemoryInfo, handle)
        cc = optional(
            f"GPU {index} compute capability", nvml.nvmlDeviceGetCudaComputeCapability, handle
        )
        gpus.append(
            Gpu(
                index=index,
                name=name,
                uuid=_text(uuid) if uuid is not None else None,
                memory_total_mib=int(memory.total) // _MIB if memory is not None else None,
                memory_free_mib=int(memory.free) // _MIB if memory is not None else None,
                compute_capability=f"{cc[0]}.{cc[1]}" if cc is not None else None,
                compute_capability_source=SOURCE if cc is not None else None,
            )
        )
    if not gpus:
        return GpuProbe(
            SOURCE,
            model.NO_DEVICES,
            "NVML found no NVIDIA GPU",
            driver_version=_text(driver) if driver else None,
        )
    return GpuProbe(
        SOURCE,
        model.OK,
        f"NVML found {len(gpus)} GPU{'' if len(gpus) == 1 else 's'}",
        gpus=tuple(gpus),
        driver_version=_text(driver) if driver is not None else None,
        cuda_driver_version=parse.cuda_version_from_int(int(cuda_int)) if cuda_int else None,
        notes=tuple(notes),
    )


def nvml_driver_version(load: Callable[[], Any] = load_pynvml) -> str | None:
    """The driver version alone, for the cache's cheap check; None when NVML is unavailable."""
    try:
        nvml = load()
        nvml.nvmlInit()
    except Exception:
        return None
    try:
        return _text(nvml.nvmlSystemGetDriverVersion())
    except Exception:
        return None
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception as exc:
            log.debug("nvmlShutdown failed: %s", exc)
