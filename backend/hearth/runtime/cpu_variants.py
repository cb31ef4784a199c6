"""ggml's x86-64 CPU backend variants, and how to say which one runs, in words people read.

Hearth's CPU runtime is built with `GGML_CPU_ALL_VARIANTS`: one `ggml-cpu-<name>` module per
instruction-set level, and ggml loads the best one this processor supports at run time. The table
below mirrors `ggml_add_cpu_backend_variant(...)` in llama.cpp's `ggml/src/CMakeLists.txt` (the
version pinned in requirements-cpu.txt), oldest first. Pure data and decisions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The features a CPU backend reports about itself (`ggml_backend_get_features`) that tell the
# variants apart; the others (OPENMP, REPACK, LLAMAFILE) are the same in all of them.
ISA_FEATURES = (
    "SSE3",
    "SSSE3",
    "AVX",
    "F16C",
    "FMA",
    "AVX2",
    "BMI2",
    "AVX_VNNI",
    "AVX512",
    "AVX512_VBMI",
    "AVX512_VNNI",
    "AVX512_BF16",
    "AMX_INT8",
)

_SSE = ("SSE3", "SSSE3")  # what -msse4.2 implies; the backend reports no SSE4.2 flag of its own
_AVX2 = (*_SSE, "AVX", "F16C", "FMA", "AVX2", "BMI2")
_AVX512 = (*_AVX2, "AVX512")


@dataclass(frozen=True)
class CpuVariant:
    name: str  # the module's tag: libggml-cpu-<name>.so
    label: str  # the instruction set, as a person reads it
    features: frozenset[str]
    example: str  # a processor family it is for

    @property
    def title(self) -> str:
        return f"{self.label} ({self.name})"


def _v(name: str, label: str, features: tuple[str, ...], example: str) -> CpuVariant:
    return CpuVariant(name, label, frozenset(features), example)


VARIANTS: tuple[CpuVariant, ...] = (
    _v("x64", "x86-64 baseline", (), "any 64-bit PC"),
    _v("sse42", "SSE4.2", _SSE, "Intel Nehalem, AMD Bulldozer"),
    _v("sandybridge", "AVX", (*_SSE, "AVX"), "Intel Sandy Bridge"),
    _v("ivybridge", "AVX + F16C", (*_SSE, "AVX", "F16C"), "Intel Ivy Bridge"),
    _v("piledriver", "AVX + FMA", (*_SSE, "AVX", "F16C", "FMA"), "AMD Piledriver"),
    _v("haswell", "AVX2", _AVX2, "Intel Haswell, AMD Zen"),
    _v("skylakex", "AVX-512", _AVX512, "Intel Skylake-X"),
    _v("cannonlake", "AVX-512 VBMI", (*_AVX512, "AVX512_VBMI"), "Intel Cannon Lake"),
    _v("cascadelake", "AVX-512 VNNI", (*_AVX512, "AVX512_VNNI"), "Intel Cascade Lake"),
    _v(
        "icelake",
        "AVX-512 VBMI + VNNI",
        (*_AVX512, "AVX512_VBMI", "AVX512_VNNI"),
        "Intel Ice Lake",
    ),
    _v(
        "cooperlake",
        "AVX-512 VNNI + BF16",
        (*_AVX512, "AVX512_VNNI", "AVX512_BF16"),
        "Intel Cooper Lake",
    ),
    _v(
        "zen4",
        "AVX-512 VBMI + VNNI + BF16",
        (*_AVX512, "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"),
        "AMD Zen 4",
    ),
    _v("alderlake", "AVX2 + AVX-VNNI", (*_AVX2, "AVX_VNNI"), "Intel Alder Lake"),
    _v(
        "sapphirerapids",
        "AVX-512 + AMX",
        (*_AVX512, "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AMX_INT8"),
        "Intel Sapphire Rapids",
    ),
)
BY_NAME = {v.name: v for v in VARIANTS}
OLDEST = VARIANTS[0].name
AUTO = "auto"

_MODULE = re.compile(r"^(?:lib)?ggml-cpu-(?P<name>[A-Za-z0-9_.]+)\.(?:so|dll|dylib)$")
# Modules of other ggml backends that `ggml_backend_load_all_from_path` would look for.
GPU_BACKENDS = ("blas", "cuda", "hip", "vulkan", "sycl", "musa", "opencl", "rpc", "cann")
_GPU_MODULE = re.compile(r"^(?:lib)?ggml-(?P<name>[a-z]+)\.(?:so|dll|dylib)$")


def module_variant(filename: str) -> str | None:
    """`libggml-cpu-haswell.so` -> "haswell"; None for any other file."""
    match = _MODULE.match(filename)
    return match.group("name") if match else None


def gpu_module(filename: str) -> str | None:
    """`libggml-cuda.so` -> "cuda" (a non-CPU backend module); None otherwise."""
    match = _GPU_MODULE.match(filename)
    name = match.group("name") if match else None
    return name if name in GPU_BACKENDS else None


def isa_features(features: dict[str, str]) -> frozenset[str]:
    """The instruction-set features among a backend's reported ones (value "1" means present)."""
    return frozenset(k for k in ISA_FEATURES if features.get(k) not in (None, "", "0"))


def identify(features: dict[str, str]) -> CpuVariant | None:
    """The variant whose instruction sets a loaded CPU backend reports; None for a build that is
    none of them (a `-march=native` build enables whatever the build machine had)."""
    isa = isa_features(features)
    for variant in VARIANTS:
        if variant.features == isa:
            return variant
    return None


def describe(features: dict[str, str], *, dispatched: bool) -> str:
    """The sentence Settings and `hearth detect` show, e.g. "AVX2 (haswell)"."""
    variant = identify(features)
    if variant is not None:
        text = variant.title
    else:
        isa = [f.replace("_", "-") for f in ISA_FEATURES if f in isa_features(features)]
        text = f"built for one CPU ({' '.join(isa) or 'baseline x86-64'})"
    return text if dispatched else f"{text}, fixed at build time"


@dataclass(frozen=True)
class Choice:
    """What to do about a forced variant: load `variant` itself, or (None) let ggml pick."""

    variant: str | None
    requested: str | None  # the valid name asked for, if any
    problem: str | None  # why the request is not followed, in words


def choose(value: str | None, available: tuple[str, ...], setting: str) -> Choice:
    """Follow a forced variant only where the runtime has its module; `setting` names it."""
    try:
        requested = normalise_choice(value)
    except ValueError as exc:
        return Choice(None, None, f"{setting}: {exc}; using the best variant")
    if requested is None:
        return Choice(None, None, None)
    if not available:
        problem = f"{setting}={requested} was ignored: this runtime is built for one CPU"
        return Choice(None, requested, problem)
    if requested not in available:
        problem = f"{setting}={requested} was ignored: the runtime has no {requested} module"
        return Choice(None, requested, problem)
    return Choice(requested, requested, None)


def normalise_choice(value: str | None) -> str | None:
    """A forced variant from a setting: None for automatic; ValueError naming the choices."""
    text = (value or "").strip().lower()
    if text in ("", AUTO):
        return None
    if text not in BY_NAME:
        raise ValueError(f"unknown CPU variant {value!r}; one of: {AUTO}, {', '.join(BY_NAME)}")
    return text
