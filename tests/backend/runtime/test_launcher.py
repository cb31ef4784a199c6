"""`serve`'s launcher: the respawn policy (pure, table-style) and the real process handling."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from hearth.runtime.launcher import CrashHistory, describe_exit, next_step

from tests.backend.server_process import REPO


@pytest.mark.parametrize(
    ("returncode", "stopping", "earlier_crashes", "action", "code", "previous"),
    [
        (0, False, [], "exit", 0, None),
        (75, False, [], "respawn", 0, None),
        (75, False, [1.0, 2.0, 3.0], "respawn", 0, None),  # a restart is never a crash
        (1, False, [], "respawn", 0, "exit code 1"),
        (-11, False, [], "respawn", 0, "signal SIGSEGV"),
        (-11, False, [50.0, 55.0], "respawn", 0, "signal SIGSEGV"),
        (-11, False, [50.0, 55.0, 58.0], "exit", 1, None),  # a 4th crash within 60 s
        (3, False, [50.0, 55.0, 58.0], "exit", 3, None),
        (-11, False, [0.0, 1.0, 58.0], "respawn", 0, "signal SIGSEGV"),  # old ones expired
        (-15, True, [], "exit", 0, None),  # we were asked to stop
        (0, True, [], "exit", 0, None),
    ],
)
def test_next_step(returncode, stopping, earlier_crashes, action, code, previous):
    crashes = CrashHistory(list(earlier_crashes))
    step = next_step(returncode, stopping=stopping, crashes=crashes, now=61.0)
    assert (step.action, step.code, step.previous_exit) == (action, code, previous)


def test_a_health_timeout_is_a_crash_named_as_such():
    step = next_step(
        None, stopping=False, crashes=CrashHistory(), now=0.0, why="health timeout after 60 s"
    )
    assert (step.action, step.previous_exit) == ("respawn", "health timeout after 60 s")


def test_backoff_grows_with_recent_crashes():
    crashes = CrashHistory()
    delays = [next_step(1, stopping=False, crashes=crashes, now=t).delay for t in (0, 1, 2)]
    assert delays == sorted(delays) and delays[0] > 0


def test_describe_exit():
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(-9) == "signal SIGKILL"


# A stand-in server: each run logs what it was told, then does what its turn in the script says.
_CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    log, script = sys.argv[1], sys.argv[2].split(",")
    with open(log, "a") as fh:
        fh.write(json.dumps(os.environ.get("HEARTH_PREVIOUS_EXIT")) + "\\n")
    turn = len(open(log).read().splitlines()) - 1
    action = script[min(turn, len(script) - 1)]
    if action == "hang":
        time.sleep(60)
    sys.exit(int(action))
    """
)
_LAUNCH = textwrap.dedent(
    """
    import os, sys
    from hearth.runtime.launcher import Launcher
    command = [sys.executable, "-c", sys.argv[1], sys.argv[2], sys.argv[3]]
    launcher = Launcher(command, dict(os.environ), port=1, health_timeout=float(sys.argv[4]))
    sys.exit(launcher.run())
    """
)


def _launch(tmp_path, script: str, health_timeout: float = 30.0):
    log = tmp_path / "runs.log"
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH, _CHILD, str(log), script, str(health_timeout)],
        env={"PYTHONPATH": str(REPO / "backend")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    return done, runs


def test_restart_then_crash_then_clean_exit(tmp_path):
    done, runs = _launch(tmp_path, "75,3,0")
    assert done.returncode == 0, done.stderr
    # A respawn after 75 is told nothing; one after a crash is told how it ended.
    assert runs == [None, None, "exit code 3"]


def test_gives_up_after_the_crash_budget(tmp_path):
    done, runs = _launch(tmp_path, "7")
    assert done.returncode == 7
    assert len(runs) == 4  # the first start and 3 respawns
    assert "HEARTH_FORCE_CPU_RUNTIME=1" in done.stderr


def test_a_boot_that_never_becomes_healthy_is_killed_and_counted(tmp_path):
    done, runs = _launch(tmp_path, "hang,0", health_timeout=1.0)
    assert done.returncode == 0, done.stderr
    assert runs == [None, "health timeout after 1 s"]
