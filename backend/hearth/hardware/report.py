"""`python -m hearth detect`: the capabilities document as a readable table, or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import hearth
from hearth.hardware.service import HardwareService

GIB = 1024**3
_FLAG_LABELS = {"avx": "AVX", "avx2": "AVX2", "avx512": "AVX-512", "fma": "FMA", "f16c": "F16C"}


def _gib(value: int | None) -> str:
    return "unknown" if value is None else f"{value / GIB:.1f} GiB"


def _mib(value: int | None) -> str:
    return "?" if value is None else f"{value:,} MiB"


def cpu_backend_text(backend: dict[str, Any] | None) -> str:
    """ "AVX2 (haswell), best of 13 for this CPU", or why there is none (as Settings says it)."""
    if not backend:
        return "unknown (llama_cpp was not loaded)"
    label = backend.get("cpu_label") or "none loaded"
    available = backend.get("available") or []
    if backend.get("forced") and backend.get("cpu_variant") == backend.get("forced"):
        how = "forced by HEARTH_CPU_VARIANT"
    elif available:
        how = f"best of {len(available)} for this CPU"
    else:
        how = ""
    text = f"{label}, {how}" if how else label
    return f"{text}; {backend['error']}" if backend.get("error") else text


def render_table(doc: dict[str, Any]) -> str:
    """The readable form of the capabilities document."""
    hw = doc["hardware"]
    host, cpu, mem, gpu = hw["host"], hw["cpu"], hw["memory"], hw["gpu"]
    det, runtime, rec = doc["detection"], doc["runtime"], doc["recommendation"]
    cache = det["cache"]
    flags = "  ".join(
        f"{label} {'yes' if cpu['flags'].get(key) else 'no'}" for key, label in _FLAG_LABELS.items()
    )
    cores = f"{cpu['cores'] or '?'} cores / {cpu['threads'] or '?'} threads"
    rows = [
        (
            "OS",
            f"{host['os']} {host['os_release']} ({host['platform_tag']}), "
            f"Python {host['python_version']} ({host['python_tag']})",
        ),
        ("CPU", f"{cpu['model'] or 'unknown'}, {cores}"),
        ("CPU flags", flags),
        ("RAM", f"{_gib(mem['total_bytes'])} total, {_gib(mem['available_bytes'])} available"),
        ("GPU", gpu["reason"]),
    ]
    if gpu["driver_version"]:
        rows.append(
            ("Driver", f"{gpu['driver_version']} (CUDA {gpu['cuda_driver_version'] or '?'})")
        )
    for probe in gpu["probes"]:
        rows.append((f"  {probe['source']}", f"{probe['status']}: {probe['reason']}"))
    age = "" if cache["age_s"] is None else f", {cache['age_s']:.0f} s old"
    rows.append(("Detection", f"source {det['source']}, {det['duration_ms']:.1f} ms"))
    rows.append(("Cache", f"{cache['reason']}{age}"))
    offload = "yes" if runtime["supports_gpu_offload"] else "no"
    version = runtime["llama_cpp_version"] or "not importable"
    rows.append(
        (
            "Runtime",
            f"{runtime['id']} ({runtime['kind']}), llama_cpp {version}, GPU offload: {offload}",
        )
    )
    rows.append(("CPU backend", cpu_backend_text(runtime.get("cpu_backend"))))
    if runtime.get("error"):
        rows.append(("", runtime["error"]))
    if runtime.get("llama_cpp_path"):
        rows.append(("", runtime["llama_cpp_path"]))
    verdict = "upgrade available" if rec["upgrade"] else "no upgrade"
    rows.append(("Upgrade", f"{verdict} [{rec['code']}]: {rec['reason']}"))
    width = max(len(label) for label, _ in rows)
    lines = ["Hearth hardware report", ""]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    if gpu["gpus"]:
        lines += ["", "  #  Name                              CC    Source      VRAM total   free"]
        for g in gpu["gpus"]:
            lines.append(
                f"  {g['index']:<2} {g['name'][:33]:<33} {g['compute_capability'] or '?':<5} "
                f"{g['compute_capability_source'] or '-':<11} {_mib(g['memory_total_mib']):>10}   "
                f"{_mib(g['memory_free_mib'])}"
            )
    return "\n".join(lines) + "\n"


def detect_command(
    as_json: bool,
    data_dir: Path,
    app_version: str | None = None,
    timeout: float = 5.0,
    use_cache: bool = True,
    *,
    refresh: bool = False,
    out: TextIO | None = None,
    service: HardwareService | None = None,
) -> int:
    """Print the capabilities document; returns the exit code (0: detection never fails).
    `refresh` re-detects and says so; `app_version` defaults to this package's version."""
    out = out or sys.stdout
    version = app_version or hearth.__version__
    service = service or HardwareService(data_dir, version, timeout, use_cache)
    doc = service.refresh() if refresh else service.current()
    if as_json:
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        out.write(render_table(doc))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (`python -m hearth.hardware.report`) with the app's settings; the app's
    CLI calls detect_command directly."""
    from hearth.settings import Settings

    parser = argparse.ArgumentParser(prog="hearth detect", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--refresh", action="store_true", help="ignore the detection cache")
    args = parser.parse_args(argv)
    settings = Settings.load()
    return detect_command(
        args.json,
        settings.data_dir,
        hearth.__version__,
        settings.gpu_detection_timeout,
        settings.gpu_detection_cache,
        refresh=args.refresh,
    )


if __name__ == "__main__":
    raise SystemExit(main())
