"""A fake NVML: an object with the pynvml calls Hearth uses, answering from a scripted machine.

Errors mirror pynvml's: NVMLError subclasses named after the NVML return codes, carrying `value`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace


class NVMLError(Exception):
    value = 999

    def __str__(self) -> str:
        return {
            1: "Uninitialized",
            3: "Not Supported",
            4: "Insufficient Permissions",
            9: "Driver Not Loaded",
            12: "NVML Shared Library Not Found",
            13: "Function Not Found",
        }.get(self.value, "Unknown Error")


class NVMLError_Uninitialized(NVMLError):
    value = 1


class NVMLError_NotSupported(NVMLError):
    value = 3


class NVMLError_NoPermission(NVMLError):
    value = 4


class NVMLError_DriverNotLoaded(NVMLError):
    value = 9


class NVMLError_LibraryNotFound(NVMLError):
    value = 12


class NVMLError_FunctionNotFound(NVMLError):
    value = 13


@dataclass
class FakeGpu:
    name: str
    uuid: str
    total_mib: int
    free_mib: int
    cc: tuple[int, int] | None  # None: nvmlDeviceGetCudaComputeCapability is not supported


@dataclass
class FakeNvml:
    gpus: list[FakeGpu] = field(default_factory=list)
    driver: str = "550.54.15"
    cuda: int | None = 12040  # None: nvmlSystemGetCudaDriverVersion is not supported
    init_error: type[NVMLError] | None = None
    calls: list[str] = field(default_factory=list)
    initialized: int = 0

    NVMLError = NVMLError

    # The pynvml calls Hearth makes -------------------------------------------------------

    def nvmlInit(self) -> None:
        self.calls.append("nvmlInit")
        if self.init_error is not None:
            raise self.init_error()
        self.initialized += 1

    def nvmlShutdown(self) -> None:
        self.calls.append("nvmlShutdown")
        self._require()
        self.initialized -= 1

    def nvmlSystemGetDriverVersion(self) -> str:
        self._require()
        return self.driver

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._require()
        if self.cuda is None:
            raise NVMLError_FunctionNotFound()
        return self.cuda

    def nvmlDeviceGetCount(self) -> int:
        self._require()
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        self._require()
        return self.gpus[index]

    def nvmlDeviceGetName(self, handle: FakeGpu) -> str:
        return handle.name

    def nvmlDeviceGetUUID(self, handle: FakeGpu) -> str:
        return handle.uuid

    def nvmlDeviceGetMemoryInfo(self, handle: FakeGpu) -> SimpleNamespace:
        mib = 1024 * 1024
        total, free = handle.total_mib * mib, handle.free_mib * mib
        return SimpleNamespace(total=total, free=free, used=total - free)

    def nvmlDeviceGetCudaComputeCapability(self, handle: FakeGpu) -> tuple[int, int]:
        if handle.cc is None:
            raise NVMLError_NotSupported()
        return handle.cc

    def _require(self) -> None:
        if self.initialized <= 0:
            raise NVMLError_Uninitialized()


def missing() -> FakeNvml:
    """NVML as on a machine without an NVIDIA driver: nvmlInit cannot find the library."""
    return FakeNvml(init_error=NVMLError_LibraryNotFound)


def rtx4090() -> FakeNvml:
    return FakeNvml(
        gpus=[
            FakeGpu(
                "NVIDIA GeForce RTX 4090",
                "GPU-9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f",
                24564,
                23500,
                (8, 9),
            )
        ],
        driver="550.54.15",
        cuda=12040,
    )
