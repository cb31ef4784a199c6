"""The background runner: validates new batches, answers their lines (as many at once as the
model manager decodes in parallel), and ends each batch with its output and error files.

One asyncio task, woken by a route (a batch made or cancelled) or by a line that finished,
and at least every POLL_S (a changed `parallel` setting, a batch's window running out). All
state is in the store, so a new runner after a restart carries on where the last one was."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from hearth.api.openai_answers import (
    ChatCompletionRequest,
    CompletionRequest,
    EmbeddingRequest,
    chat_answer,
    completion_answer,
    embedding_answer,
)
from hearth.batches import lines as batch_lines
from hearth.batches.records import Batch, Status
from hearth.batches.results import answered, refused
from hearth.batches.store import BatchStore, PendingLine
from hearth.engine.manager import ModelManager
from hearth.errors import HearthError
from hearth.keys import limits
from hearth.settings import Settings

log = logging.getLogger(__name__)

POLL_S = 1.0


@dataclass
class _Running:
    task: asyncio.Task[None]
    cancel: threading.Event  # the generation's own; it is also set when an answer ends
    stopped: bool = False  # stopped by the runner: whatever came back is not an answer

    def stop(self) -> None:
        self.stopped = True
        self.cancel.set()  # the generation's own stop, within a token or two
        self.task.cancel()  # and out of the manager's line, if it was still waiting there


# (API key id, tokens): the key's tokens-per-minute account (hearth.keys.limits).
Charge = Callable[[int, int], None]


class BatchRunner:
    def __init__(
        self,
        store: BatchStore,
        models: ModelManager,
        settings: Settings,
        charge: Charge | None = None,
    ):
        self.store = store
        self._models = models
        self._settings = settings
        self._charge = charge
        self._running: dict[tuple[str, int], _Running] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.store.sweep)
        self._task = asyncio.create_task(self._run(), name="hearth-batches")

    async def stop(self) -> None:
        """Stop every running line (each stays pending, to run again at the next start)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        running = list(self._running.values())
        for entry in running:
            entry.stop()
        await asyncio.gather(*(entry.task for entry in running), return_exceptions=True)

    def wake(self) -> None:
        """Look for work now; from any thread (the routes run in FastAPI's thread pool)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    @property
    def parallel(self) -> int:
        """How many lines run at once: the model manager's parallel decoding, read anew each
        time so a change of the setting is followed."""
        value = getattr(self._models, "parallel", 1)
        return value if isinstance(value, int) and value >= 1 else 1

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._step()
            except Exception:  # the runner must outlive one bad step; the next one retries
                log.exception("batch runner step failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)

    async def _step(self) -> None:
        for batch in await asyncio.to_thread(self.store.with_status, "validating"):
            await self._validate(batch)
        for batch in await asyncio.to_thread(
            self.store.with_status, "in_progress", "finalizing", "cancelling"
        ):
            await self._advance(batch)
        free = self.parallel - len(self._running)
        if free > 0:
            for line in await asyncio.to_thread(self.store.pending, free, set(self._running)):
                self._launch(line)

    async def _validate(self, batch: Batch) -> None:
        try:
            path = await asyncio.to_thread(self.store.content_path, batch.input_file_id)
            content = await asyncio.to_thread(path.read_bytes)
        except (HearthError, OSError):
            missing = batch_lines.LineError(
                "file_not_found", f"The input file {batch.input_file_id} is gone."
            )
            await asyncio.to_thread(self.store.fail, batch.id, batch_lines.errors_object([missing]))
            return
        parsed = await asyncio.to_thread(batch_lines.parse, content, batch.endpoint)
        if parsed.ok:
            await asyncio.to_thread(self.store.start, batch.id, parsed.requests)
        else:
            errors = batch_lines.errors_object(parsed.errors)
            await asyncio.to_thread(self.store.fail, batch.id, errors)

    async def _advance(self, batch: Batch) -> None:
        """End a batch whose work is over: all lines answered, cancelled, or out of time."""
        mine = [entry for key, entry in self._running.items() if key[0] == batch.id]
        ending: Status | None = None
        if batch.status == "cancelling":
            ending = "cancelled"
        elif batch.status == "in_progress" and batch.expires_at <= self.store.now():
            ending = "expired"
        if ending is not None:
            for entry in mine:
                entry.stop()
            if not mine:
                await asyncio.to_thread(self.store.finalize, batch.id, ending)
            return
        if mine:
            return
        if batch.status == "finalizing" or not await asyncio.to_thread(
            self.store.has_pending, batch.id
        ):
            await asyncio.to_thread(self.store.finalize, batch.id, "completed")

    def _launch(self, line: PendingLine) -> None:
        cancel = threading.Event()
        task = asyncio.create_task(self._answer(line, cancel), name=f"batch-line-{line.line}")
        self._running[line.key] = _Running(task, cancel)

    async def _answer(self, line: PendingLine, cancel: threading.Event) -> None:
        owner, charge = line.owner, self._charge
        if owner is not None and charge is not None:
            # A key's batch spends its tokens as its requests do; this task's context only.
            limits.charge.set(lambda tokens: charge(owner, tokens))
        try:
            result = await _result(line, self._models, self._settings, cancel)
            entry = self._running.get(line.key)
            if entry is None or entry.stopped:
                return  # stopped, not answered: it stays pending
            await asyncio.to_thread(self.store.finish_line, line.batch_id, line.line, result)
        except asyncio.CancelledError:
            pass  # cancelled or the app is stopping: the line stays pending
        except Exception:
            log.exception("batch %s line %s could not be stored", line.batch_id, line.line)
        finally:
            self._running.pop(line.key, None)
            self._wake.set()


async def _result(
    line: PendingLine, models: ModelManager, settings: Settings, cancel: threading.Event
) -> dict[str, Any]:
    """The line's output-file entry: the answer the same body sent to the route would get."""
    try:
        body = json.loads(line.body)
        answer: dict[str, Any]
        if line.endpoint == "/v1/chat/completions":
            chat = ChatCompletionRequest.model_validate(body)
            answer = await chat_answer(chat, models, settings, cancel)
        elif line.endpoint == "/v1/completions":
            completion = CompletionRequest.model_validate(body)
            answer = await completion_answer(completion, models, cancel)
        else:
            answer = await embedding_answer(EmbeddingRequest.model_validate(body), models)
    except (HearthError, ValidationError) as exc:
        return refused(line.custom_id, exc)
    except Exception as exc:  # the route's 500: logged, and the batch goes on
        log.exception("batch %s line %s failed", line.batch_id, line.line)
        return refused(line.custom_id, HearthError(str(exc) or type(exc).__name__))
    return answered(line.custom_id, 200, answer)
