"""CPU probe: model, cores, threads and the SIMD flags llama.cpp's CPU builds depend on."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from hearth.hardware import parse
from hearth.hardware.model import CpuInfo

log = logging.getLogger(__name__)

PROC_CPUINFO = Path("/proc/cpuinfo")


def probe_cpu(cpuinfo_path: Path = PROC_CPUINFO) -> CpuInfo:
    """On Linux /proc/cpuinfo answers in microseconds; py-cpuinfo (which can take a second) is
    only the fallback for other systems. Never raises."""
    if sys.platform.startswith("linux"):
        try:
            info = parse.parse_proc_cpuinfo(cpuinfo_path.read_text(errors="replace"))
        except OSError as exc:
            log.debug("cannot read %s: %s", cpuinfo_path, exc)
        else:
            if info.threads is None:
                info = CpuInfo(info.model, info.cores, os.cpu_count(), info.flags, info.source)
            return info
    return _probe_with_py_cpuinfo()


def _probe_with_py_cpuinfo() -> CpuInfo:
    threads = os.cpu_count()
    try:
        import cpuinfo  # py-cpuinfo

        data = cpuinfo.get_cpu_info()
    except Exception as exc:  # a probe must never take startup down
        log.warning("py-cpuinfo failed: %s", exc)
        return CpuInfo(None, None, threads, parse.cpu_flags(()), "unknown")
    cores = None
    try:
        import psutil

        cores = psutil.cpu_count(logical=False)
    except Exception as exc:
        log.debug("psutil.cpu_count failed: %s", exc)
    return CpuInfo(
        model=data.get("brand_raw") or None,
        cores=cores,
        threads=threads,
        flags=parse.cpu_flags(data.get("flags", ())),
        source="py-cpuinfo",
    )
