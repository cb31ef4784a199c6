"""After a boot onto a freshly switched runtime: prove it, then keep it or go back to CPU.

The marker (pending.json) is cleared only after a healthy boot *and* a successful test generation
on the new runtime. A definite failure here (llama_cpp does not import, came from the wrong
folder, cannot offload, or the test generation fails) reverts at once: no later boot would do
better. Crashes and hangs are counted by bootstrap over the following boots (docs/PROTOCOL.md).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hearth.runtime import installed
from hearth.runtime.active import ActiveRuntime
from hearth.runtime.bootstrap import BootResult
from hearth.runtime.switch import RESTART_EXIT_CODE, StateFiles

log = logging.getLogger(__name__)

# A hung native call cannot be interrupted; after reverting, the process is ended this long
# after the restart was requested if it has not exited by itself.
HARD_EXIT_GRACE = 5.0


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: str | None
    message: str


class Activation:
    def __init__(
        self,
        files: StateFiles,
        boot: BootResult,
        *,
        read_runtime: Callable[[], ActiveRuntime],
        test_generation: Callable[[], Awaitable[str | None]] | None,
        restart: Callable[[], None] | None,
        timeout: float,
    ):
        self.files = files
        self.boot = boot
        self.read_runtime = read_runtime
        self.test_generation = test_generation
        self.restart = restart
        self.timeout = timeout

    async def run(self) -> Outcome | None:
        """Confirm or revert a pending activation; None when this boot is not one."""
        if not self.boot.pending:
            return None
        try:
            # Importing a broken native library can hang as surely as generating with it.
            outcome = await asyncio.wait_for(self._check(), self.timeout)
        except asyncio.TimeoutError:
            self._arm_hard_exit()
            outcome = Outcome(
                False,
                "activation_hung",
                f"{self.boot.runtime_id} did not load and generate within {self.timeout:g} s.",
            )
        if outcome.ok:
            await asyncio.to_thread(self._confirm, outcome)
        else:
            await asyncio.to_thread(self._revert, outcome)
        return outcome

    async def _check(self) -> Outcome:
        runtime = await asyncio.to_thread(self.read_runtime)
        name = self.boot.runtime_id
        if runtime.error:
            return Outcome(False, "activation_import_failed", f"{name}: {runtime.error}")
        if runtime.loaded_from_runtime is False:
            return Outcome(
                False,
                "activation_wrong_module",
                f"llama_cpp was loaded from {runtime.llama_cpp_path}, not from the {name} "
                "runtime folder.",
            )
        if self.boot.kind != "cpu" and not runtime.supports_gpu_offload:
            return Outcome(
                False,
                "activation_no_gpu_offload",
                f"{name} loaded, but this llama.cpp build cannot offload to the GPU.",
            )
        if self.test_generation is None:
            return Outcome(True, None, f"{name} is active (no local model engine to test).")
        try:
            note = await self.test_generation()
        except Exception as exc:
            return Outcome(
                False, "activation_test_failed", f"The test generation on {name} failed: {exc}"
            )
        return Outcome(True, None, note or f"{name} is active and generated its test answer.")

    def _confirm(self, outcome: Outcome) -> None:
        pointer = self.files.pointer()
        self.files.confirm(pointer)
        log.info("runtime %s confirmed: %s", pointer.variant, outcome.message)
        self._update_job(state="done", stage="done", message=outcome.message)
        self._prune(pointer.folder, self.boot.kind)

    def _revert(self, outcome: Outcome) -> None:
        assert outcome.code is not None
        revert = self.files.revert(outcome.code, outcome.message)
        log.error("runtime %s reverted to CPU: %s", revert.variant, outcome.message)
        self._update_job(
            state="failed",
            stage="failed",
            error={"code": outcome.code, "message": outcome.message},
            reverted_to_cpu=True,
            message=outcome.message,
        )
        if self.restart is not None:
            self.restart()

    def _update_job(self, **changes: Any) -> None:
        job = self.files.last_job()
        if job is None or job.get("id") != self.boot.job or job.get("state") != "running":
            return  # a switch by hand (`runtime use`) has no job to close
        job.update(changes, updated_at=time.time())
        self.files.write_job(job)

    def _prune(self, keep: str | None, kind: str) -> None:
        """The previous runtime of the same kind is kept until a new one proved itself."""
        for runtime in installed.list_installed(self.files.root):
            if runtime.folder != keep and runtime.kind == kind:
                log.info("removing the superseded runtime %s", runtime.folder)
                installed.remove_tree(runtime.path)

    def _arm_hard_exit(self) -> None:
        def later() -> None:
            time.sleep(HARD_EXIT_GRACE)
            log.error("the hung runtime kept the process alive; exiting for the respawn")
            os._exit(RESTART_EXIT_CODE)

        threading.Thread(target=later, name="hearth-hard-exit", daemon=True).start()
