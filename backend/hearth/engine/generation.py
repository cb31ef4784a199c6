"""One generation, consumed the same way by every caller (chat, documents, /v1, runtime checks).

`Generation` waits in the model manager's line, streams the engine's pieces, remembers what they
said and how the answer ended, and turns an unexpected failure inside llama.cpp or the engine
into one `generation_failed` error, so each caller only decides what to do with the events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hearth.engine.base import ChatEngine, Event, Finish, Piece, TokenLogprob
from hearth.errors import GenerationFailed, HearthError
from hearth.keys import limits

if TYPE_CHECKING:
    from hearth.engine.manager import ModelManager, Queued

log = logging.getLogger(__name__)


def prompt_budget(n_ctx: int, max_tokens: int) -> int:
    """Tokens the prompt may take: the window less room for the answer. That room is max_tokens,
    but never more than half the window, so a huge max_tokens cannot squeeze the question itself
    out (the answer then ends at the window's end with finish_reason "length")."""
    return n_ctx - min(max_tokens, n_ctx // 2)


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


# The engine, and the event that stops it (the generation's own `cancel`).
Job = Callable[[ChatEngine, threading.Event], Iterator[Event]]


class Generation:
    """`events()` yields `Queued` and `Piece`; afterwards `text`, `finish`, `model_id` and
    `stats` say what came of it. `cancel` stops it within a token or two."""

    def __init__(
        self,
        models: ModelManager,
        model: str | None,
        job: Job,
        cancel: threading.Event | None = None,
    ):
        self._models = models
        self._model = model
        self._job = job
        self.cancel = cancel or threading.Event()
        self.parts: list[str] = []
        self.logprobs: list[TokenLogprob] = []  # when the params asked for them
        self.model_id: str | None = None  # the model that really ran, once it has started
        self.stats = RunStats()
        self._finish: Finish | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def finish(self) -> Finish:
        """How it ended; a generation that never reached the engine's end was stopped."""
        return self._finish or Finish("stopped", 0, 0)

    @property
    def finished(self) -> bool:
        return self._finish is not None

    async def events(self) -> AsyncIterator[Queued | Piece]:
        try:
            async for event in self._models.run(self._model, self._start, self.cancel):
                if isinstance(event, Finish):
                    self._finish = event
                    spend = limits.charge.get()
                    if spend is not None:  # a program's API key: its tokens-per-minute limit
                        spend(event.completion_tokens)
                    continue
                if isinstance(event, Piece):
                    self.stats.piece()
                    self.parts.append(event.text)
                    self.logprobs.extend(event.logprobs)
                yield event
        except HearthError:
            raise
        except Exception as exc:
            log.exception("generation failed")
            raise GenerationFailed(str(exc) or type(exc).__name__) from exc

    async def run(self) -> Generation:
        """The whole generation, for callers that answer only at the end."""
        async for _ in self.events():
            pass
        return self

    def _start(self, engine: ChatEngine) -> Iterator[Event]:
        # Runs on the worker thread once the turn has come: the wait in line is not the model's.
        self.model_id = engine.model_id
        self.stats.started = time.perf_counter()
        return self._job(engine, self.cancel)
