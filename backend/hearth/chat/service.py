"""A chat run: save the user's turn, stream the answer, save the answer with its stats.

A run lives apart from the HTTP response that started it, so the answer is saved (as `stopped`)
even when the client goes away mid-stream; the client going away is what stops it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from hearth.chat.context import fit_history
from hearth.engine.base import ChatEngine, ChatMessage, Event, Finish, Piece, SamplingParams
from hearth.engine.manager import ModelManager, Queued
from hearth.errors import BadRequest, Conflict, HearthError
from hearth.store.conversations import ConversationStore

log = logging.getLogger(__name__)

SSEvent = tuple[str, dict[str, Any]]


class DocumentContext(Protocol):
    """Excerpts of a conversation's attached libraries for one turn (hearth.docs)."""

    notices: list[dict[str, Any]]

    def fit(self, system, turns, count, budget) -> list[ChatMessage]: ...

    def meta(self) -> dict[str, Any]: ...


class DocumentHook(Protocol):
    async def prepare(
        self, conversation_id: str, turns: list[ChatMessage]
    ) -> DocumentContext | None: ...


@dataclass
class RunStats:
    started: float = field(default_factory=time.perf_counter)
    first: float | None = None
    last: float | None = None

    def piece(self) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now

    def ttft_ms(self) -> float | None:
        return None if self.first is None else round((self.first - self.started) * 1000, 1)

    def tokens_per_s(self, completion_tokens: int) -> float | None:
        if self.first is None or self.last is None or completion_tokens < 2:
            return None
        span = self.last - self.first
        return round((completion_tokens - 1) / span, 2) if span > 0 else None


@dataclass
class ChatRun:
    id: str
    conversation_id: str
    cancel: threading.Event = field(default_factory=threading.Event)
    events: list[SSEvent] = field(default_factory=list)
    listeners: list[asyncio.Queue[SSEvent | None]] = field(default_factory=list)
    finished: bool = False
    task: asyncio.Task[None] | None = None

    def publish(self, name: str, data: dict[str, Any]) -> None:
        self.events.append((name, data))
        for queue in self.listeners:
            queue.put_nowait((name, data))

    def close(self) -> None:
        self.finished = True
        for queue in self.listeners:
            queue.put_nowait(None)

    async def follow(self) -> AsyncIterator[SSEvent]:
        """Every event of the run so far, then the rest as they come."""
        queue: asyncio.Queue[SSEvent | None] = asyncio.Queue()
        for event in self.events:
            queue.put_nowait(event)
        if self.finished:
            queue.put_nowait(None)
        else:
            self.listeners.append(queue)
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            if queue in self.listeners:
                self.listeners.remove(queue)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("chat run crashed", exc_info=task.exception())


