"""Plain data the detector produces; every field is JSON-ready so the cache and the API share it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Status of one GPU source (NVML or nvidia-smi).
OK = "ok"
MISSING = "missing"  # the tool or library is not installed
NO_DEVICES = "no_devices"  # the driver answers but sees no GPU
DRIVER_UNREACHABLE = "driver_unreachable"  # installed, but the driver does not answer
TIMEOUT = "timeout"
UNEXPECTED_OUTPUT = "unexpected_output"
FAILED = "failed"

# Overall GPU verdict.
FOUND = "found"
NONE = "none"
UNUSABLE = "unusable"

CPU_FLAGS = ("avx", "avx2", "avx512", "fma", "f16c")


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    uuid: str | None = None
    memory_total_mib: int | None = None
    memory_free_mib: int | None = None
    compute_capability: str | None = None  # "8.6"
    compute_capability_source: str | None = None  # nvml | nvidia-smi | name-table

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Gpu:
        return cls(
            index=int(data["index"]),
            name=str(data["name"]),
            uuid=data.get("uuid"),
            memory_total_mib=data.get("memory_total_mib"),
            memory_free_mib=data.get("memory_free_mib"),
            compute_capability=data.get("compute_capability"),
            compute_capability_source=data.get("compute_capability_source"),
        )


@dataclass(frozen=True)
class GpuProbe:
    """What one source answered, or why it could not."""

    source: str  # nvml | nvidia-smi
    status: str
    reason: str
    gpus: tuple[Gpu, ...] = ()
    driver_version: str | None = None
    cuda_driver_version: str | None = None  # the highest CUDA the driver supports, "12.4"
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == OK

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "status": self.status,
            "reason": self.reason,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class GpuFindings:
    """The merged verdict over every source, with the reason the UI shows."""

    status: str  # found | none | unusable
    reason: str
    source: str  # nvml | nvidia-smi | none
    gpus: tuple[Gpu, ...] = ()
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    probes: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["gpus"] = [asdict(g) for g in self.gpus]
        data["probes"] = [dict(p) for p in self.probes]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GpuFindings:
        return cls(
            status=str(data["status"]),
            reason=str(data["reason"]),
            source=str(data["source"]),
            gpus=tuple(Gpu.from_dict(g) for g in data["gpus"]),
            driver_version=data.get("driver_version"),
            cuda_driver_version=data.get("cuda_driver_version"),
            probes=tuple(dict(p) for p in data.get("probes", ())),
        )


@dataclass(frozen=True)
class CpuInfo:
    model: str | None
    cores: int | None
    threads: int | None
    flags: dict[str, bool] = field(default_factory=dict)
    source: str = "unknown"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CpuInfo:
        flags = data["flags"]
        if not isinstance(flags, dict):
            raise TypeError("cpu.flags must be an object")
        return cls(
            model=data.get("model"),
            cores=data.get("cores"),
            threads=data.get("threads"),
            flags={str(k): bool(v) for k, v in flags.items()},
            source=str(data.get("source", "unknown")),
        )


@dataclass(frozen=True)
class MemoryInfo:
    total_bytes: int | None
    available_bytes: int | None
    source: str = "unknown"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryInfo:
        return cls(data.get("total_bytes"), data.get("available_bytes"), str(data["source"]))


@dataclass(frozen=True)
class HostInfo:
    os: str  # linux | windows | macos | other
    os_release: str
    machine: str
    platform_tag: str  # wheel platform: linux_x86_64, win_amd64, macosx_arm64
    python_tag: str  # cp311
    python_version: str

    @property
    def os_id(self) -> str:
        """What the cache fingerprint compares: an OS upgrade can bring a new driver stack."""
        return f"{self.os} {self.os_release} {self.machine}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostInfo:
        return cls(**{k: str(data[k]) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class HardwareProfile:
    gpu: GpuFindings
    cpu: CpuInfo
    memory: MemoryInfo
    host: HostInfo

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpu": self.gpu.to_dict(),
            "cpu": asdict(self.cpu),
            "memory": asdict(self.memory),
            "host": asdict(self.host),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HardwareProfile:
        """Rebuild a cached profile; raises KeyError/TypeError/ValueError on a malformed one."""
        return cls(
            gpu=GpuFindings.from_dict(data["gpu"]),
            cpu=CpuInfo.from_dict(data["cpu"]),
            memory=MemoryInfo.from_dict(data["memory"]),
            host=HostInfo.from_dict(data["host"]),
        )
