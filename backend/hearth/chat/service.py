"""A chat run: save the user's turn, stream the answer, save the answer with its stats.

A run lives apart from the HTTP response that started it, so the answer is saved (as `stopped`)
even when the client goes away mid-stream; the client going away is what stops it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from hearth.chat.context import fit_history
from hearth.engine.base import ChatEngine, ChatMessage, Event, SamplingParams
from hearth.engine.generation import Generation, prompt_budget
from hearth.engine.manager import ModelManager, Queued
from hearth.errors import BadRequest, Conflict, HearthError
from hearth.events import Event as SSEvent
from hearth.events import EventLog
from hearth.store.branches import Step
from hearth.store.conversations import UNSET, ConversationStore, Unset

log = logging.getLogger(__name__)


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
class ChatRun:
    id: str
    conversation_id: str
    question_id: int  # the user message being answered; the answer becomes its child
    cancel: threading.Event = field(default_factory=threading.Event)
    log: EventLog = field(default_factory=EventLog)
    task: asyncio.Task[None] | None = None

    @property
    def finished(self) -> bool:
        return self.log.closed

    def publish(self, name: str, data: dict[str, Any]) -> None:
        self.log.publish(name, data)

    def close(self) -> None:
        self.log.close()

    def follow(self) -> AsyncIterator[SSEvent]:
        """Every event of the run so far, then the rest as they come."""
        return self.log.follow()


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
        """Add a user message after the active path's last one and answer it."""
        return await self._ask(conversation_id, content, params, model, UNSET)

    async def regenerate(
        self, conversation_id: str, params: SamplingParams, model: str | None
    ) -> ChatRun:
        """Answer the active path's last question again; the old answer stays an alternative."""
        self._refuse_if_busy(conversation_id)
        path = await asyncio.to_thread(self.store.messages, conversation_id)
        question = next((m for m in reversed(path) if m.role == "user"), None)
        if question is None or question.id is None:
            raise BadRequest("There is no user message to answer again.")
        return self._start(conversation_id, question.id, params, model, {})

    async def edit(
        self,
        conversation_id: str,
        message_id: int,
        content: str,
        params: SamplingParams,
        model: str | None,
    ) -> ChatRun:
        """Ask an edited question beside the original, which is kept with what followed it."""
        self._refuse_if_busy(conversation_id)
        original = await asyncio.to_thread(self.store.get_message, message_id)
        if original.conversation_id != conversation_id or original.role != "user":
            raise BadRequest("Only a user message of this conversation can be edited.")
        return await self._ask(conversation_id, content, params, model, original.parent_id)

    async def select(self, conversation_id: str, message_id: int) -> list[Step]:
        """Show another alternative; refused mid-answer, which is bound to the path it began on."""
        self._refuse_if_busy(conversation_id)
        return await asyncio.to_thread(self.store.select, conversation_id, message_id)

    async def _ask(
        self,
        conversation_id: str,
        content: str,
        params: SamplingParams,
        model: str | None,
        parent_id: int | Unset | None,
    ) -> ChatRun:
        self._refuse_if_busy(conversation_id)
        if not content.strip():
            raise BadRequest("The message is empty.")
        message = await asyncio.to_thread(
            functools.partial(
                self.store.add_message, conversation_id, "user", content, parent_id=parent_id
            )
        )
        assert message.id is not None  # committed
        return self._start(
            conversation_id, message.id, params, model, {"user_message": message.to_dict()}
        )

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
        self,
        conversation_id: str,
        question_id: int,
        params: SamplingParams,
        model: str | None,
        start: dict,
    ) -> ChatRun:
        run = ChatRun(id=uuid.uuid4().hex, conversation_id=conversation_id, question_id=question_id)
        self._runs[conversation_id] = run
        run.publish("start", {"run_id": run.id, "conversation_id": conversation_id, **start})
        run.task = asyncio.create_task(self._drive(run, params, model))
        run.task.add_done_callback(_log_failure)
        return run

    async def _drive(self, run: ChatRun, params: SamplingParams, model: str | None) -> None:
        conversation = await asyncio.to_thread(self.store.get, run.conversation_id)
        # The question and what it follows: the active path when the run began, whatever is
        # chosen meanwhile, so the answer is saved where it was asked.
        history = await asyncio.to_thread(self.store.lineage, run.conversation_id, run.question_id)
        turns = [ChatMessage(m.role, m.content) for m in history if m.role != "system"]  # type: ignore[arg-type]
        chosen = model or conversation.model
        docs = await self.documents.prepare(run.conversation_id, turns) if self.documents else None
        for notice in docs.notices if docs else ():
            run.publish("notice", notice)
        system = conversation.system_prompt or self.default_system or None

        def job(engine: ChatEngine, cancel: threading.Event) -> Iterator[Event]:
            budget = prompt_budget(engine.n_ctx, params.max_tokens)
            if docs is not None:
                fitted = docs.fit(system, turns, engine.count_chat_tokens, budget)
            else:
                fitted = fit_history(system, turns, engine.count_chat_tokens, budget)
            return engine.stream_chat(fitted, params, cancel)

        generation = Generation(self.models, chosen, job, run.cancel)
        try:
            async for event in generation.events():
                if isinstance(event, Queued):
                    run.publish("queued", {"position": event.position})
                else:
                    run.publish("delta", {"content": event.text})
        except HearthError as exc:
            await self._save_partial(run, generation)
            run.publish("error", exc.to_dict())
            run.close()
            return
        finish, stats = generation.finish, generation.stats
        message = await asyncio.to_thread(
            self.store.add_message,
            run.conversation_id,
            "assistant",
            generation.text,
            model=generation.model_id or chosen,
            prompt_tokens=finish.prompt_tokens,
            completion_tokens=finish.completion_tokens,
            ttft_ms=stats.ttft_ms(),
            tokens_per_s=stats.tokens_per_s(finish.completion_tokens),
            finish_reason=finish.reason,
            meta=docs.meta() if docs is not None else None,
            parent_id=run.question_id,
        )
        run.publish("done", {"message": message.to_dict()})
        run.close()

    async def _save_partial(self, run: ChatRun, generation: Generation) -> None:
        """What an answer said before it failed is kept, marked as an error."""
        if not generation.parts:
            return
        await asyncio.to_thread(
            self.store.add_message,
            run.conversation_id,
            "assistant",
            generation.text,
            model=generation.model_id,
            ttft_ms=generation.stats.ttft_ms(),
            finish_reason="error",
            parent_id=run.question_id,
        )
