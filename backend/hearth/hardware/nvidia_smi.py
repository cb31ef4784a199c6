"""nvidia-smi probe: runs the tool with a deadline and turns every outcome into a GpuProbe."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hearth.hardware import model, parse
from hearth.hardware.model import GpuProbe

log = logging.getLogger(__name__)

SOURCE = "nvidia-smi"
# Drivers before ~R450 on Windows installed nvidia-smi here instead of System32.
_WINDOWS_NVSMI = Path(r"C:\Program Files\NVIDIA Corporation\NVSMI\nvidia-smi.exe")


def find_nvidia_smi() -> str | None:
    """nvidia-smi's path, or None; a PATH lookup, so a fake placed first on PATH wins."""
    found = shutil.which("nvidia-smi")
    if found is None and sys.platform == "win32" and _WINDOWS_NVSMI.is_file():
        found = str(_WINDOWS_NVSMI)
    return found


@dataclass(frozen=True)
class _Run:
    returncode: int | None  # None: it did not finish
    output: str
    error: str | None = None  # why it could not run or finish


def _run(argv: Sequence[str], deadline: float) -> _Run:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return _Run(None, "", "timeout")
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console flash on Windows
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            creationflags=flags,
        )
    except OSError as exc:
        return _Run(None, "", f"could not start {argv[0]}: {exc}")
    try:
        out, _ = proc.communicate(timeout=remaining)
    except subprocess.TimeoutExpired:
        proc.kill()
        # A GPU wedged in the kernel can leave nvidia-smi unkillable (state D); wait briefly and
        # walk away rather than block startup on it, as subprocess.run would.
        try:
            proc.communicate(timeout=1.0)
        except subprocess.TimeoutExpired:
            log.warning("nvidia-smi (pid %s) did not exit after kill; leaving it", proc.pid)
            if proc.stdout is not None:
                proc.stdout.close()
        return _Run(None, "", "timeout")
    return _Run(proc.returncode, out.decode("utf-8", errors="replace"))


def _query_args(path: str, fields: Sequence[str]) -> list[str]:
    return [path, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"]


def probe_nvidia_smi(timeout: float, find: Callable[[], str | None] = find_nvidia_smi) -> GpuProbe:
    """Ask nvidia-smi for every GPU and for the driver's CUDA version; never raises."""
    path = find()
    if path is None:
        return GpuProbe(SOURCE, model.MISSING, "nvidia-smi not found on PATH")
    deadline = time.monotonic() + timeout
    fields: tuple[str, ...] = parse.QUERY_FIELDS
    notes: list[str] = []
    run = _run(_query_args(path, fields), deadline)
    if run.returncode not in (None, 0) and parse.invalid_field(run.output) == "compute_cap":
        # Drivers before R510 reject the field outright; ask again without it and let NVML or
        # the name table supply the compute capability.
        notes.append("this driver's nvidia-smi has no compute_cap field")
        fields = tuple(f for f in fields if f != "compute_cap")
        run = _run(_query_args(path, fields), deadline)
    if run.error == "timeout":
        reason = f"nvidia-smi did not answer within {timeout:g} s (GPU_DETECTION_TIMEOUT)"
        return GpuProbe(SOURCE, model.TIMEOUT, reason, notes=tuple(notes))
    if run.error is not None or run.returncode is None:
        return GpuProbe(SOURCE, model.FAILED, run.error or "nvidia-smi did not run")
    if run.returncode != 0:
        status, reason = parse.classify_failure(run.returncode, run.output)
        return GpuProbe(SOURCE, status, reason, notes=tuple(notes))
    parsed = parse.parse_query_csv(run.output, fields)
    notes.extend(parsed.notes)
    if not parsed.gpus:
        first = run.output.strip().splitlines()[0][:160] if run.output.strip() else "nothing"
        return GpuProbe(
            SOURCE,
            model.UNEXPECTED_OUTPUT,
            f"nvidia-smi printed something unexpected: {first!r}",
            notes=tuple(notes),
        )
    driver = parse.driver_version_from_query(run.output, fields)
    banner = _run([path], deadline)
    banner_driver, cuda = (None, None)
    if banner.returncode == 0:
        banner_driver, cuda = parse.parse_banner(banner.output)
    if cuda is None:
        notes.append("the driver's CUDA version could not be read from nvidia-smi's banner")
    return GpuProbe(
        SOURCE,
        model.OK,
        f"nvidia-smi found {len(parsed.gpus)} GPU{'' if len(parsed.gpus) == 1 else 's'}",
        gpus=parsed.gpus,
        driver_version=driver or banner_driver,
        cuda_driver_version=cuda,
        notes=tuple(notes),
    )


def nvidia_smi_stamp(find: Callable[[], str | None] = find_nvidia_smi) -> list[object] | None:
    """[path, mtime_ns] of nvidia-smi: a driver update replaces the binary."""
    path = find()
    if path is None:
        return None
    try:
        return [path, os.stat(path).st_mtime_ns]
    except OSError:
        return [path, None]