class ChatService:
    def __init__(
        self,
        store: ConversationStore,
        models: ModelManager,
        default_system: str = "",
        documents: DocumentHook | None = None,
    ):
        self.store = store
        self.models = models
        self.default_system = default_system
        self.documents = documents  # retrieval from the libraries attached to a conversation
        self._runs: dict[str, ChatRun] = {}

    def active(self, conversation_id: str) -> ChatRun | None:
        run = self._runs.get(conversation_id)
        return run if run and not run.finished else None

    async def send(
        self, conversation_id: str, content: str, params: SamplingParams, model: str | None
    ) -> ChatRun:
        self._refuse_if_busy(conversation_id)
        if not content.strip():
            raise BadRequest("The message is empty.")
        message = await asyncio.to_thread(self.store.add_message, conversation_id, "user", content)
        return self._start(conversation_id, params, model, {"user_message": message.to_dict()})

    async def regenerate(
        self, conversation_id: str, params: SamplingParams, model: str | None
    ) -> ChatRun:
        self._refuse_if_busy(conversation_id)
        messages = await asyncio.to_thread(self.store.messages, conversation_id)
        if not messages or all(m.role != "user" for m in messages):
            raise BadRequest("There is no user message to answer again.")
        last = messages[-1]
        if last.role == "assistant" and last.id is not None:
            await asyncio.to_thread(self.store.delete_messages_from, conversation_id, last.id)
        return self._start(conversation_id, params, model, {})

    async def edit(
        self,
        conversation_id: str,
        message_id: int,
        content: str,
        params: SamplingParams,
        model: str | None,
    ) -> ChatRun:
        self._refuse_if_busy(conversation_id)
        original = await asyncio.to_thread(self.store.get_message, message_id)
        if original.conversation_id != conversation_id or original.role != "user":
            raise BadRequest("Only a user message of this conversation can be edited.")
        await asyncio.to_thread(self.store.delete_messages_from, conversation_id, message_id)
        return await self.send(conversation_id, content, params, model)

    def stop(self, conversation_id: str) -> bool:
        run = self.active(conversation_id)
        if run is None:
            return False
        run.cancel.set()
        return True

    async def stop_all(self) -> None:
        runs = [r for r in self._runs.values() if not r.finished]
        for run in runs:
            run.cancel.set()
        await asyncio.gather(*(r.task for r in runs if r.task), return_exceptions=True)

    def _refuse_if_busy(self, conversation_id: str) -> None:
        if self.active(conversation_id):
            raise Conflict("This conversation is already answering; stop it first.")

    def _start(
        self, conversation_id: str, params: SamplingParams, model: str | None, start: dict
    ) -> ChatRun:
        run = ChatRun(id=uuid.uuid4().hex, conversation_id=conversation_id)
        self._runs[conversation_id] = run
        run.publish("start", {"run_id": run.id, "conversation_id": conversation_id, **start})
        run.task = asyncio.create_task(self._drive(run, params, model))
        run.task.add_done_callback(_log_failure)
        return run

    async def _drive(self, run: ChatRun, params: SamplingParams, model: str | None) -> None:
        conversation = await asyncio.to_thread(self.store.get, run.conversation_id)
        history = await asyncio.to_thread(self.store.messages, run.conversation_id)
        turns = [ChatMessage(m.role, m.content) for m in history if m.role != "system"]  # type: ignore[arg-type]
        chosen = model or conversation.model
        docs = await self.documents.prepare(run.conversation_id, turns) if self.documents else None
        for notice in docs.notices if docs else ():
            run.publish("notice", notice)
        stats = RunStats()
        parts: list[str] = []
        finish: Finish | None = None
        used_model: list[str] = []

        def job(engine: ChatEngine) -> Iterator[Event]:
            used_model.append(engine.model_id)
            # Room for the answer is max_tokens, but never more than half the window: a huge
            # max_tokens must not squeeze the question itself out (the answer then ends at
            # the window's end with finish_reason "length").
            budget = engine.n_ctx - min(params.max_tokens, engine.n_ctx // 2)
            system = conversation.system_prompt or self.default_system or None
            if docs is not None:
                fitted = docs.fit(system, turns, engine.count_chat_tokens, budget)
            else:
                fitted = fit_history(system, turns, engine.count_chat_tokens, budget)
            stats.started = time.perf_counter()
            return engine.stream_chat(fitted, params, run.cancel)

        try:
            async for event in self.models.run(chosen, job, run.cancel):
                if isinstance(event, Queued):
                    run.publish("queued", {"position": event.position})
                elif isinstance(event, Piece):
                    stats.piece()
                    parts.append(event.text)
                    run.publish("delta", {"content": event.text})
                elif isinstance(event, Finish):
                    finish = event
        except HearthError as exc:
            await self._save_partial(run, parts, used_model, stats, "error")
            run.publish("error", exc.to_dict())
            run.close()
            return
        except Exception as exc:
            log.exception("chat run failed")
            await self._save_partial(run, parts, used_model, stats, "error")
            run.publish("error", {"code": "generation_failed", "message": str(exc)})
            run.close()
            return
        if finish is None:
            finish = Finish("stopped", 0, 0)
        message = await asyncio.to_thread(
            self.store.add_message,
            run.conversation_id,
            "assistant",
            "".join(parts),
            model=used_model[0] if used_model else chosen,
            prompt_tokens=finish.prompt_tokens,
            completion_tokens=finish.completion_tokens,
            ttft_ms=stats.ttft_ms(),
            tokens_per_s=stats.tokens_per_s(finish.completion_tokens),
            finish_reason=finish.reason,
            meta=docs.meta() if docs is not None else None,
        )
        run.publish("done", {"message": message.to_dict()})
        run.close()

    async def _save_partial(
        self, run: ChatRun, parts: list[str], used_model: list[str], stats: RunStats, reason: str
    ) -> None:
        if not parts:
            return
        await asyncio.to_thread(
            self.store.add_message,
            run.conversation_id,
            "assistant",
            "".join(parts),
            model=used_model[0] if used_model else None,
            ttft_ms=stats.ttft_ms(),
            finish_reason=reason,
        )
