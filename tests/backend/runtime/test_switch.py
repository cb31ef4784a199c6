"""The boot rule over the pointer and the marker (pure, table-style), and the state files."""

from __future__ import annotations

import json
import os

import pytest
from hearth.runtime.switch import (
    ACTIVATION_FAILED,
    RUNTIME_MISSING,
    SWITCH_INTERRUPTED,
    USER_CHOSE_CPU,
    Marker,
    Pointer,
    StateFiles,
    decide_boot,
    write_json_atomic,
)

GPU = Pointer("cuda-12.4-0.3.36", "cuda-12.4", "cuda", confirmed=True)
NEW = Pointer("cuda-12.4-0.3.36", "cuda-12.4", "cuda", confirmed=False)


def marker(attempts: int, *exits: str, folder: str = "cuda-12.4-0.3.36") -> Marker:
    return Marker(folder, "cuda-12.4", attempts, 1.0, tuple(exits))


# (pointer, marker, folder_ok, force_cpu, previous_exit) -> (folder used, pending, attempts
# written, revert code)
ROWS = [
    ("bundled", Pointer(), None, True, False, None, (None, False, None, None)),
    ("bundled, stale marker", Pointer(), marker(1), True, False, None, (None, False, None, None)),
    ("confirmed GPU", GPU, None, True, False, None, (GPU.folder, False, None, None)),
    ("first boot after switch", NEW, marker(0), True, False, None, (GPU.folder, True, 1, None)),
    (
        "second boot after a crash",
        NEW,
        marker(1),
        True,
        False,
        "signal SIGSEGV",
        (GPU.folder, True, 2, None),
    ),
    (
        "two failed activations",
        NEW,
        marker(2, "signal SIGSEGV"),
        True,
        False,
        "health timeout after 60 s",
        (None, False, None, ACTIVATION_FAILED),
    ),
    (
        "killed between pointer and marker",
        NEW,
        None,
        True,
        False,
        None,
        (None, False, None, SWITCH_INTERRUPTED),
    ),
    (
        "marker for another folder",
        NEW,
        marker(0, folder="other"),
        True,
        False,
        None,
        (None, False, None, SWITCH_INTERRUPTED),
    ),
    ("folder deleted", GPU, None, False, False, None, (None, False, None, RUNTIME_MISSING)),
    ("user chose CPU", GPU, None, True, True, None, (None, False, None, USER_CHOSE_CPU)),
    (
        "user chose CPU mid-activation",
        NEW,
        marker(1),
        True,
        True,
        None,
        (None, False, None, USER_CHOSE_CPU),
    ),
    ("killed after confirming", GPU, marker(1), True, False, None, (GPU.folder, True, 2, None)),
]


@pytest.mark.parametrize(
    ("pointer", "mark", "folder_ok", "force", "previous", "expected"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_decide_boot(pointer, mark, folder_ok, force, previous, expected):
    plan = decide_boot(
        pointer, mark, folder_ok=folder_ok, force_cpu=force, previous_exit=previous, now=5.0
    )
    folder, pending, attempts, revert = expected
    assert plan.folder == folder
    assert plan.pending is pending
    assert (plan.marker.attempts if plan.marker else None) == attempts
    assert (plan.revert.code if plan.revert else None) == revert
    if revert:
        assert plan.write_pointer and plan.pointer.bundled and plan.remove_marker
        assert plan.revert.variant == pointer.variant and plan.revert.at == 5.0


def test_the_revert_reason_names_the_last_failure():
    plan = decide_boot(
        NEW, marker(2, "signal SIGSEGV"), folder_ok=True, previous_exit="exit code 1"
    )
    assert plan.revert is not None
    assert plan.revert.attempts == 2
    assert "failed to start 2 times" in plan.revert.reason
    assert "last: exit code 1" in plan.revert.reason


def test_previous_exits_accumulate_in_the_marker():
    plan = decide_boot(
        NEW, marker(1, "signal SIGABRT"), folder_ok=True, previous_exit="exit code 3"
    )
    assert plan.marker is not None
    assert plan.marker.exits == ("signal SIGABRT", "exit code 3")


def test_state_files_round_trip_and_moves(tmp_path):
    files = StateFiles(tmp_path / "runtimes", clock=lambda: 42.0)
    assert files.pointer().bundled and files.marker() is None
    mark = files.commit_switch(Pointer("v-1", "v", "cuda"), "job")
    assert (mark.folder, mark.attempts, mark.job, mark.since) == ("v-1", 0, "job", 42.0)
    pointer = files.pointer()
    assert (pointer.folder, pointer.confirmed, pointer.job) == ("v-1", False, "job")
    files.confirm(pointer)
    assert files.pointer().confirmed and files.marker() is None
    revert = files.revert("activation_test_failed", "it broke")
    assert files.pointer().bundled
    assert json.loads((tmp_path / "runtimes" / "last_revert.json").read_text()) == revert.to_json()
    assert files.rollback().bundled


@pytest.mark.parametrize(
    "text", ["", "{", "[]", '{"folder": 3}', '{"folder": "../../etc"}', '{"folder": "a/b"}']
)
def test_damaged_or_hostile_pointers_never_leave_the_runtimes_folder(tmp_path, text):
    root = tmp_path / "runtimes"
    root.mkdir()
    (root / "active.json").write_text(text)
    pointer = StateFiles(root).pointer()
    assert pointer.bundled or pointer.folder == ""  # "" names no folder: the boot reverts
    plan = decide_boot(pointer, None, folder_ok=False)
    assert plan.folder is None


def test_atomic_write_leaves_old_or_new(tmp_path):
    target = tmp_path / "active.json"
    write_json_atomic(target, {"folder": "a"})
    write_json_atomic(target, {"folder": "b"})
    assert json.loads(target.read_text()) == {"folder": "b"}
    assert [p.name for p in tmp_path.iterdir()] == ["active.json"]
    # A temp file a crash left is cleared, never read.
    (tmp_path / f".active.json.{os.getpid() + 1}.tmp").write_text("{")
    files = StateFiles(tmp_path)
    files.remove_temp_files()
    assert [p.name for p in tmp_path.iterdir()] == ["active.json"]
