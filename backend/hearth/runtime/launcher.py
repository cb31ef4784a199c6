"""`hearth serve` without Electron: a small launcher that runs the real server as its child and
supervises it by the rules of docs/PROTOCOL.md ("Who supervises"): respawn at once on exit 75,
respawn crashes with backoff (at most 3 in 60 s), kill a boot that is not healthy in time, and
tell each respawn what happened to the previous process in HEARTH_PREVIOUS_EXIT.

The port and the token are fixed here once, so a respawned server answers where the browser and
the CLI already point. `next_step` is the pure policy; `Launcher` is the process handling.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from hearth.runtime.switch import RESTART_EXIT_CODE

log = logging.getLogger(__name__)

MAX_CRASH_RESPAWNS = 3
CRASH_WINDOW = 60.0
STOP_GRACE = 20.0  # seconds a child gets to shut down after SIGTERM
CHILD_ENV = "HEARTH_LAUNCHER_CHILD"


def describe_exit(returncode: int) -> str:
    """The words HEARTH_PREVIOUS_EXIT carries: `exit code 1`, `signal SIGSEGV`."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


@dataclass(frozen=True)
class Step:
    action: str  # respawn | exit
    delay: float = 0.0
    previous_exit: str | None = None  # for HEARTH_PREVIOUS_EXIT
    code: int = 0  # the launcher's exit code when action == exit
    reason: str = ""


@dataclass
class CrashHistory:
    times: list[float] = field(default_factory=list)

    def recent(self, now: float) -> int:
        return sum(1 for t in self.times if now - t < CRASH_WINDOW)


def next_step(
    returncode: int | None, *, stopping: bool, crashes: CrashHistory, now: float, why: str = ""
) -> Step:
    """What to do after the child ended. `returncode` None = we killed it for a health timeout
    (`why` says so). Pure apart from recording the crash in `crashes`."""
    if stopping:
        code = returncode if returncode is not None and returncode >= 0 else 0
        return Step("exit", code=code, reason="stopped")
    if returncode == 0:
        return Step("exit", code=0, reason="the server shut down")
    if returncode == RESTART_EXIT_CODE:
        return Step("respawn", reason="restart requested")
    described = why or describe_exit(returncode if returncode is not None else -9)
    if crashes.recent(now) >= MAX_CRASH_RESPAWNS:
        return Step(
            "exit",
            code=returncode if returncode and returncode > 0 else 1,
            reason=f"the server crashed {MAX_CRASH_RESPAWNS + 1} times within "
            f"{CRASH_WINDOW:.0f} s (last: {described}); giving up. "
            "HEARTH_FORCE_CPU_RUNTIME=1 starts on the bundled CPU runtime.",
        )
    n = crashes.recent(now)
    crashes.times.append(now)
    return Step(
        "respawn",
        delay=min(0.5 * 2**n, 5.0),
        previous_exit=described,
        reason=f"crash ({described})",
    )


