"""Which GPU runtime fits this machine (pure): (GPU findings, registry, OS, Python) -> a variant
to offer, or "no upgrade" with the reason the UI shows verbatim.

Order of the checks, each one explaining the refusal it causes: a usable NVIDIA GPU; a build for
this OS and Python; compute capability (first, for every GPU: Ollama learned that checking the
driver first gave Pascal users builds without their architecture); driver; already active; pinned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hearth.hardware import model
from hearth.hardware.model import Gpu, GpuFindings
from hearth.hardware.parse import version_tuple
from hearth.runtime.registry import Registry, Variant

UPGRADE = "upgrade_available"
NO_GPU = "no_nvidia_gpu"
GPU_UNUSABLE = "gpu_detection_failed"
OS_NOT_COVERED = "os_not_covered"
PYTHON_NOT_COVERED = "python_not_covered"
CC_UNKNOWN = "compute_capability_unknown"
CC_TOO_LOW = "compute_capability_too_low"
CC_NOT_COVERED = "compute_capability_not_covered"
DRIVER_UNKNOWN = "driver_version_unknown"
DRIVER_TOO_OLD = "driver_too_old"
ALREADY_BEST = "already_best"
NOT_PINNED = "artifacts_not_pinned"
REGISTRY_INVALID = "registry_invalid"

# Only NVIDIA GPUs are detected today; vulkan/metal/rocm variants wait for their detectors.
GPU_KINDS = ("cuda",)
_OS_LABEL = {"linux": "Linux", "windows": "Windows", "macos": "macOS"}


@dataclass(frozen=True)
class Recommendation:
    upgrade: bool
    code: str
    reason: str
    variant: Variant | None = None  # what to install when `upgrade`
    candidate: Variant | None = None  # the best fit for the hardware, even when not offered
    download_bytes: int | None = None
    artifacts: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "upgrade": self.upgrade,
            "code": self.code,
            "reason": self.reason,
            "variant": _variant_dict(self.variant),
            "candidate": _variant_dict(self.candidate),
            "download_bytes": self.download_bytes,
            "artifacts": [dict(a) for a in self.artifacts],
        }


def _variant_dict(variant: Variant | None) -> dict[str, Any] | None:
    if variant is None:
        return None
    return {
        "id": variant.id,
        "kind": variant.kind,
        "cuda": variant.cuda,
        "llama_cpp_python": variant.llama_cpp_python,
        "description": variant.description,
    }


def _no(code: str, reason: str, candidate: Variant | None = None) -> Recommendation:
    return Recommendation(upgrade=False, code=code, reason=reason, candidate=candidate)


def _cc(value: str) -> tuple[int, ...]:
    return version_tuple(value)


def covers(variant: Variant, cc: str) -> bool:
    if variant.cc_min is not None and _cc(cc) < _cc(variant.cc_min):
        return False
    return not (variant.cc_max is not None and _cc(cc) > _cc(variant.cc_max))


def _rank(variant: Variant) -> tuple[int, ...]:
    # The newest CUDA that fits wins: it supports the newest architectures and kernels.
    return version_tuple(variant.cuda or "0")


def _label(variant: Variant) -> str:
    return f"the CUDA {variant.cuda} runtime" if variant.cuda else f"the {variant.id} runtime"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _gpu_label(gpu: Gpu) -> str:
    return f"{gpu.name} (compute capability {gpu.compute_capability})"


def driver_problem(
    variant: Variant, driver: str, cuda_driver: str | None, os_name: str
) -> str | None:
    """Why this driver cannot run the variant, or None when it can."""
    needed = variant.min_driver.get(os_name)
    where = _OS_LABEL.get(os_name, os_name)
    if needed is not None and version_tuple(driver) < version_tuple(needed):
        return (
            f"NVIDIA driver {driver} is too old for {_label(variant)}, which needs driver "
            f"{needed} or newer on {where}. Update the NVIDIA driver to {needed} or newer to use "
            "the GPU."
        )
    # CUDA minor-version compatibility lets a 12.x runtime run on any 12.x driver past the
    # minimum above; across a major version it fails at load time.
    if (
        cuda_driver is not None
        and variant.cuda is not None
        and version_tuple(cuda_driver)[0] < version_tuple(variant.cuda)[0]
    ):
        return (
            f"NVIDIA driver {driver} supports CUDA {cuda_driver} at most; {_label(variant)} "
            f"needs a driver for CUDA {variant.cuda.split('.')[0]}.x "
            f"({needed or 'newer'} or newer on {where})."
        )
    return None


def recommend(
    gpu: GpuFindings,
    registry: Registry,
    *,
    os_name: str,
    platform: str,
    python: str,
    active_runtime_id: str,
) -> Recommendation:
    """The GPU runtime to offer, or why none is offered."""
    if gpu.status == model.UNUSABLE:
        return _no(GPU_UNUSABLE, gpu.reason)
    if gpu.status != model.FOUND or not gpu.gpus:
        return _no(NO_GPU, gpu.reason or "No NVIDIA GPU found.")

    variants = [v for v in registry.variants if v.kind in GPU_KINDS]
    on_platform = [v for v in variants if platform in v.platforms]
    if not on_platform:
        where = _OS_LABEL.get(os_name, os_name)
        return _no(OS_NOT_COVERED, f"No GPU runtime is built for {where} ({platform}).")
    for_python = [v for v in on_platform if v.build_for(python, platform) is not None]
    if not for_python:
        offered = sorted({b.python for v in on_platform for b in v.builds})
        return _no(
            PYTHON_NOT_COVERED,
            f"No GPU runtime is built for this Python ({python}) on {platform}; "
            f"builds exist for {', '.join(offered)}.",
        )

    unknown = [g for g in gpu.gpus if g.compute_capability is None]
    if unknown:
        names = ", ".join(g.name for g in unknown)
        return _no(
            CC_UNKNOWN,
            f"The compute capability of {names} could not be determined, so no GPU runtime "
            "can be chosen safely.",
        )
    fitting = [
        v for v in for_python if all(covers(v, g.compute_capability or "") for g in gpu.gpus)
    ]
    if not fitting:
        return _cc_refusal(gpu.gpus, for_python)

    if gpu.driver_version is None:
        return _no(DRIVER_UNKNOWN, "The NVIDIA driver version could not be read.")
    problems = {
        v.id: driver_problem(v, gpu.driver_version, gpu.cuda_driver_version, os_name)
        for v in fitting
    }
    runnable = [v for v in fitting if problems[v.id] is None]
    if not runnable:
        # Name the build that asks the least of the driver: the smallest step for the user.
        easiest = min(
            fitting, key=lambda v: version_tuple(v.min_driver.get(os_name, "0")) + _rank(v)
        )
        return _no(DRIVER_TOO_OLD, problems[easiest.id] or "", candidate=easiest)

    best = max(runnable, key=_rank)
    active = registry.get(active_runtime_id)
    if active is not None and active in runnable and _rank(active) >= _rank(best):
        return _no(ALREADY_BEST, f"Already on the best runtime for this GPU ({active.id}).", active)

    offerable = [v for v in runnable if _pinned(v, python, platform)]
    if not offerable:
        return _no(
            NOT_PINNED,
            f"{_sentence(_label(best))} fits this GPU, but its download is not pinned yet "
            "(Hearth has no verified checksum for it), so it is not offered. Hearth keeps "
            "running on the CPU.",
            candidate=best,
        )
    choice = max(offerable, key=_rank)
    if active is not None and active in runnable and _rank(active) >= _rank(choice):
        return _no(
            ALREADY_BEST,
            f"Already on the best runtime with pinned artifacts ({active.id}); "
            f"{_label(best)} would fit but is not pinned.",
            candidate=best,
        )
    build = choice.build_for(python, platform)
    assert build is not None
    gpus = ", ".join(g.name for g in gpu.gpus)
    return Recommendation(
        upgrade=True,
        code=UPGRADE,
        reason=(
            f"{_sentence(_label(choice))} fits {gpus} with driver {gpu.driver_version}. With it "
            "the model runs on the GPU, usually several times faster than on the CPU."
        ),
        variant=choice,
        candidate=best,
        download_bytes=build.download_bytes,
        artifacts=tuple(
            {
                "role": a.role,
                "project": a.project,
                "version": a.version,
                "filename": a.filename,
                "url": a.url,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in build.artifacts
        ),
    )


def _pinned(variant: Variant, python: str, platform: str) -> bool:
    build = variant.build_for(python, platform)
    return build is not None and build.pinned


def _cc_refusal(gpus: tuple[Gpu, ...], variants: list[Variant]) -> Recommendation:
    lowest = min((v.cc_min for v in variants if v.cc_min is not None), key=_cc, default=None)
    too_old = [
        g for g in gpus if lowest is not None and _cc(g.compute_capability or "0") < _cc(lowest)
    ]
    if too_old:
        names = ", ".join(_gpu_label(g) for g in too_old)
        extra = " Every GPU in the machine must be covered." if len(gpus) > 1 else ""
        return _no(
            CC_TOO_LOW,
            f"{names} is older than every GPU runtime (the oldest needs compute capability "
            f"{lowest}{_generation(lowest or '')}). Hearth runs on the CPU.{extra}",
        )
    names = ", ".join(_gpu_label(g) for g in gpus)
    return _no(CC_NOT_COVERED, f"No single GPU runtime covers all of: {names}.")


# The first GeForce generation of a compute capability, for people who do not know the number.
_GENERATIONS = {"6.0": "GeForce GTX 10xx", "7.5": "GeForce RTX 20xx", "8.6": "GeForce RTX 30xx"}


def _generation(cc: str) -> str:
    name = _GENERATIONS.get(cc)
    return f": {name} or newer" if name else ""
