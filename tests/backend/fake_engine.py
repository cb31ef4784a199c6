"""A scripted engine for fast, deterministic tests of everything above the engine.

After simonw/llm's MockModel: a test enqueues the pieces an answer will be made of, and the engine
streams them through the real `ChatEngine` and `EngineFactory` interfaces, recording every prompt
it was given. A `gate` holds an answer before a piece until the test opens it, so that queueing
and stopping are tested by construction rather than by timing. The real engine is proven by the
tests that run llama.cpp on real models; these prove what is built on it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from hearth.engine.base import (
    ChatMessage,
    EngineInfo,
    Event,
    Finish,
    FinishReason,
    Piece,
    SamplingParams,
)
from hearth.errors import NotFound

GATE_TIMEOUT = 30.0  # a test that forgets to open a gate fails instead of hanging


@dataclass
class Script:
    pieces: list[str]
    reason: FinishReason = "stop"
    error: Exception | None = None  # raised after the pieces, as a crash inside llama.cpp
    gate: threading.Event | None = None  # waited for (or a cancel) before `gate_at`'s piece
    gate_at: int = 0
    reached: threading.Event = field(default_factory=threading.Event)  # the gate is reached


@dataclass
class Call:
    model: str
    messages: list[ChatMessage] | None
    prompt: str | None  # a completion's prompt, or a chat's as the fake's template wrote it
    params: SamplingParams
    tools: list[dict] | None = None


class FakeEngine:
    def __init__(self, factory: FakeFactory, model_id: str):
        self.factory = factory
        self.model_id = model_id
        self.n_ctx = factory.n_ctx
        self.closed = False
        # A real GGUF-style chat template, when the test gives the factory one: the API then
        # treats this engine as it treats a llama.cpp model with that template.
        source = factory.templates.get(model_id)
        if source is not None:
            from hearth.engine.prompt import ChatTemplate

            self.template = ChatTemplate(source, bos_token="<s>", eos_token="</s>")

    def count_chat_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(len(m.content.split()) + 4 for m in messages)  # words, plus the template's

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: SamplingParams,
        cancel: threading.Event,
        tools: Sequence[dict] | None = None,
    ) -> Iterator[Event]:
        template = getattr(self, "template", None)
        prompt = template.render(messages, tools)[0] if template is not None else None
        tools = list(tools) if tools else None
        self.factory.calls.append(Call(self.model_id, list(messages), prompt, params, tools))
        return self._play(self.count_chat_tokens(messages), params, cancel)

    def stream_complete(
        self, prompt: str, params: SamplingParams, cancel: threading.Event
    ) -> Iterator[Event]:
        self.factory.calls.append(Call(self.model_id, None, prompt, params))
        return self._play(len(prompt.split()), params, cancel)

    def _play(self, n_prompt: int, params: SamplingParams, cancel: threading.Event):
        script = self.factory.next_script()
        sent = 0
        for index, text in enumerate(script.pieces):
            if script.gate is not None and index == script.gate_at:
                script.reached.set()
                _hold(script.gate, cancel)
            if cancel.is_set():
                yield Finish("stopped", n_prompt, sent)
                return
            if sent == params.max_tokens:
                yield Finish("length", n_prompt, sent)
                return
            sent += 1
            yield Piece(text)
        if script.error is not None:
            raise script.error
        yield Finish("stopped" if cancel.is_set() else script.reason, n_prompt, sent)

    def info(self) -> EngineInfo:
        return EngineInfo(backend="fake", model=self.model_id, n_ctx=self.n_ctx)

    def close(self) -> None:
        self.closed = True


def _hold(gate: threading.Event, cancel: threading.Event) -> None:
    """Wait for the test to open the gate; a cancel ends the wait, as the real engine notices a
    stop at its next token however slow that token is."""
    deadline = time.monotonic() + GATE_TIMEOUT
    while not gate.wait(0.01):
        if cancel.is_set():
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the test never opened the gate")


class FakeFactory:
    """Models by name; each answer plays the next enqueued script (or DEFAULT when none is)."""

    DEFAULT = ("Hello", " from", " the", " fake", " engine.")

    def __init__(self, models: Sequence[str] = ("fake-chat",), n_ctx: int = 4096):
        self.models = list(models)
        self.n_ctx = n_ctx
        self.calls: list[Call] = []
        self.loads: list[str] = []
        self.unloads = 0
        self._scripts: deque[Script] = deque()
        self._lock = threading.Lock()
        self.templates: dict[str, str] = {}  # model -> GGUF chat template, for models that have one

    def enqueue(self, *pieces: str, **how) -> Script:
        script = Script(list(pieces), **how)
        with self._lock:
            self._scripts.append(script)
        return script

    def next_script(self) -> Script:
        with self._lock:
            return self._scripts.popleft() if self._scripts else Script(list(self.DEFAULT))

    # -- EngineFactory ---------------------------------------------------------------------

    def known(self, name: str) -> str | None:
        return name if name in self.models else None

    def resolve_chat_model(self, requested: str | None, loaded: str | None) -> str:
        if requested:
            if requested not in self.models:
                raise NotFound(f"Model {requested!r} is not installed.", code="model_not_found")
            return requested
        return loaded or self.models[0]

    def load_chat(self, model_id: str) -> FakeEngine:
        self.loads.append(model_id)
        return FakeEngine(self, model_id)

    def load_embedding(self, model_id: str | None):
        raise NotFound("The fake engine has no embedding model.", code="model_not_found")

    def unloaded(self) -> None:
        self.unloads += 1