def hearth_command() -> list[str]:
    """How to run this app's CLI in a child: the frozen executable, or this Python -m hearth."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "hearth"]


def serve_with_launcher(settings) -> int:  # settings: hearth.settings.Settings
    """`hearth serve` in a terminal: fix port and token, then supervise the real server."""
    import secrets

    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    token = settings.token
    if not token:
        token = secrets.token_urlsafe(32)
        # Once, for the person at the terminal; every respawn keeps it.
        print(f"Hearth token for this launch: {token}", file=sys.stderr, flush=True)
    port = settings.port or free_port()
    env = {**os.environ, "HEARTH_PORT": str(port), "HEARTH_TOKEN": token, CHILD_ENV: "1"}
    launcher = Launcher(
        [*hearth_command(), "serve"], env, port=port, health_timeout=settings.health_timeout
    )
    return launcher.run()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Launcher:
    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str],
        *,
        port: int,
        health_timeout: float,
    ):
        self.command = list(command)
        self.env = env
        self.port = port
        self.health_timeout = health_timeout
        self.stopping = False
        self.child: subprocess.Popen[bytes] | None = None
        self._listening = threading.Event()

    def run(self) -> int:
        self._install_signals()
        crashes = CrashHistory()
        previous_exit: str | None = None
        while True:
            returncode, why = self._run_once(previous_exit)
            step = next_step(
                returncode, stopping=self.stopping, crashes=crashes, now=time.monotonic(), why=why
            )
            if step.action == "exit":
                if step.code:
                    log.error("launcher: %s", step.reason)
                return step.code
            log.warning("launcher: respawning the server: %s", step.reason)
            previous_exit = step.previous_exit
            if step.delay:
                time.sleep(step.delay)
            if self.stopping:
                return 0

    def _run_once(self, previous_exit: str | None) -> tuple[int | None, str]:
        env = dict(self.env)
        env.pop("HEARTH_PREVIOUS_EXIT", None)
        if previous_exit:
            env["HEARTH_PREVIOUS_EXIT"] = previous_exit
        self._listening.clear()
        self.child = child = subprocess.Popen(
            self.command,
            env=env,
            stdin=subprocess.PIPE,  # closed by the OS if we die: the child then exits too
            stdout=subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
        pump = threading.Thread(target=self._pump, args=(child,), daemon=True)
        pump.start()
        healthy = self._wait_healthy(child)
        if not healthy and child.poll() is None and not self.stopping:
            seconds = f"{self.health_timeout:g}"
            log.error("launcher: not healthy within %s s; stopping it", seconds)
            self._kill(child)
            child.wait()
            pump.join(timeout=5)
            return None, f"health timeout after {seconds} s"
        returncode = child.wait()
        pump.join(timeout=5)
        return returncode, ""

    def _pump(self, child: subprocess.Popen[bytes]) -> None:
        """Pass the child's stdout through; note its listening line."""
        assert child.stdout is not None
        for raw in iter(child.stdout.readline, b""):
            with contextlib.suppress(ValueError):
                event = json.loads(raw)
                if isinstance(event, dict) and event.get("event") == "listening":
                    self._listening.set()
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.buffer.write(raw)
                sys.stdout.flush()

    def _wait_healthy(self, child: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + self.health_timeout
        url = f"http://127.0.0.1:{self.port}/health"
        while time.monotonic() < deadline:
            if child.poll() is not None or self.stopping:
                return True  # it ended: the exit status says why
            if self._listening.is_set():
                try:
                    with urllib.request.urlopen(url, timeout=2) as resp:
                        if resp.status == 200:
                            return True
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.05)
        return False

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: object) -> None:
            self.stopping = True
            child = self.child
            if child is not None and child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signal.SIGTERM)
                threading.Thread(target=self._kill_later, args=(child,), daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def _kill_later(self, child: subprocess.Popen[bytes]) -> None:
        try:
            child.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self._kill(child)

    @staticmethod
    def _kill(child: subprocess.Popen[bytes]) -> None:
        """The whole tree: a hung server may have a probe child of its own."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.name == "posix":
                os.killpg(child.pid, signal.SIGKILL)
            else:
                child.kill()


def watch_launcher() -> None:
    """In the child: exit when the launcher is gone (our stdin, its pipe, reaches EOF), so a
    killed launcher never leaves a server running on its own."""

    def watch() -> None:
        # os.read on the raw descriptor, not sys.stdin.buffer: a daemon thread parked inside
        # the buffered reader's lock makes interpreter shutdown abort ("_enter_buffered_busy").
        try:
            fd = sys.stdin.fileno()
            while os.read(fd, 1024):
                pass
        except (OSError, ValueError):
            pass
        log.warning("the launcher is gone; exiting")
        os._exit(1)

    if sys.stdin is not None:
        threading.Thread(target=watch, name="hearth-launcher-watch", daemon=True).start()
