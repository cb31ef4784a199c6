"""The active runtime as the process sees it, and the upgrade state files around it.

For now the active runtime is always the bundled CPU build; the runtime switcher will point
`runtime_id` elsewhere. llama_cpp is imported inside the function, never at import time: loading
its native library takes a while and can fail, and either must not cost or break startup."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

BUNDLED_ID = "cpu-bundled"
# Written by the runtime switcher; see docs/PROTOCOL.md.
PENDING_FILE = Path("runtimes") / "pending.json"
LAST_REVERT_FILE = Path("runtimes") / "last_revert.json"


@dataclass(frozen=True)
class ActiveRuntime:
    id: str
    kind: str  # cpu | cuda | ...
    llama_cpp_version: str | None
    llama_cpp_path: str | None
    supports_gpu_offload: bool
    error: str | None = None  # why llama_cpp could not be inspected

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_active_runtime(runtime_id: str = BUNDLED_ID, kind: str = "cpu") -> ActiveRuntime:
    """What the importable llama_cpp is and whether it can offload; never raises."""
    try:
        import llama_cpp
    except Exception as exc:  # ImportError, or OSError from a native library that won't load
        log.warning("llama_cpp cannot be imported: %s", exc)
        return ActiveRuntime(runtime_id, kind, None, None, False, f"cannot import llama_cpp: {exc}")
    version = getattr(llama_cpp, "__version__", None)
    path = getattr(llama_cpp, "__file__", None)
    try:
        offload = bool(llama_cpp.llama_supports_gpu_offload())
    except Exception as exc:
        return ActiveRuntime(
            runtime_id, kind, version, path, False, f"llama_supports_gpu_offload failed: {exc}"
        )
    return ActiveRuntime(runtime_id, kind, version, path, offload)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {"error": f"unreadable {path.name}: {exc}"}


def read_upgrade_state(data_dir: Path) -> dict[str, Any]:
    """The pending activation marker and the last automatic revert, as the switcher left them."""
    return {
        "pending": _read_json(Path(data_dir) / PENDING_FILE),
        "last_revert": _read_json(Path(data_dir) / LAST_REVERT_FILE),
    }
