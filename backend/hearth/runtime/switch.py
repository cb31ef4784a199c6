"""The active-runtime pointer, the pending-activation marker, and the boot rule over them.

docs/PROTOCOL.md is the contract. The files live in `<data>/runtimes/`:
  active.json       which runtime folder the next boot loads (absent = the bundled CPU build)
  pending.json      a switch not yet proven by a healthy boot and a test generation
  last_revert.json  why the app last went back to the CPU runtime by itself

`decide_boot` is pure (files in, plan out) and table-tested; `StateFiles` does the I/O, every
write atomic (temp file, fsync, rename). Standard library only: bootstrap imports this before
anything heavy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hearth.files import fsync_dir, write_json_atomic

BUNDLED_ID = "cpu-bundled"
# A backend that exits with this asks its supervisor for a respawn at once (docs/PROTOCOL.md).
RESTART_EXIT_CODE = 75
ACTIVE_FILE = "active.json"
PENDING_FILE = "pending.json"
LAST_REVERT_FILE = "last_revert.json"
LAST_JOB_FILE = "last_job.json"
# A boot that finds this many failed activations goes back to the CPU runtime.
MAX_FAILED_ACTIVATIONS = 2

# Reason codes of a revert; the UI shows `reason` verbatim and may branch on `code`.
USER_CHOSE_CPU = "user_chose_cpu"
RUNTIME_MISSING = "runtime_missing"
SWITCH_INTERRUPTED = "switch_interrupted"
ACTIVATION_FAILED = "activation_failed"


@dataclass(frozen=True)
class Pointer:
    """active.json. `folder` None means the bundled CPU runtime."""

    folder: str | None = None
    variant: str = BUNDLED_ID
    kind: str = "cpu"
    # False from the switch until the new runtime proved itself (marker cleared).
    confirmed: bool = True
    switched_at: float | None = None
    job: str | None = None

    @property
    def bundled(self) -> bool:
        return self.folder is None

    @classmethod
    def from_json(cls, data: Any) -> Pointer:
        if not isinstance(data, dict) or not isinstance(data.get("folder"), str):
            return cls()
        return cls(
            folder=_safe_name(data["folder"]),
            variant=str(data.get("variant") or data["folder"]),
            kind=str(data.get("kind") or "cpu"),
            confirmed=bool(data.get("confirmed", False)),
            switched_at=_number(data.get("switched_at")),
            job=data.get("job") if isinstance(data.get("job"), str) else None,
        )


@dataclass(frozen=True)
class Marker:
    """pending.json: the runtime being activated and how many boots tried it."""

    folder: str
    variant: str
    attempts: int = 0
    since: float = 0.0
    # What happened to earlier boots, as the shell reported it (HEARTH_PREVIOUS_EXIT).
    exits: tuple[str, ...] = ()
    job: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Marker | None:
        if not isinstance(data, dict) or not isinstance(data.get("folder"), str):
            return None
        attempts = data.get("attempts")
        exits = data.get("exits")
        return cls(
            folder=_safe_name(data["folder"]),
            variant=str(data.get("variant") or data["folder"]),
            attempts=attempts if isinstance(attempts, int) and attempts >= 0 else 0,
            since=_number(data.get("since")) or 0.0,
            exits=tuple(str(e) for e in exits) if isinstance(exits, list) else (),
            job=data.get("job") if isinstance(data.get("job"), str) else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "exits": list(self.exits)}


@dataclass(frozen=True)
class Revert:
    """last_revert.json: why this boot went back to the CPU runtime."""

    code: str
    reason: str
    variant: str
    folder: str | None
    attempts: int = 0
    at: float = 0.0
    job: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BootPlan:
    """What a boot does with the state files, and which runtime it loads."""

    pointer: Pointer  # the pointer after this boot (written when `write_pointer`)
    write_pointer: bool = False
    marker: Marker | None = None  # written when set
    remove_marker: bool = False
    revert: Revert | None = None
    pending: bool = False  # this boot is an activation attempt

    @property
    def folder(self) -> str | None:
        return self.pointer.folder


def decide_boot(
    pointer: Pointer,
    marker: Marker | None,
    *,
    folder_ok: bool,
    force_cpu: bool = False,
    previous_exit: str | None = None,
    now: float = 0.0,
) -> BootPlan:
    """The revert rule of docs/PROTOCOL.md, as a pure function of the state files."""
    if pointer.bundled:
        return BootPlan(pointer, remove_marker=marker is not None)

    def back_to_cpu(code: str, reason: str, attempts: int = 0) -> BootPlan:
        revert = Revert(code, reason, pointer.variant, pointer.folder, attempts, now, pointer.job)
        return BootPlan(Pointer(), write_pointer=True, remove_marker=True, revert=revert)

    if force_cpu:
        return back_to_cpu(USER_CHOSE_CPU, "user chose CPU runtime")
    if not folder_ok:
        return back_to_cpu(
            RUNTIME_MISSING,
            f"The {pointer.variant} runtime folder ({pointer.folder}) is missing or incomplete; "
            "back on the CPU runtime.",
        )
    if marker is None or marker.folder != pointer.folder:
        if not pointer.confirmed:
            # The pointer is written before the marker: a switch killed between the two.
            return back_to_cpu(
                SWITCH_INTERRUPTED,
                f"The switch to {pointer.variant} was interrupted before it completed; "
                "back on the CPU runtime.",
            )
        return BootPlan(pointer, remove_marker=marker is not None)

    exits = marker.exits + ((previous_exit,) if previous_exit else ())
    if marker.attempts >= MAX_FAILED_ACTIVATIONS:
        last = exits[-1] if exits else "no exit reported"
        return back_to_cpu(
            ACTIVATION_FAILED,
            f"The {pointer.variant} runtime failed to start {marker.attempts} times after the "
            f"switch (last: {last}); back on the CPU runtime.",
            marker.attempts,
        )
    counted = replace(marker, attempts=marker.attempts + 1, exits=exits)
    return BootPlan(pointer, marker=counted, pending=True)


# --- I/O ---------------------------------------------------------------------------------------


def read_json(path: Path) -> Any:
    """The decoded file, None when absent or unreadable (a torn file counts as absent)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class StateFiles:
    """The state files of one data dir. `write` is the OS edge, replaceable in tests."""

    root: Path  # <data>/runtimes
    write: Callable[[Path, Any], None] = field(default=write_json_atomic)
    clock: Callable[[], float] = field(default=time.time)

    def pointer(self) -> Pointer:
        return Pointer.from_json(read_json(self.root / ACTIVE_FILE))

    def marker(self) -> Marker | None:
        return Marker.from_json(read_json(self.root / PENDING_FILE))

    def last_revert(self) -> dict[str, Any] | None:
        return read_json(self.root / LAST_REVERT_FILE)

    def last_job(self) -> dict[str, Any] | None:
        data = read_json(self.root / LAST_JOB_FILE)
        return data if isinstance(data, dict) else None

    def write_pointer(self, pointer: Pointer) -> None:
        self.write(self.root / ACTIVE_FILE, asdict(pointer))

    def write_marker(self, marker: Marker) -> None:
        self.write(self.root / PENDING_FILE, marker.to_json())

    def remove_marker(self) -> None:
        (self.root / PENDING_FILE).unlink(missing_ok=True)
        if self.root.is_dir():
            fsync_dir(self.root)

    def write_revert(self, revert: Revert) -> None:
        self.write(self.root / LAST_REVERT_FILE, revert.to_json())

    def write_job(self, job: dict[str, Any]) -> None:
        self.write(self.root / LAST_JOB_FILE, job)

    def remove_temp_files(self) -> None:
        """Temp files of an atomic write a crash interrupted."""
        if not self.root.is_dir():
            return
        for tmp in self.root.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)

    # -- the moves -------------------------------------------------------------------------

    def commit_switch(self, pointer: Pointer, job: str | None = None) -> Marker:
        """Point at a new runtime, unconfirmed, then mark it pending (the order PROTOCOL.md
        gives: a kill between the two leaves an unconfirmed pointer, which the boot reverts)."""
        assert pointer.folder is not None
        now = self.clock()
        self.write_pointer(replace(pointer, confirmed=False, switched_at=now, job=job))
        marker = Marker(pointer.folder, pointer.variant, 0, now, (), job)
        self.write_marker(marker)
        return marker

    def confirm(self, pointer: Pointer) -> None:
        """The new runtime booted healthy and generated: it stays, the marker goes."""
        self.write_pointer(replace(pointer, confirmed=True))
        self.remove_marker()

    def rollback(self) -> Pointer:
        """Back to the bundled CPU runtime by hand; the previous pointer is returned."""
        previous = self.pointer()
        self.write_pointer(Pointer())
        self.remove_marker()
        return previous

    def revert(self, code: str, reason: str) -> Revert:
        """Back to CPU now because the active runtime failed (recorded in last_revert.json)."""
        pointer, marker = self.pointer(), self.marker()
        revert = Revert(
            code,
            reason,
            pointer.variant,
            pointer.folder,
            marker.attempts if marker else 0,
            self.clock(),
            pointer.job,
        )
        self.write_pointer(Pointer())
        self.remove_marker()
        self.write_revert(revert)
        return revert

    def apply(self, plan: BootPlan) -> None:
        if plan.write_pointer:
            self.write_pointer(plan.pointer)
        if plan.marker is not None:
            self.write_marker(plan.marker)
        elif plan.remove_marker:
            self.remove_marker()
        if plan.revert is not None:
            self.write_revert(plan.revert)


def _safe_name(value: str) -> str:
    # A pointer names a folder under runtimes/; never a path that leaves it.
    name = Path(value).name
    return name if name and name not in (".", "..") and name == value else ""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
