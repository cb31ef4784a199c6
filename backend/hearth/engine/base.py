"""The one interface every inference backend implements, and the values it speaks in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from hearth.errors import BadRequest

FinishReason = Literal["stop", "length", "stopped", "error"]


class ContextOverflow(BadRequest):
    """A prompt longer than the context window. Here, not in engine/llama.py, so that the chat
    and documents modules that raise it do not import llama.cpp's numpy at startup."""

    code = "context_overflow"


class SamplingParams(BaseModel):
    """Sampling knobs, bounded so a bad value is a 422 rather than a crash inside llama.cpp."""

    temperature: float = Field(default=0.7, ge=0.0, le=5.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    top_k: int = Field(default=40, ge=0, le=1000)
    min_p: float = Field(default=0.05, ge=0.0, le=1.0)
    # 1.1 as in Ollama and LM Studio: small models loop without it.
    repeat_penalty: float = Field(default=1.1, ge=0.5, le=2.0)
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    max_tokens: int = Field(default=512, ge=1, le=32768)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    stop: list[str] = Field(default_factory=list, max_length=8)
    # llama.cpp's GBNF: the answer can only be text the grammar allows (a JSON schema's, for
    # /v1's response_format), so it always parses.
    grammar: str | None = Field(
        default=None, min_length=1, max_length=200_000, description="A GBNF grammar to follow"
    )
    logprobs: int | None = Field(
        default=None,
        ge=0,
        le=20,
        description="Each token's log-probability and this many most likely alternatives",
    )


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    # Only for a chat template that writes tool calls itself (hearth.api.tool_formats): an
    # assistant's calls as OpenAI sends them (arguments as objects), a tool result's call id and
    # tool name. Left out of as_dict when unset: templates test whether the keys exist.
    tool_calls: tuple[dict[str, Any], ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = list(self.tool_calls)
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            message["name"] = self.name
        return message


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token: its text, its bytes (`raw`: a token may be part of a character), the
    model's log-probability of it (before sampling's temperature and cut-offs), and the most
    likely alternatives as (text, bytes, logprob), best first."""

    token: str
    raw: bytes
    logprob: float
    top: tuple[tuple[str, bytes, float], ...] = ()


@dataclass(frozen=True)
class Piece:
    """A chunk of generated text (one or a few tokens, always whole UTF-8 characters); with
    the tokens' log-probabilities when they were asked for."""

    text: str
    logprobs: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True)
class Finish:
    reason: FinishReason
    prompt_tokens: int
    completion_tokens: int


Event = Piece | Finish


@dataclass
class EngineInfo:
    backend: str
    model: str
    n_ctx: int
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Forwarding(Protocol):
    """An engine stream that can also hand its events over as they come, from the thread that
    makes them (the in-process engine's decode thread), instead of being iterated on a thread
    of the reader's own. The model manager uses it to spare each token a thread hop."""

    def forward(
        self, send: Callable[[Event | BaseException], None], done: Callable[[], None]
    ) -> None: ...

    def taken(self) -> None:
        """The reader has taken one Piece (the stream may run a little ahead of its reader)."""
        ...


class ChatEngine(Protocol):
    """A loaded chat model. Every method is blocking: callers run it in a worker thread."""

    model_id: str
    n_ctx: int

    def count_chat_tokens(self, messages: Sequence[ChatMessage]) -> int: ...

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: SamplingParams,
        cancel: threading.Event,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> Iterator[Event]:
        """`tools` (OpenAI's function tools) go to a chat template that writes them itself;
        only an engine with such a template (a GGUF's) is given any."""
        ...

    def stream_complete(
        self, prompt: str, params: SamplingParams, cancel: threading.Event
    ) -> Iterator[Event]: ...

    def info(self) -> EngineInfo: ...

    def close(self) -> None: ...


class EmbeddingEngine(Protocol):
    model_id: str

    def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], int]: ...

    def close(self) -> None: ...
