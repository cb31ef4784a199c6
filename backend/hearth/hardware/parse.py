"""Pure parsers for what the probes read: nvidia-smi output, /proc files, platform strings.
No I/O here, so every format quirk is tested with recorded text."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hearth.hardware import model
from hearth.hardware.model import Gpu

QUERY_FIELDS = (
    "index",
    "uuid",
    "name",
    "memory.total",
    "memory.free",
    "driver_version",
    "compute_cap",
)
# nvidia-smi answers these for a field a GPU or driver cannot report.
_UNAVAILABLE = re.compile(r"^\[(N/A|Not Supported|Unknown Error|Insufficient Permissions)\]$")
_BANNER_CUDA = re.compile(r"CUDA Version:\s*(\d+\.\d+)")
_BANNER_DRIVER = re.compile(r"Driver Version:\s*(\d+(?:\.\d+)+)")
_BAD_FIELD = re.compile(r'Field "([^"]+)" is not a valid field to query')
_DRIVER_VERSION = re.compile(r"^\d+(\.\d+){1,3}$")
_CC = re.compile(r"^\d+\.\d+$")

# Exit codes documented in `man nvidia-smi`.
SMI_EXIT_NO_DEVICES = 6
SMI_EXIT_DRIVER = 9


@dataclass(frozen=True)
class QueryParse:
    gpus: tuple[Gpu, ...]
    notes: tuple[str, ...]


def _field(value: str) -> str | None:
    value = value.strip()
    if not value or _UNAVAILABLE.match(value):
        return None
    return value


def _mib(value: str | None) -> int | None:
    if value is None:
        return None
    # Without `nounits` the value carries " MiB"; accept both.
    number = value.removesuffix("MiB").strip()
    return int(float(number))


def parse_query_csv(text: str, fields: Sequence[str] = QUERY_FIELDS) -> QueryParse:
    """GPUs from `--query-gpu=<fields> --format=csv,noheader,nounits`; lines that are not
    rows of the expected shape are skipped with a note (drivers print warnings there too)."""
    gpus: list[Gpu] = []
    notes: list[str] = []
    for row in csv.reader(text.splitlines(), skipinitialspace=True):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(fields):
            notes.append(f"ignored line: {', '.join(row)[:120]!r}")
            continue
        values = dict(zip(fields, (_field(v) for v in row), strict=True))
        try:
            index = int(values["index"] or "")
            total = _mib(values.get("memory.total"))
            free = _mib(values.get("memory.free"))
        except ValueError:
            notes.append(f"ignored line: {', '.join(row)[:120]!r}")
            continue
        name = values.get("name")
        if not name:
            notes.append(f"ignored line without a GPU name: {', '.join(row)[:120]!r}")
            continue
        for key, raw in zip(fields, row, strict=True):
            if _field(raw) is None:
                notes.append(f"GPU {index}: {key} is {raw.strip() or 'empty'}")
        cc = values.get("compute_cap")
        if cc is not None and not _CC.match(cc):
            notes.append(f"GPU {index}: unreadable compute_cap {cc!r}")
            cc = None
        gpus.append(
            Gpu(
                index=index,
                name=name,
                uuid=values.get("uuid"),
                memory_total_mib=total,
                memory_free_mib=free,
                compute_capability=cc,
                compute_capability_source="nvidia-smi" if cc else None,
            )
        )
    return QueryParse(tuple(gpus), tuple(notes))


def driver_version_from_query(text: str, fields: Sequence[str] = QUERY_FIELDS) -> str | None:
    if "driver_version" not in fields:
        return None
    position = list(fields).index("driver_version")
    for row in csv.reader(text.splitlines(), skipinitialspace=True):
        if len(row) == len(fields):
            value = _field(row[position])
            if value and _DRIVER_VERSION.match(value):
                return value
    return None


def parse_banner(text: str) -> tuple[str | None, str | None]:
    """(driver version, highest CUDA version) from the table plain `nvidia-smi` prints."""
    driver = _BANNER_DRIVER.search(text)
    cuda = _BANNER_CUDA.search(text)
    return (driver.group(1) if driver else None, cuda.group(1) if cuda else None)


def invalid_field(output: str) -> str | None:
    """The field an older driver rejects, e.g. compute_cap before R510."""
    match = _BAD_FIELD.search(output)
    return match.group(1) if match else None


def classify_failure(returncode: int, output: str) -> tuple[str, str]:
    """(status, reason) for a non-zero nvidia-smi exit."""
    first = next((line.strip() for line in output.splitlines() if line.strip()), "")
    if returncode == SMI_EXIT_DRIVER or "couldn't communicate with the NVIDIA driver" in output:
        return (
            model.DRIVER_UNREACHABLE,
            f"nvidia-smi could not communicate with the NVIDIA driver (exit {returncode}); "
            "the driver is missing, not loaded, or does not match the installed tools",
        )
    if returncode == SMI_EXIT_NO_DEVICES or "No devices were found" in output:
        return model.NO_DEVICES, "nvidia-smi found no NVIDIA GPU"
    if "Failed to initialize NVML" in output:
        return model.DRIVER_UNREACHABLE, f"nvidia-smi: {first}"
    detail = f": {first[:160]}" if first else ""
    return model.FAILED, f"nvidia-smi failed with exit code {returncode}{detail}"


def cuda_version_from_int(value: int) -> str:
    """NVML's 12040 -> "12.4"."""
    return f"{value // 1000}.{(value % 1000) // 10}"


