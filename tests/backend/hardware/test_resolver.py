"""The resolver, table-style: (GPUs, driver, OS, Python, active runtime) -> offer or reason."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest
from hearth.hardware import model
from hearth.hardware.model import Gpu, GpuFindings
from hearth.runtime import resolver as r
from hearth.runtime.registry import load_registry, parse_registry

SHA = "ab" * 32


def _artifacts(cuda_tag: str, python: str, platform: str, pinned: bool) -> list[dict]:
    pin = {"size": 123_456, "sha256": SHA} if pinned else {"size": None, "sha256": None}
    wheel = f"llama_cpp_python-0.3.36-{python}-{python}-{platform}.whl"
    return [
        {
            "role": "llama-cpp-python",
            "project": "llama-cpp-python",
            "version": "0.3.36",
            "filename": wheel,
            "url": f"https://example.invalid/{cuda_tag}/{wheel}",
            **pin,
        },
        {
            "role": "cuda-runtime",
            "project": f"nvidia-cuda-runtime-{cuda_tag[:4]}",
            "version": "1.0",
            "url": f"https://example.invalid/{cuda_tag}/cudart-{platform}.whl",
            **pin,
        },
    ]


def registry_data(pin_12: bool = True, pin_13: bool = True) -> dict:
    builds = [(py, plat) for py in ("cp311", "cp312") for plat in ("linux_x86_64", "win_amd64")]
    return {
        "schema": 1,
        "variants": [
            {
                "id": "cpu-bundled",
                "kind": "cpu",
                "llama_cpp_python": "0.3.36",
                "cuda": None,
                "min_driver": {},
                "compute_capability": None,
                "bundled": True,
                "builds": [{"python": py, "platform": p, "artifacts": []} for py, p in builds],
            },
            {
                "id": "cuda-12.4",
                "kind": "cuda",
                "llama_cpp_python": "0.3.36",
                "cuda": "12.4",
                "min_driver": {"linux": "525.60.13", "windows": "527.41"},
                "compute_capability": {"min": "6.0", "max": None},
                "builds": [
                    {"python": py, "platform": p, "artifacts": _artifacts("cu124", py, p, pin_12)}
                    for py, p in builds
                ],
            },
            {
                "id": "cuda-13.0",
                "kind": "cuda",
                "llama_cpp_python": "0.3.36",
                "cuda": "13.0",
                "min_driver": {"linux": "580", "windows": "580"},
                "compute_capability": {"min": "7.5", "max": None},
                "builds": [
                    {"python": py, "platform": p, "artifacts": _artifacts("cu130", py, p, pin_13)}
                    for py, p in builds
                ],
            },
        ],
    }


PINNED = parse_registry(registry_data())
UNPINNED = parse_registry(registry_data(pin_12=False, pin_13=False))
ONLY_12_PINNED = parse_registry(registry_data(pin_12=True, pin_13=False))

GTX1060 = ("NVIDIA GeForce GTX 1060 6GB", "6.1")
GTX1080 = ("GeForce GTX 1080", "6.1")
GTX1080TI = ("NVIDIA GeForce GTX 1080 Ti", "6.1")
P100 = ("Tesla P100-PCIE-16GB", "6.0")
GTX970 = ("GeForce GTX 970", "5.2")
K40 = ("Tesla K40m", "3.5")
K80 = ("Tesla K80", "3.7")
RTX2080TI = ("NVIDIA GeForce RTX 2080 Ti", "7.5")
RTX3060 = ("NVIDIA GeForce RTX 3060", "8.6")
RTX3090 = ("NVIDIA GeForce RTX 3090", "8.6")
RTX4090 = ("NVIDIA GeForce RTX 4090", "8.9")
H100 = ("NVIDIA H100 80GB HBM3", "9.0")
RTX5090 = ("NVIDIA GeForce RTX 5090", "12.0")
MYSTERY = ("NVIDIA Mystery 9000", None)


@dataclass(frozen=True)
class Row:
    label: str
    gpus: tuple[tuple[str, str | None], ...]
    driver: str | None
    cuda: str | None
    code: str
    variant: str | None = None  # offered variant, or the candidate for a refusal
    says: str = ""  # a fragment the reason must contain
    os: str = "linux"
    platform: str = "linux_x86_64"
    python: str = "cp311"
    active: str = "cpu-bundled"
    registry: str = "pinned"
    status: str = model.FOUND


# fmt: off
ROWS = [
    Row("GTX 1060 / 470: driver too old", (GTX1060,), "470.239.06", "11.4", r.DRIVER_TOO_OLD,
        "cuda-12.4", "needs driver 525.60.13 or newer on Linux"),
    Row("RTX 3060 / 535 (CUDA 12.2 driver runs 12.4)", (RTX3060,), "535.183.01", "12.2",
        r.UPGRADE, "cuda-12.4"),
    Row("RTX 4090 / 550", (RTX4090,), "550.54.15", "12.4", r.UPGRADE, "cuda-12.4"),
    Row("H100 / 570", (H100,), "570.124.06", "12.8", r.UPGRADE, "cuda-12.4"),
    Row("RTX 5090 (CC 12.0) / 580", (RTX5090,), "580.65.06", "13.0", r.UPGRADE, "cuda-13.0"),
    Row("RTX 5090 / 570: CUDA 13 needs 580", (RTX5090,), "570.86.15", "12.8", r.UPGRADE,
        "cuda-12.4"),
    Row("Kepler K40 CC 3.5: capability first", (K40,), "470.256.02", "11.4", r.CC_TOO_LOW,
        None, "compute capability 3.5"),
    Row("Maxwell GTX 970", (GTX970,), "535.183.01", "12.2", r.CC_TOO_LOW, None,
        "oldest needs compute capability 6.0"),
    Row("mixed 3090 + 1080 Ti / 550", (RTX3090, GTX1080TI), "550.120", "12.4", r.UPGRADE,
        "cuda-12.4"),
    Row("mixed 4090 + 1080 Ti / 580: CUDA 13 misses Pascal", (RTX4090, GTX1080TI), "580.65.06",
        "13.0", r.UPGRADE, "cuda-12.4"),
    Row("mixed 3060 + K80", (RTX3060, K80), "470.256.02", "11.4", r.CC_TOO_LOW, None,
        "Every GPU in the machine must be covered"),
    Row("GTX 1080 / 418", (GTX1080,), "418.226.00", "10.1", r.DRIVER_TOO_OLD, "cuda-12.4",
        "NVIDIA driver 418.226.00 is too old"),
    Row("no GPU", (), None, None, r.NO_GPU, status=model.NONE),
    Row("driver not answering", (), None, None, r.GPU_UNUSABLE, status=model.UNUSABLE),
    Row("Windows minimum exactly", (RTX3060,), "527.41", "12.0", r.UPGRADE, "cuda-12.4",
        os="windows", platform="win_amd64"),
    Row("Windows just below", (RTX3060,), "527.37", "12.0", r.DRIVER_TOO_OLD, "cuda-12.4",
        "527.41 or newer on Windows", os="windows", platform="win_amd64"),
    Row("Linux minimum exactly", (RTX3060,), "525.60.13", "12.0", r.UPGRADE, "cuda-12.4"),
    Row("Linux just below", (RTX3060,), "525.60.11", "12.0", r.DRIVER_TOO_OLD, "cuda-12.4",
        "525.60.13 or newer on Linux"),
    Row("Windows driver passes the Linux number", (RTX3060,), "526.98", "12.0",
        r.DRIVER_TOO_OLD, "cuda-12.4", os="windows", platform="win_amd64"),
    Row("Windows 5090 / 581", (RTX5090,), "581.15", "13.0", r.UPGRADE, "cuda-13.0",
        os="windows", platform="win_amd64", python="cp312"),
    Row("macOS", (RTX3060,), "535.1", "12.2", r.OS_NOT_COVERED, None, "macOS",
        os="macos", platform="macosx_arm64"),
    Row("Linux on ARM (GH200)", (H100,), "570.124.06", "12.8", r.OS_NOT_COVERED, None,
        "linux_aarch64", platform="linux_aarch64"),
    Row("Python 3.13", (RTX4090,), "550.54.15", "12.4", r.PYTHON_NOT_COVERED, None,
        "cp311, cp312", python="cp313"),
    Row("already on CUDA 12.4", (RTX4090,), "550.54.15", "12.4", r.ALREADY_BEST, "cuda-12.4",
        active="cuda-12.4"),
    Row("CUDA 12.4 active, 5090 on 580: move up", (RTX5090,), "580.65.06", "13.0", r.UPGRADE,
        "cuda-13.0", active="cuda-12.4"),
    Row("already on CUDA 13", (RTX5090,), "580.65.06", "13.0", r.ALREADY_BEST, "cuda-13.0",
        active="cuda-13.0"),
    Row("unknown capability", (MYSTERY,), "550.54.15", "12.4", r.CC_UNKNOWN, None,
        "NVIDIA Mystery 9000"),
    Row("unknown driver", (RTX4090,), None, None, r.DRIVER_UNKNOWN),
    Row("Turing 7.5 is CUDA 13's floor", (RTX2080TI,), "580.65.06", "13.0", r.UPGRADE,
        "cuda-13.0"),
    Row("Pascal 6.0 is CUDA 12's floor", (P100,), "580.65.06", "13.0", r.UPGRADE, "cuda-12.4"),
    Row("driver reports CUDA 11 only", (RTX3060,), "525.60.13", "11.8", r.DRIVER_TOO_OLD,
        "cuda-12.4", "supports CUDA 11.8 at most"),
    Row("nothing pinned", (RTX4090,), "550.54.15", "12.4", r.NOT_PINNED, "cuda-12.4",
        "not pinned", registry="unpinned"),
    Row("best not pinned, next best is", (RTX5090,), "580.65.06", "13.0", r.UPGRADE,
        "cuda-12.4", registry="only-12"),
    Row("on the best pinned one", (RTX5090,), "580.65.06", "13.0", r.ALREADY_BEST, "cuda-13.0",
        "would fit but is not pinned", active="cuda-12.4", registry="only-12"),
]
# fmt: on

REGISTRIES = {"pinned": PINNED, "unpinned": UNPINNED, "only-12": ONLY_12_PINNED}


def _findings(row: Row) -> GpuFindings:
    gpus = tuple(Gpu(i, name, f"GPU-{i}", 8192, 8000, cc) for i, (name, cc) in enumerate(row.gpus))
    reason = {
        model.NONE: "No NVIDIA GPU found: nvidia-smi not found on PATH.",
        model.UNUSABLE: "An NVIDIA driver seems present but no GPU could be read: exit 9.",
    }.get(row.status, "found")
    return GpuFindings(row.status, reason, "nvidia-smi", gpus, row.driver, row.cuda)


def test_table_has_enough_rows():
    assert len(ROWS) >= 25


@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
def test_resolver_table(row: Row):
    rec = r.recommend(
        _findings(row),
        REGISTRIES[row.registry],
        os_name=row.os,
        platform=row.platform,
        python=row.python,
        active_runtime_id=row.active,
    )
    assert rec.code == row.code, rec.reason
    assert rec.upgrade is (row.code == r.UPGRADE)
    shown = rec.variant if rec.upgrade else rec.candidate
    assert (shown.id if shown else None) == row.variant
    assert row.says in rec.reason
    assert rec.reason


def test_an_offer_carries_pinned_artifacts():
    row = ROWS[1]
    rec = r.recommend(
        _findings(row),
        PINNED,
        os_name="linux",
        platform="linux_x86_64",
        python="cp311",
        active_runtime_id="cpu-bundled",
    )
    assert rec.download_bytes == 2 * 123_456
    assert [a["role"] for a in rec.artifacts] == ["llama-cpp-python", "cuda-runtime"]
    assert all(a["sha256"] == SHA for a in rec.artifacts)
    doc = rec.to_dict()
    assert doc["variant"]["id"] == "cuda-12.4" and doc["variant"]["cuda"] == "12.4"


def test_shipped_registry_never_offers_an_unpinned_build():
    """Until the release script pins the shipped registry, a GPU that fits is told why nothing
    is offered; once pinned, the offer is exactly the pinned build."""
    shipped = load_registry()
    rec = r.recommend(
        _findings(ROWS[2]),
        shipped,
        os_name="linux",
        platform="linux_x86_64",
        python="cp311",
        active_runtime_id="cpu-bundled",
    )
    build = shipped.get("cuda-12.4").build_for("cp311", "linux_x86_64")
    if build.pinned:
        assert rec.code == r.UPGRADE and rec.variant.id == "cuda-12.4"
    else:
        assert rec.code == r.NOT_PINNED
        assert rec.candidate is not None and rec.candidate.id == "cuda-12.4"
        assert rec.variant is None and rec.artifacts == ()


def test_a_capped_variant_is_not_offered_above_its_range():
    data = copy.deepcopy(registry_data())
    data["variants"][1]["compute_capability"]["max"] = "8.9"  # like cu118
    del data["variants"][2]
    rec = r.recommend(
        _findings(Row("x", (RTX5090,), "580.65.06", "13.0", r.CC_NOT_COVERED)),
        parse_registry(data),
        os_name="linux",
        platform="linux_x86_64",
        python="cp311",
        active_runtime_id="cpu-bundled",
    )
    assert rec.code == r.CC_NOT_COVERED
