"""Chooses the llama.cpp runtime for this process; runs before anything imports llama_cpp.

`boot` applies the revert rule of docs/PROTOCOL.md to the state files, then `activate` preloads
the CUDA libraries of a staged runtime and puts exactly one runtime folder first on `sys.path`:
the active staged one, or the bundled one (frozen app). From a source checkout the bundled runtime
is the virtual environment's own llama_cpp, so nothing is put first for it.

The probe child calls `activate` too, so a runtime is tested in the environment it will run in.
Standard library only (plus small stdlib-only siblings): no pydantic, no FastAPI, no llama_cpp.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hearth import paths
from hearth.runtime import installed
from hearth.runtime.switch import BUNDLED_ID, BootPlan, Pointer, StateFiles, decide_boot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BootResult:
    """What this process runs on; /api/capabilities reports it."""

    runtime_id: str = BUNDLED_ID  # the registry variant id
    kind: str = "cpu"
    folder: Path | None = None  # the staged runtime folder; None = bundled
    search_path: Path | None = None  # what was put first on sys.path, if anything
    pending: bool = False  # this boot is an activation attempt
    attempts: int = 0
    revert: dict[str, Any] | None = None  # set when this boot went back to CPU
    job: str | None = None
    preloaded: tuple[str, ...] = ()
    preload_errors: tuple[str, ...] = ()
    booted: bool = False  # False: bootstrap never ran in this process (tests, in-process apps)
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "runtime_id": self.runtime_id,
            "kind": self.kind,
            "folder": str(self.folder) if self.folder else None,
            "search_path": str(self.search_path) if self.search_path else None,
            "pending": self.pending,
            "attempts": self.attempts,
            "revert": self.revert,
            "preloaded": list(self.preloaded),
            "preload_errors": list(self.preload_errors),
            "booted": self.booted,
        }


_current: BootResult | None = None


def current() -> BootResult:
    """This process's boot result; the bundled runtime when bootstrap did not run."""
    return _current or BootResult()


def boot(
    data_dir: Path,
    *,
    force_cpu: bool = False,
    previous_exit: str | None = None,
    apply_rules: bool = True,
) -> BootResult:
    """Pick the runtime and activate it. `apply_rules=False` (a CLI chat, not supervised) only
    reads: it uses a confirmed runtime and leaves pending activations to the supervised server."""
    global _current
    if "llama_cpp" in sys.modules:
        log.error("bootstrap ran after llama_cpp was imported; the runtime choice cannot apply")
    root = paths.runtimes_dir(Path(data_dir))
    files = StateFiles(root)
    if apply_rules:
        files.remove_temp_files()
    pointer, marker = files.pointer(), files.marker()
    runtime = None if pointer.bundled else installed.find_installed(root, pointer.folder or "")
    plan = decide_boot(
        pointer,
        marker,
        folder_ok=runtime is not None,
        force_cpu=force_cpu,
        previous_exit=previous_exit,
        now=time.time(),
    )
    if apply_rules:
        files.apply(plan)
        if plan.revert is not None:
            log.warning("runtime reverted to CPU: %s", plan.revert.reason)
            _record_job_revert(files, plan)
    elif plan.revert is not None or (plan.marker is not None and plan.pending):
        plan = BootPlan(Pointer())  # read-only: the bundled runtime, files untouched
    chosen = runtime if plan.folder is not None else None
    preloaded, errors = activate(chosen, runtimes_root=root)
    result = BootResult(
        runtime_id=chosen.variant if chosen else BUNDLED_ID,
        kind=chosen.kind if chosen else "cpu",
        folder=chosen.path if chosen else None,
        search_path=_search_path(chosen),
        pending=plan.pending,
        attempts=plan.marker.attempts if plan.marker else 0,
        revert=plan.revert.to_json() if plan.revert else None,
        job=plan.marker.job if plan.marker else None,
        preloaded=preloaded,
        preload_errors=errors,
        booted=True,
    )
    log.info(
        "runtime %s%s from %s",
        result.runtime_id,
        f" (activation attempt {result.attempts})" if result.pending else "",
        result.search_path or "the environment",
    )
    _current = result
    return result


def _search_path(runtime: installed.InstalledRuntime | None) -> Path | None:
    if runtime is not None:
        return runtime.path
    return paths.bundled_runtime_dir()


def activate(
    runtime: installed.InstalledRuntime | None, *, runtimes_root: Path | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Make `runtime` (None = bundled) the llama_cpp this process imports: preload its CUDA
    libraries, then put its folder, and no other runtime folder, first on sys.path.
    Returns (libraries preloaded, preload errors); a failed preload surfaces later as an import
    error of llama_cpp with the real cause, which is what the probe reports."""
    preloaded: list[str] = []
    errors: list[str] = []
    if runtime is not None:
        for rel in runtime.dll_dirs:
            _add_dll_directory(runtime.path / rel)
        preloaded, errors = _preload([runtime.path / rel for rel in runtime.preload])
    search = _search_path(runtime)
    bundled = paths.bundled_runtime_dir()
    others = {str(p) for p in (bundled,) if p is not None}
    for entry in list(sys.path):
        if entry in others or (runtimes_root and _is_under(entry, runtimes_root)):
            sys.path.remove(entry)
    if search is not None:
        sys.path.insert(0, str(search))
    importlib.invalidate_caches()
    return tuple(preloaded), tuple(errors)


def _preload(libraries: list[Path]) -> tuple[list[str], list[str]]:
    # RTLD_GLOBAL so libllama/libggml-cuda find the symbols when they are loaded later.
    loaded: list[str] = []
    errors: list[str] = []
    for lib in libraries:
        try:
            ctypes.CDLL(str(lib), mode=getattr(ctypes, "RTLD_GLOBAL", 0))
            loaded.append(str(lib))
        except OSError as exc:
            errors.append(f"{lib.name}: {exc}")
            log.warning("could not preload %s: %s", lib, exc)
    return loaded, errors


def _add_dll_directory(folder: Path) -> None:
    if sys.platform != "win32" or not folder.is_dir():
        return
    os.add_dll_directory(str(folder))  # type: ignore[attr-defined]
    # Some loaders (and llama.cpp's own backend loader) still search PATH.
    os.environ["PATH"] = str(folder) + os.pathsep + os.environ.get("PATH", "")


def _is_under(entry: str, root: Path) -> bool:
    try:
        return Path(entry).resolve().is_relative_to(root.resolve())
    except (OSError, ValueError):
        return False


def _record_job_revert(files: StateFiles, plan: BootPlan) -> None:
    """The job that made the switch ends failed, with the revert's reason."""
    revert = plan.revert
    job = files.last_job()
    # Only the job whose switch this was, and only while it is still open: a runtime that a
    # finished job installed long ago does not reopen that job when it is reverted.
    if revert is None or job is None or revert.job is None or job.get("id") != revert.job:
        return
    if job.get("state") != "running":
        return
    job.update(
        state="failed",
        stage="failed",
        error={"code": revert.code, "message": revert.reason},
        reverted_to_cpu=True,
        updated_at=time.time(),
    )
    files.write_job(job)
