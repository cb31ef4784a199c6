"""The active runtime as the process sees it, and the upgrade state files around it.

Which runtime is active is decided by `hearth.runtime.bootstrap` before llama_cpp is imported;
this module reports what was really loaded. llama_cpp is imported inside the function, never at
import time: loading its native library takes a while and can fail, and either must not cost or
break startup."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hearth.runtime import switch

log = logging.getLogger(__name__)

BUNDLED_ID = switch.BUNDLED_ID
PENDING_FILE = Path("runtimes") / switch.PENDING_FILE
LAST_REVERT_FILE = Path("runtimes") / switch.LAST_REVERT_FILE
LAST_JOB_FILE = Path("runtimes") / switch.LAST_JOB_FILE


@dataclass(frozen=True)
class ActiveRuntime:
    id: str
    kind: str  # cpu | cuda | ...
    llama_cpp_version: str | None
    llama_cpp_path: str | None
    supports_gpu_offload: bool
    error: str | None = None  # why llama_cpp could not be inspected
    folder: str | None = None  # the staged runtime folder in use; None = bundled
    library_path: str | None = None  # the native libllama that was loaded
    # False when llama_cpp came from somewhere other than the runtime bootstrap chose.
    loaded_from_runtime: bool | None = None
    # The ggml backends loaded (ggml_backends.Backends.to_dict()): the CPU variant in use.
    cpu_backend: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_active_runtime(runtime_id: str | None = None, kind: str | None = None) -> ActiveRuntime:
    """What the importable llama_cpp is and whether it can offload; never raises. Without
    arguments, the runtime bootstrap chose for this process."""
    from hearth.runtime import bootstrap

    boot = bootstrap.current()
    if runtime_id is None or runtime_id == boot.runtime_id:
        runtime_id, kind = boot.runtime_id, kind or boot.kind
        folder = boot.search_path
    else:
        folder = None
    kind = kind or "cpu"
    folder_text = str(boot.folder) if boot.folder and runtime_id == boot.runtime_id else None
    try:
        from hearth.runtime import ggml_backends

        llama_cpp = ggml_backends.import_llama_cpp()
    except Exception as exc:  # ImportError, or OSError from a native library that won't load
        log.warning("llama_cpp cannot be imported: %s", exc)
        return ActiveRuntime(
            runtime_id, kind, None, None, False, f"cannot import llama_cpp: {exc}", folder_text
        )
    version = getattr(llama_cpp, "__version__", None)
    path = getattr(llama_cpp, "__file__", None)
    library = _library_path(llama_cpp)
    loaded_from = _inside(path, folder) if folder is not None else None
    found = ggml_backends.loaded()
    backends = found.to_dict() if found is not None else None
    try:
        offload = bool(llama_cpp.llama_supports_gpu_offload())
    except Exception as exc:
        return ActiveRuntime(
            runtime_id,
            kind,
            version,
            path,
            False,
            f"llama_supports_gpu_offload failed: {exc}",
            folder_text,
            library,
            loaded_from,
            backends,
        )
    return ActiveRuntime(
        runtime_id, kind, version, path, offload, None, folder_text, library, loaded_from, backends
    )


def _library_path(llama_cpp: Any) -> str | None:
    lib = getattr(getattr(llama_cpp, "llama_cpp", None), "_lib", None)
    name = getattr(lib, "_name", None)
    return str(name) if name else None


def _inside(path: str | None, folder: Path) -> bool:
    if not path:
        return False
    try:
        return Path(path).resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def read_upgrade_state(data_dir: Path) -> dict[str, Any]:
    """The pending activation marker, the last automatic revert, and the last upgrade job."""
    pending = _read_json(Path(data_dir) / PENDING_FILE)
    return {
        "pending": pending,
        "activation_pending": isinstance(pending, dict) and "folder" in pending,
        "last_revert": _read_json(Path(data_dir) / LAST_REVERT_FILE),
        "last_job": switch.StateFiles(Path(data_dir) / "runtimes").last_job(),
    }


def _read_json(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {"error": f"unreadable {path.name}: {exc}"}