def version_tuple(version: str) -> tuple[int, ...]:
    """ "535.183.01" -> (535, 183, 1); raises ValueError on anything else."""
    return tuple(int(part) for part in version.strip().split("."))


# --- /proc files ---------------------------------------------------------------------------


def parse_proc_cpuinfo(text: str) -> model.CpuInfo:
    """Model, cores, threads and SIMD flags from Linux's /proc/cpuinfo (x86 and ARM layouts)."""
    processors = 0
    model_name: str | None = None
    flags: set[str] = set()
    cores: set[tuple[str, str]] = set()
    cores_per_socket: dict[str, int] = {}
    physical_id = "0"
    core_id: str | None = None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "processor":
            processors += 1
            physical_id, core_id = "0", None
        elif key in ("model name", "Hardware", "Processor") and not model_name and value:
            model_name = value
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
        elif key == "physical id":
            physical_id = value
        elif key == "core id":
            core_id = value
            cores.add((physical_id, core_id))
        elif key == "cpu cores" and value.isdigit():
            cores_per_socket[physical_id] = int(value)
    if cores:
        n_cores: int | None = len(cores)
    elif cores_per_socket:
        n_cores = sum(cores_per_socket.values())
    else:
        n_cores = None
    return model.CpuInfo(
        model=model_name,
        cores=n_cores,
        threads=processors or None,
        flags=cpu_flags(flags),
        source="/proc/cpuinfo",
    )


def cpu_flags(flags: set[str] | Sequence[str]) -> dict[str, bool]:
    """Our five flags from a kernel or py-cpuinfo flag list; AVX-512 means the foundation set."""
    names = {f.lower() for f in flags}
    return {
        "avx": "avx" in names,
        "avx2": "avx2" in names,
        "avx512": "avx512f" in names,
        "fma": "fma" in names or "fma3" in names,
        "f16c": "f16c" in names,
    }


def parse_proc_meminfo(text: str) -> model.MemoryInfo:
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if sep and parts and parts[0].isdigit():
            scale = 1024 if parts[1:2] == ["kB"] else 1
            values[key.strip()] = int(parts[0]) * scale
    available = values.get("MemAvailable", values.get("MemFree"))
    return model.MemoryInfo(values.get("MemTotal"), available, "/proc/meminfo")


def parse_proc_driver_version(text: str) -> str | None:
    """ "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  ..." -> "535.183.01"."""
    match = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d+(?:\.\d+)+)", text)
    return match.group(1) if match else None


# --- platform --------------------------------------------------------------------------------


def os_name(system: str) -> str:
    """platform.system() -> linux | windows | macos | other."""
    return {"Linux": "linux", "Windows": "windows", "Darwin": "macos"}.get(system, "other")


def platform_tag(sysconfig_platform: str) -> str:
    """sysconfig.get_platform() -> the wheel platform the registry uses:
    "linux-x86_64" -> "linux_x86_64", "win-amd64" -> "win_amd64", "macosx-11.0-arm64" ->
    "macosx_arm64" (the minimum macOS version does not matter for choosing a runtime)."""
    text = sysconfig_platform.lower()
    if text.startswith("macosx-"):
        return "macosx_" + text.rsplit("-", 1)[-1]
    return text.replace("-", "_").replace(".", "_")


def python_tag(implementation: str, major: int, minor: int) -> str:
    prefix = {"cpython": "cp", "pypy": "pp"}.get(implementation, implementation[:2])
    return f"{prefix}{major}{minor}"
