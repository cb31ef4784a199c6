"""The detection service: reuse the cache when its fingerprint holds, else run every probe.

Takes plain parameters (data dir, app version, runtime id, timeout, use_cache) so it does not
depend on the settings module; the OS edge is a `Probes` value tests can replace."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hearth.hardware import cache, cpu, fingerprint, host, memory, nvidia_smi, nvml, policy
from hearth.hardware.model import HardwareProfile, HostInfo
from hearth.runtime.switch import BUNDLED_ID

log = logging.getLogger(__name__)

DEFAULT_RUNTIME_ID = BUNDLED_ID


@dataclass(frozen=True)
class Probes:
    """Where the detector touches the OS; tests swap NVML for a fake and paths for tmp files.
    nvidia-smi is found on PATH, so tests put a fake one first on PATH instead."""

    nvml_loader: Callable[[], Any] = nvml.load_pynvml
    find_smi: Callable[[], str | None] = nvidia_smi.find_nvidia_smi
    proc_driver_version: Path = fingerprint.PROC_DRIVER_VERSION
    proc_cpuinfo: Path = cpu.PROC_CPUINFO
    proc_meminfo: Path = memory.PROC_MEMINFO


@dataclass(frozen=True)
class CacheInfo:
    used: bool
    reason: str  # why it was reused, or why not
    path: str
    created_at: float | None = None
    fingerprint: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        age = None if self.created_at is None else max(0.0, round(now - self.created_at, 3))
        return {
            "used": self.used,
            "reason": self.reason,
            "path": self.path,
            "created_at": self.created_at,
            "age_s": age,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class Detection:
    profile: HardwareProfile
    source: str  # nvml | nvidia-smi | none
    cache: CacheInfo
    duration_ms: float

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        return {
            "source": self.source,
            "duration_ms": round(self.duration_ms, 3),
            "cache": {"source": self.source, **self.cache.to_dict(now)},
        }


def probe_hardware(
    timeout: float, probes: Probes | None = None, host_info: HostInfo | None = None
) -> HardwareProfile:
    """Run every probe once, uncached; never raises."""
    probes = probes or Probes()
    nvml_result = nvml.probe_nvml(probes.nvml_loader)
    smi_result = None
    if policy.needs_nvidia_smi(nvml_result):
        smi_result = nvidia_smi.probe_nvidia_smi(timeout, probes.find_smi)
    gpu = policy.combine(nvml_result, smi_result)
    log.info("GPU detection: %s", gpu.reason)
    return HardwareProfile(
        gpu=gpu,
        cpu=cpu.probe_cpu(probes.proc_cpuinfo),
        memory=memory.probe_memory(probes.proc_meminfo),
        host=host_info or host.probe_host(),
    )


def detect(
    data_dir: Path,
    *,
    app_version: str,
    runtime_id: str = DEFAULT_RUNTIME_ID,
    timeout: float = 5.0,
    use_cache: bool = True,
    force: bool = False,
    probes: Probes | None = None,
    clock: Callable[[], float] = time.time,
) -> Detection:
    """The hardware profile, from the cache when it still holds; writes the cache after a
    fresh detection. `force` is POST /api/capabilities/refresh."""
    started = time.perf_counter()
    probes = probes or Probes()
    path = cache.cache_path(data_dir)
    host_info = host.probe_host()
    stamp = fingerprint.driver_stamp(
        host_info.os,
        proc_driver_version=probes.proc_driver_version,
        nvml_loader=probes.nvml_loader,
        find_smi=probes.find_smi,
    )

    if force:
        why = "refresh requested"
    elif not use_cache:
        why = "cache disabled (GPU_DETECTION_CACHE=false)"
    else:
        entry, why = cache.read_cache(path)
        if entry is not None:
            fresh, why = cache.verdict(
                entry,
                app_version=app_version,
                runtime_id=runtime_id,
                os_id=host_info.os_id,
                stamp=stamp,
            )
            if fresh:
                # RAM in use changes from start to start; re-reading it is cheap.
                profile = HardwareProfile(
                    entry.profile.gpu,
                    entry.profile.cpu,
                    memory.probe_memory(probes.proc_meminfo),
                    entry.profile.host,
                )
                info = CacheInfo(
                    True, "reused: " + why, str(path), entry.created_at, entry.fingerprint
                )
                return Detection(profile, entry.source, info, _ms(started))

    profile = probe_hardware(timeout, probes, host_info)
    fp = cache.make_fingerprint(profile, app_version=app_version, runtime_id=runtime_id)
    created = clock()
    entry = cache.CacheEntry(created, profile.gpu.source, fp, stamp, profile)
    try:
        cache.write_cache(path, entry)
    except OSError as exc:
        log.warning("could not write %s: %s", path, exc)
    info = CacheInfo(False, "detected: " + why, str(path), created, fp)
    return Detection(profile, profile.gpu.source, info, _ms(started))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
