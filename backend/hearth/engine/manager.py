"""Which model is loaded, and the single line every generation waits in.

One chat model is loaded at a time (a PC has one model's worth of memory), so one queue serves all
generations; swapping models happens inside a turn, never under a running generation.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from hearth.engine.base import ChatEngine, EmbeddingEngine, Event, Finish
from hearth.engine.queue import FairQueue, Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Queued:
    position: int


class EngineFactory(Protocol):
    """Builds engines; the app's factory reads the model library and settings."""

    def resolve_chat_model(self, requested: str | None, loaded: str | None) -> str: ...

    def load_chat(self, model_id: str) -> ChatEngine: ...

    def load_embedding(self, model_id: str | None) -> EmbeddingEngine: ...

    def known(self, name: str) -> str | None:
        """The id this factory runs under `name`, or None when it has no such model."""
        ...

    def unloaded(self) -> None:
        """Told after the chat model is closed (the local factory forgets its GPU offload)."""
        ...


Job = Callable[[ChatEngine], Iterator[Event]]


class ModelManager:
    def __init__(self, factory: EngineFactory):
        self.factory = factory
        self.queue = FairQueue()
        # One thread owns llama.cpp: loads and generations never run on the event loop.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-gen")
        self._embed_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-embed")
        self._chat: ChatEngine | None = None
        self._embedder: EmbeddingEngine | None = None
        self._load_error: dict[str, str] | None = None

    @property
    def loaded(self) -> ChatEngine | None:
        return self._chat

    def status(self) -> dict[str, Any]:
        engine = self._chat
        return {
            "loaded": engine.info().__dict__ if engine else None,
            "embedding_model": self._embedder.model_id if self._embedder else None,
            "busy": self.queue.busy,
            "waiting": self.queue.waiting,
            "last_load_error": self._load_error,
        }

    # -- the generation line --------------------------------------------------------------------

    async def run(
        self, model: str | None, job: Job, cancel: threading.Event
    ) -> AsyncIterator[Queued | Event]:
        """Wait for our turn (yielding positions), then stream the job's events.

        Cancelling the consumer sets `cancel`; the turn is released only when the worker thread
        has really stopped, so the next generation never overlaps this one.
        """
        ticket = Ticket()
        async for position in self.queue.wait_turn(ticket):
            yield Queued(position)
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Any] = asyncio.Queue()
        done = object()

        def work() -> None:
            try:
                engine = self._ensure_chat(model)
                for event in job(engine):
                    loop.call_soon_threadsafe(events.put_nowait, event)
                    if cancel.is_set() and isinstance(event, Finish):
                        break
            except BaseException as exc:
                loop.call_soon_threadsafe(events.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(events.put_nowait, done)

        future = loop.run_in_executor(self._worker, work)
        future.add_done_callback(lambda _f: self.queue.release())
        try:
            while True:
                item = await events.get()
                if item is done:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancel.set()  # no-op when the job already finished

    def _ensure_chat(self, requested: str | None) -> ChatEngine:
        current = self._chat.model_id if self._chat else None
        model_id = self.factory.resolve_chat_model(requested, current)
        if self._chat is not None and self._chat.model_id == model_id:
            return self._chat
        self._unload_chat()
        log.info("loading chat model %s", model_id)
        try:
            self._chat = self.factory.load_chat(model_id)
            self._load_error = None
        except Exception as exc:
            self._load_error = {"model": model_id, "message": str(exc)}
            raise
        return self._chat

    def _unload_chat(self) -> None:
        if self._chat is not None:
            self._chat.close()
            self._chat = None
            self.factory.unloaded()

    async def load(self, model: str | None) -> ChatEngine:
        """Load a model now (e.g. the UI's model picker), in turn with generations."""

        def job(engine: ChatEngine) -> Iterator[Event]:
            return iter(())

        async for _ in self.run(model, job, threading.Event()):
            pass
        assert self._chat is not None
        return self._chat

    async def unload(self) -> None:
        ticket = Ticket()
        async for _ in self.queue.wait_turn(ticket):
            pass
        try:
            await asyncio.get_running_loop().run_in_executor(self._worker, self._unload_chat)
        finally:
            self.queue.release()

    # -- embeddings -----------------------------------------------------------------------------

    async def embed(
        self, model: str | None, texts: list[str]
    ) -> tuple[str, list[list[float]], int]:
        def work() -> tuple[str, list[list[float]], int]:
            if self._embedder is None or (model and self._embedder.model_id != model):
                if self._embedder is not None:
                    self._embedder.close()
                    self._embedder = None
                self._embedder = self.factory.load_embedding(model)
            vectors, n_tokens = self._embedder.embed(texts)
            return self._embedder.model_id, vectors, n_tokens

        return await asyncio.get_running_loop().run_in_executor(self._embed_worker, work)

    def close(self) -> None:
        def shut() -> None:
            self._unload_chat()
            if self._embedder is not None:
                self._embedder.close()
                self._embedder = None

        self._worker.submit(shut).result(timeout=30)
        self._worker.shutdown(wait=False, cancel_futures=True)
        self._embed_worker.shutdown(wait=False, cancel_futures=True)
