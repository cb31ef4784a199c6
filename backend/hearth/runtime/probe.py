"""Prove a staged runtime in a child process before switching to it, and judge the result.

The child (probe_child.py) activates the runtime as bootstrap would, so it sees the environment the
backend will have after the switch. A crash (signal), a hang (our timeout), an import error, no
offload, no GPU, or being no faster than the CPU runtime each give their own reason code.
`judge` is pure; `run_child` is the I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hearth import paths
from hearth.runtime.launcher import hearth_command
from hearth.runtime.probe_child import RESULT_PREFIX

log = logging.getLogger(__name__)

PROBE_TOKENS = 32
_STDERR_TAIL = 2000


@dataclass(frozen=True)
class ChildRun:
    """One probe child: its result line (if it lived to print one) and how it ended."""

    ok: bool
    code: str | None
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Verdict:
    ok: bool
    code: str | None
    message: str
    result: dict[str, Any] | None = None  # the job's `result`: tokens/s, speedup, layers
    details: dict[str, Any] = field(default_factory=dict)  # kept with the runtime

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "code": self.code,
            "message": self.message,
            "result": self.result,
            "details": self.details,
        }


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    if not paths.is_frozen():
        # The child must import this very `hearth`, even when it is not installed.
        source = str(paths.package_dir().parent)
        parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        if source not in parts:
            env["PYTHONPATH"] = os.pathsep.join([source, *parts])
    return env


def signal_name(returncode: int) -> str:
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


async def run_child(
    runtime_folder: Path | None,
    model: Path,
    *,
    expect_gpu: bool,
    gpu_layers: int,
    timeout: float,
    threads: int | None = None,
    tokens: int = PROBE_TOKENS,
    should_stop: Callable[[], bool] = lambda: False,
) -> ChildRun:
    args = [*hearth_command(), "probe-runtime", "--model", str(model), "--tokens", str(tokens)]
    args += ["--gpu-layers", str(gpu_layers)]
    if runtime_folder is not None:
        args += ["--runtime", str(runtime_folder)]
    if threads:
        args += ["--threads", str(threads)]
    if expect_gpu:
        args.append("--expect-gpu")
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(),
        # Its own process group, so a hung child and anything it started can be killed.
        start_new_session=os.name == "posix",
    )
    communicate = asyncio.ensure_future(proc.communicate())
    deadline = started + timeout
    try:
        while not communicate.done():
            if should_stop():
                await _kill(proc, communicate)
                return ChildRun(False, "cancelled", "Cancelled during the probe.")
            if time.monotonic() > deadline:
                await _kill(proc, communicate)
                return ChildRun(
                    False,
                    "timeout",
                    f"The probe did not finish within {timeout:g} s (hung loading the runtime "
                    "or the model); it was stopped.",
                    seconds=time.monotonic() - started,
                )
            await asyncio.wait([communicate], timeout=0.1)
    except asyncio.CancelledError:
        await asyncio.shield(_kill(proc, communicate))
        raise
    stdout, stderr = communicate.result()
    seconds = time.monotonic() - started
    result = _result_line(stdout.decode("utf-8", errors="replace"))
    tail = stderr.decode("utf-8", errors="replace")[-_STDERR_TAIL:]
    if result is not None:
        return ChildRun(
            bool(result.get("ok")),
            result.get("code"),
            str(result.get("message", "")),
            {**result, "stderr_tail": tail if not result.get("ok") else ""},
            seconds,
        )
    rc = proc.returncode if proc.returncode is not None else -1
    if rc < 0:
        return ChildRun(
            False,
            "crashed",
            f"The probe crashed ({signal_name(rc)}) while loading or running the runtime.",
            {"returncode": rc, "stderr_tail": tail},
            seconds,
        )
    return ChildRun(
        False,
        "crashed",
        f"The probe exited with {signal_name(rc)} without a result: {_last_line(tail)}",
        {"returncode": rc, "stderr_tail": tail},
        seconds,
    )


async def _kill(proc: asyncio.subprocess.Process, communicate: asyncio.Future) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(communicate, timeout=10)


def _result_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            try:
                data = json.loads(line[len(RESULT_PREFIX) :])
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


# --- the verdict (pure) ------------------------------------------------------------------------


def judge(
    *,
    label: str,
    kind: str,
    min_speedup: float,
    new: ChildRun,
    baseline: ChildRun | None,
) -> Verdict:
    """Turn the two measurements into a verdict with a reason code and a sentence."""
    details = {"new": new.data, "baseline": baseline.data if baseline else None}
    if not new.ok:
        return Verdict(
            False, f"probe_{new.code or 'failed'}", f"{label}: {new.message}", None, details
        )
    if baseline is None or not baseline.ok:
        message = baseline.message if baseline else "not measured"
        return Verdict(
            False,
            "cpu_baseline_failed",
            f"The bundled CPU runtime could not be measured for comparison: {message}",
            None,
            details,
        )
    new_tps = float(new.data.get("tokens_per_s") or 0.0)
    cpu_tps = float(baseline.data.get("tokens_per_s") or 0.0)
    speedup = new_tps / cpu_tps if cpu_tps > 0 else 0.0
    result = {
        "cpu_tokens_per_s": round(cpu_tps, 2),
        "new_tokens_per_s": round(new_tps, 2),
        "speedup": round(speedup, 3),
        "offloaded_layers": int(new.data.get("offloaded_layers") or 0),
    }
    if min_speedup > 0 and not speedup > min_speedup:
        against = "the CPU runtime" if kind != "cpu" else "the bundled CPU build"
        return Verdict(
            False,
            "probe_slower",
            f"{label} generated {new_tps:.1f} tokens/s, {against} {cpu_tps:.1f} tokens/s "
            f"({speedup:.2f}x); it must be faster than {min_speedup:.2f}x to be used.",
            result,
            details,
        )
    return Verdict(
        True,
        None,
        f"{label} generated {new_tps:.1f} tokens/s against {cpu_tps:.1f} on the CPU runtime "
        f"({speedup:.2f}x).",
        result,
        details,
    )
