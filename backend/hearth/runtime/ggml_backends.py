"""Loads llama.cpp's backend modules into this process before the first model is loaded.

Hearth's runtimes are built with `GGML_BACKEND_DL`: the CPU code sits in one module per
instruction-set level (`libggml-cpu-haswell.so`, ...; see cpu_variants.py) and a GPU runtime adds
`libggml-cuda.so`. ggml loads none of them by itself, and llama-cpp-python never asks it to
(upstream issue #2069), so without this a model load finds no device at all. `import_llama_cpp`
is therefore the one way Hearth imports llama_cpp: it calls ggml's own
`ggml_backend_load_all_from_path` on the runtime's `lib/` folder, through the libggml handle
llama-cpp-python has already opened, and ggml picks the best CPU variant this processor runs.

`HEARTH_CPU_VARIANT` (a variant name, or `auto`) forces one CPU variant instead: for tests, which
use it to run on the oldest variant a CPU can have, and for troubleshooting. It is read from the
environment here rather than from Settings because the backends are per process and must be the
same in processes that never build Settings: the probe child and tests that drive the engine
directly; the CLI exports a `.env` value before anything loads (cli._boot_runtime).

Nothing here raises: a runtime that is not a real llama_cpp (a test's stand-in) or has no
modules gets a report that says so, and the model load that follows reports the real failure.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hearth import heavy
from hearth.runtime import cpu_variants

log = logging.getLogger(__name__)

ENV = "HEARTH_CPU_VARIANT"


@dataclass(frozen=True)
class Backends:
    """Which ggml backends this process loaded, for /api/capabilities and `hearth detect`."""

    dispatched: bool = False  # the runtime has CPU variant modules (GGML_BACKEND_DL)
    cpu_variant: str | None = None  # the variant in use, e.g. "haswell"
    cpu_label: str | None = None  # in words, e.g. "AVX2 (haswell)"
    cpu_features: dict[str, str] = field(default_factory=dict)
    forced: str | None = None  # the variant HEARTH_CPU_VARIANT asked for
    available: tuple[str, ...] = ()  # the variant modules in the runtime's lib folder
    backends: tuple[str, ...] = ()  # ggml's registered backends: "CPU", "CUDA", ...
    lib_dir: str | None = None
    error: str | None = None  # what is not as it should be, in words
    # Why a GPU module in the runtime gives no device (no driver library, say), in words.
    gpu_problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["available"] = list(self.available)
        data["backends"] = list(self.backends)
        data["gpu_problems"] = list(self.gpu_problems)
        return data


class _Feature(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_char_p)]


_GET_FEATURES = ctypes.CFUNCTYPE(ctypes.POINTER(_Feature), ctypes.c_void_p)

_lock = threading.Lock()
_loaded: Backends | None = None


def import_llama_cpp() -> Any:
    """llama_cpp, with its backends loaded: what every model load in Hearth goes through."""
    with heavy.imports():
        import llama_cpp

    ensure_loaded(llama_cpp)
    return llama_cpp


def ensure_loaded(llama_cpp: Any) -> Backends:
    """Load the backends once per process (ggml's registry is per process) and say which."""
    global _loaded
    with _lock:
        if _loaded is None:
            from hearth.engine import llamalog

            # ggml's "loaded CPU backend from ..." goes to our log; a stand-in has no log API.
            with contextlib.suppress(AttributeError):
                llamalog.install(False)
            _loaded = _load(llama_cpp, os.environ.get(ENV))
            _log(_loaded)
        return _loaded


def loaded() -> Backends | None:
    """What ensure_loaded found, if it ran in this process."""
    return _loaded


def _log(found: Backends) -> None:
    if found.error:
        log.warning("llama.cpp backends: %s", found.error)
    log.info(
        "llama.cpp backends %s; CPU backend: %s",
        ", ".join(found.backends) or "none",
        found.cpu_label or "none",
    )


def _load(llama_cpp: Any, requested: str | None) -> Backends:
    try:
        lib_dir = _lib_dir(llama_cpp)
        api = _Api(_ggml_handle(llama_cpp))
    except Exception as exc:  # a stand-in package, or a build without the ggml functions
        return Backends(error=f"this llama_cpp cannot load ggml backends ({exc})")
    files = sorted(p.name for p in lib_dir.iterdir()) if lib_dir.is_dir() else []
    available = tuple(
        v.name
        for v in cpu_variants.VARIANTS
        if any(cpu_variants.module_variant(f) == v.name for f in files)
    )
    choice = cpu_variants.choose(requested, available, ENV)
    problems = [choice.problem] if choice.problem else []
    forced_in = False
    if choice.variant:
        module = next(f for f in files if cpu_variants.module_variant(f) == choice.variant)
        forced_in = api.load(lib_dir / module)  # ggml refuses a variant the CPU cannot run
        if not forced_in:
            problems.append(
                f"the {choice.variant} CPU variant does not run on this processor; "
                "using the best one"
            )
    if forced_in:
        for name in files:  # the GPU modules beside it, as load_all would have loaded them
            if cpu_variants.gpu_module(name):
                api.load(lib_dir / name)
    else:
        # Harmless on a build without variant modules: its CPU backend is built in.
        api.load_all(lib_dir)
    regs = api.registered()
    gpu_problems = _gpu_module_problems(api, lib_dir, files)
    cpu = regs.get("CPU")
    features = api.features(cpu) if cpu is not None else {}
    if cpu is None:
        problems.append(f"llama.cpp found no CPU backend for this processor in {lib_dir}")
    variant = cpu_variants.identify(features) if cpu is not None else None
    return Backends(
        dispatched=bool(available),
        cpu_variant=variant.name if variant else None,
        cpu_label=cpu_variants.describe(features, dispatched=bool(available)) if cpu else None,
        cpu_features=features,
        forced=choice.requested,
        available=available,
        backends=tuple(regs),
        lib_dir=str(lib_dir),
        error="; ".join([*problems, *gpu_problems]) or None,
        gpu_problems=tuple(gpu_problems),
    )


def _gpu_module_problems(api: _Api, lib_dir: Path, files: list[str]) -> list[str]:
    """Why a GPU module beside the CPU ones gives no device, in words a person can act on.
    ggml's release build loads modules silently, so a CUDA runtime on a PC without the NVIDIA
    driver would otherwise only say that it found no GPU."""
    regs = api.registered()
    problems = []
    for name in files:
        backend = cpu_variants.gpu_module(name)
        if backend is None:
            continue
        reg = next((r for n, r in regs.items() if n.upper() == backend.upper()), None)
        if reg is None:
            try:
                ctypes.CDLL(str(lib_dir / name))
                problems.append(f"the {backend.upper()} module ({name}) did not register")
            except OSError as exc:
                problems.append(_load_failure(backend, name, str(exc)))
        elif api.device_count(reg) == 0:
            driver = _driver_missing(backend)
            problems.append(driver or f"the {backend.upper()} module found no usable device")
    return problems


# The NVIDIA driver's own library: no runtime ships it, the driver installs it.
_DRIVER_LIBRARY = {"cuda": "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"}


def _driver_sentence(library: str) -> str:
    return (
        f"the NVIDIA driver's library {library} was not found, so the GPU cannot be used. "
        "Install or repair the NVIDIA driver, then try again"
    )


def _load_failure(backend: str, name: str, message: str) -> str:
    library = _DRIVER_LIBRARY.get(backend)
    if library and library.split(".")[0] in message:
        return _driver_sentence(library)
    return f"the {backend.upper()} module ({name}) could not be loaded: {message}"


def _driver_missing(backend: str) -> str | None:
    library = _DRIVER_LIBRARY.get(backend)
    if library is None:
        return None
    try:
        ctypes.CDLL(library)
    except OSError:
        return _driver_sentence(library)
    return None


def _lib_dir(llama_cpp: Any) -> Path:
    """The folder of the libllama this process loaded: its backend modules sit beside it."""
    libllama = getattr(getattr(llama_cpp, "llama_cpp", None), "_lib", None)
    name = getattr(libllama, "_name", None)
    if name:
        return Path(name).resolve().parent
    return Path(llama_cpp.__file__).resolve().parent / "lib"


def _ggml_handle(llama_cpp: Any) -> ctypes.CDLL:
    """The libggml that libllama really uses. On Linux that is not llama_cpp._ggml's handle: a
    wheel holds no symlinks, so libggml.so (which _ggml opens by path) and libggml.so.0 (which
    libllama needs) are two copies of one file, loaded twice, each with a registry of its own.
    dlsym through libllama's handle searches its dependencies and so reaches the right copy.
    Windows' GetProcAddress does not search dependencies; there both names are one ggml.dll."""
    libllama = getattr(getattr(llama_cpp, "llama_cpp", None), "_lib", None)
    if libllama is not None and hasattr(libllama, "ggml_backend_load_all_from_path"):
        return libllama
    from llama_cpp._ggml import libggml

    return libggml


class _Api:
    """The few ggml backend-registry functions, typed, on llama-cpp-python's libggml handle."""

    def __init__(self, lib: ctypes.CDLL):
        self._load = lib.ggml_backend_load
        self._load.argtypes, self._load.restype = [ctypes.c_char_p], ctypes.c_void_p
        self._load_all = lib.ggml_backend_load_all_from_path
        self._load_all.argtypes, self._load_all.restype = [ctypes.c_char_p], None
        self._count = lib.ggml_backend_reg_count
        self._count.argtypes, self._count.restype = [], ctypes.c_size_t
        self._get = lib.ggml_backend_reg_get
        self._get.argtypes, self._get.restype = [ctypes.c_size_t], ctypes.c_void_p
        self._name = lib.ggml_backend_reg_name
        self._name.argtypes, self._name.restype = [ctypes.c_void_p], ctypes.c_char_p
        self._dev_count = lib.ggml_backend_reg_dev_count
        self._dev_count.argtypes, self._dev_count.restype = [ctypes.c_void_p], ctypes.c_size_t
        self._proc = lib.ggml_backend_reg_get_proc_address
        self._proc.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self._proc.restype = ctypes.c_void_p

    def load(self, path: Path) -> bool:
        return bool(self._load(os.fsencode(path)))

    def load_all(self, folder: Path) -> None:
        self._load_all(os.fsencode(folder))

    def registered(self) -> dict[str, int]:
        regs: dict[str, int] = {}
        for i in range(int(self._count())):
            reg = self._get(i)
            name = (self._name(reg) or b"?").decode(errors="replace")
            regs.setdefault(name, reg)
        return regs

    def device_count(self, reg: int) -> int:
        return int(self._dev_count(reg))

    def features(self, reg: int) -> dict[str, str]:
        address = self._proc(reg, b"ggml_backend_get_features")
        if not address:
            return {}
        found: dict[str, str] = {}
        array = _GET_FEATURES(address)(reg)
        i = 0
        while array and array[i].name is not None:
            found[array[i].name.decode()] = (array[i].value or b"").decode()
            i += 1
        return found
