"""Which model is loaded, and the single line every generation waits in.

One chat model is loaded at a time (a PC has one model's worth of memory), so one queue serves all
generations. Up to the engine's `n_parallel` of them run at once on the loaded model (its decode
thread batches them); swapping models waits until none runs, never under a running generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from hearth.engine.base import ChatEngine, EmbeddingEngine, Event, Finish, Forwarding, Piece
from hearth.engine.queue import EXCLUSIVE, FairQueue, Ticket
from hearth.events import Inbox

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

MAX_PARALLEL = 8  # the most answers one model decodes together (the setting's bound)


def parallel_of(engine: ChatEngine) -> int:
    """How many generations an engine takes at once; one unless it says otherwise."""
    return max(1, int(getattr(engine, "n_parallel", 1)))


class ModelManager:
    def __init__(self, factory: EngineFactory):
        self.factory = factory
        self.queue = FairQueue()
        # Loads and generations never run on the event loop. Each running generation has a
        # worker reading its events (llama.cpp itself runs on the engine's decode thread).
        self._worker = ThreadPoolExecutor(
            max_workers=MAX_PARALLEL + 1, thread_name_prefix="hearth-gen"
        )
        self._load_lock = threading.Lock()
        self._embed_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-embed")
        self._chat: ChatEngine | None = None
        self._embedder: EmbeddingEngine | None = None
        self._load_error: dict[str, str] | None = None

    @property
    def loaded(self) -> ChatEngine | None:
        return self._chat

    @property
    def parallel(self) -> int:
        """How many generations may run at once: the loaded engine's, else what the next load
        will give (the factory's setting), so a batch can queue that many from the start."""
        if self._chat is not None:
            return parallel_of(self._chat)
        wanted = getattr(self.factory, "n_parallel", None)
        return max(1, min(MAX_PARALLEL, int(wanted()))) if callable(wanted) else 1

    def status(self) -> dict[str, Any]:
        engine = self._chat
        return {
            "loaded": engine.info().__dict__ if engine else None,
            "embedding_model": self._embedder.model_id if self._embedder else None,
            "busy": self.queue.busy,
            "running": self.queue.running,
            "parallel": self.queue.capacity,
            "waiting": self.queue.waiting,
            "last_load_error": self._load_error,
        }

    # -- the generation line --------------------------------------------------------------------

    async def run(
        self, model: str | None, job: Job, cancel: threading.Event
    ) -> AsyncIterator[Queued | Event]:
        """Wait for our turn (yielding positions), then stream the job's events.

        Cancelling the consumer sets `cancel`; the place is released only when the worker thread
        has really stopped, so a model switch never overlaps this generation.
        """
        loop = asyncio.get_running_loop()
        loaded = self._chat.model_id if self._chat else None
        # The model it will run on, decided now: the queue lets only generations of one model
        # run together, and this one then loads exactly that model.
        model_id = await loop.run_in_executor(None, self.factory.resolve_chat_model, model, loaded)
        ticket = Ticket(model_id)
        async for position in self.queue.wait_turn(ticket):
            yield Queued(position)
        events: Inbox[Any] = Inbox()
        done = object()
        # A forwarded stream's: told of each piece taken here (the engine runs at most a piece
        # or two ahead of this reader, so a stop comes in time and nothing piles up).
        taken: Callable[[], None] = _no_op

        def work() -> None:
            nonlocal taken
            try:
                engine = self._ensure_chat(model_id)
                loop.call_soon_threadsafe(self.queue.set_capacity, parallel_of(engine))
                stream = job(engine)
                if isinstance(stream, Forwarding):
                    taken = stream.taken  # before the first piece can arrive
                    _forward(stream, loop, events.put)
                    return
                for event in stream:
                    loop.call_soon_threadsafe(events.put, event)
                    if cancel.is_set() and isinstance(event, Finish):
                        break
            except BaseException as exc:
                loop.call_soon_threadsafe(events.put, exc)
            finally:
                loop.call_soon_threadsafe(events.put, done)

        future = loop.run_in_executor(self._worker, work)
        future.add_done_callback(lambda _f: loop.call_soon_threadsafe(self.queue.release, ticket))
        try:
            while True:
                item = await events.get()
                if item is done:
                    break
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, Piece):
                    taken()
                yield item
        finally:
            cancel.set()  # no-op when the job already finished

    def _ensure_chat(self, model_id: str) -> ChatEngine:
        with self._load_lock:  # two generations granted together: the second waits for the load
            return self._load_locked(model_id)

    def _load_locked(self, model_id: str) -> ChatEngine:
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
        ticket = Ticket(EXCLUSIVE)
        async for _ in self.queue.wait_turn(ticket):
            pass
        try:
            await asyncio.get_running_loop().run_in_executor(self._worker, self._unload_chat)
        finally:
            self.queue.release(ticket)
            self.queue.set_capacity(1)  # until the next engine says how many it takes

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


def _no_op() -> None:
    pass


def _forward(
    stream: Forwarding, loop: asyncio.AbstractEventLoop, put: Callable[[Any], None]
) -> None:
    """Have the engine's decode thread put each event on the loop itself, rather than through
    this worker thread: one thread woken per token instead of two, which on a 2-core PC is time
    taken from llama.cpp's own threads. Returns after the last event."""
    ended = threading.Event()

    def send(item: Any) -> None:  # on the decode thread: must not raise
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody reads any more
            loop.call_soon_threadsafe(put, item)

    stream.forward(send, ended.set)
    ended.wait()
