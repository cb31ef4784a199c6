"""Samples of this machine for the UI's monitor: CPU, RAM, process, GPU utilization and VRAM.

CPU and RAM come from psutil. GPUs come from NVML through `hearth.hardware.nvml.load_pynvml` (or
an injected loader, so tests hand in a fake); without NVML the GPU series are absent and every
sample says why. CPU load is computed from two readings of the CPU times owned by one sampler, so
two open monitors do not skew each other the way psutil.cpu_percent's shared state would.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from hearth.hardware.nvml import NvmlUnavailable, load_pynvml

log = logging.getLogger(__name__)


def busy_fraction(before: Sequence[Any], after: Sequence[Any]) -> list[float]:
    """Per-core busy share between two psutil.cpu_times(percpu=True) readings (pure)."""
    shares = []
    for old, new in zip(before, after, strict=False):
        total = sum(new) - sum(old)
        idle = (new.idle - old.idle) + (getattr(new, "iowait", 0) - getattr(old, "iowait", 0))
        shares.append(0.0 if total <= 0 else max(0.0, min(1.0, (total - idle) / total)))
    return shares


class GpuMeter:
    """NVML opened once and kept open while the app runs; `reason` says why there are no GPUs."""

    def __init__(self, loader: Callable[[], Any] = load_pynvml):
        self._loader = loader
        self._lock = threading.Lock()
        self._nvml: Any = None
        self._handles: list[Any] = []
        self._names: list[str] = []
        self.reason: str | None = None
        self._started = False

    def _start(self) -> None:
        self._started = True
        try:
            nvml = self._loader()
        except NvmlUnavailable as exc:
            self.reason = exc.reason
            return
        try:
            nvml.nvmlInit()
            count = nvml.nvmlDeviceGetCount()
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            names = [_text(nvml.nvmlDeviceGetName(h)) for h in handles]
        except Exception as exc:  # a missing driver must not break the monitor
            self.reason = f"NVML could not start: {exc}"
            return
        if not handles:
            self.reason = "NVML found no NVIDIA GPU"
        self._nvml, self._handles, self._names = nvml, handles, names

    def read(self) -> list[dict[str, Any]] | None:
        """One reading per GPU, or None (see `reason`)."""
        with self._lock:
            if not self._started:
                self._start()
            if self._nvml is None or not self._handles:
                return None
            out = []
            for index, handle in enumerate(self._handles):
                out.append(self._read_one(index, handle))
            return out

    def _read_one(self, index: int, handle: Any) -> dict[str, Any]:
        nvml = self._nvml
        reading: dict[str, Any] = {"index": index, "name": self._names[index]}
        try:
            util = nvml.nvmlDeviceGetUtilizationRates(handle)
            reading["util_percent"] = float(util.gpu)
        except Exception as exc:
            reading["util_percent"], reading["util_error"] = None, str(exc)
        try:
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            reading["memory_used_bytes"] = int(memory.used)
            reading["memory_total_bytes"] = int(memory.total)
        except Exception as exc:
            reading["memory_used_bytes"] = reading["memory_total_bytes"] = None
            reading["memory_error"] = str(exc)
        return reading

    def close(self) -> None:
        with self._lock:
            if self._nvml is not None:
                try:
                    self._nvml.nvmlShutdown()
                except Exception as exc:
                    log.debug("nvmlShutdown failed: %s", exc)
            self._nvml, self._handles = None, []


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


class Sampler:
    """One stream's readings: the previous CPU times live here, not in psutil."""

    def __init__(self, gpus: GpuMeter, psutil_module: Any = None):
        if psutil_module is None:
            import psutil

            psutil_module = psutil
        self._ps = psutil_module
        self._gpus = gpus
        self._cpu_before = self._ps.cpu_times(percpu=True)
        self._process = self._ps.Process()
        self._process.cpu_percent(None)  # primes the process counter

    def sample(self) -> dict[str, Any]:
        cpu_now = self._ps.cpu_times(percpu=True)
        cores = busy_fraction(self._cpu_before, cpu_now)
        self._cpu_before = cpu_now
        memory = self._ps.virtual_memory()
        gpus = self._gpus.read()
        return {
            "t": time.time(),
            "cpu": {
                "percent": round(100 * sum(cores) / len(cores), 1) if cores else None,
                "per_core": [round(100 * c, 1) for c in cores],
            },
            "memory": {
                "total_bytes": int(memory.total),
                "used_bytes": int(memory.total - memory.available),
                "percent": float(memory.percent),
            },
            "process": {
                "rss_bytes": int(self._process.memory_info().rss),
                "cpu_percent": float(self._process.cpu_percent(None)),
            },
            "gpus": gpus,
            "gpu_reason": None if gpus is not None else self._gpus.reason,
        }
