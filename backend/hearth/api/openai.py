"""OpenAI-compatible API: a program written for OpenAI's API can use Hearth unchanged."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hearth.api.deps import ModelsDep
from hearth.api.sse import frame, sse_response
from hearth.engine.base import ChatEngine, ChatMessage, Event, Finish, Piece, SamplingParams
from hearth.engine.manager import ModelManager, Queued
from hearth.errors import BadRequest, HearthError

router = APIRouter(prefix="/v1", tags=["openai"])


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str | None = Field(default=None, max_length=512)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=32768)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    # Not OpenAI's, but llama.cpp clients send it; default as in Ollama and LM Studio.
    repeat_penalty: float = Field(default=1.1, ge=0.5, le=2.0)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: int = Field(default=1, ge=1, le=1)

    def sampling(self) -> SamplingParams:
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return SamplingParams(
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=0,  # OpenAI semantics: only temperature and top_p shape the distribution
            min_p=0.0,
            max_tokens=self.max_completion_tokens or self.max_tokens or 1024,
            seed=self.seed,
            stop=stop,
            repeat_penalty=self.repeat_penalty,
            frequency_penalty=self.frequency_penalty,
            presence_penalty=self.presence_penalty,
        )

    @property
    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(_Request):
    messages: list[_Message] = Field(min_length=1)


class CompletionRequest(_Request):
    prompt: str | list[str]

    @field_validator("prompt")
    @classmethod
    def _one_prompt(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and len(value) != 1:
            raise ValueError("exactly one prompt is supported")
        return value

    def text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    input: str | list[str] = Field(min_length=1)


def _model_for(request: Request, name: str | None) -> str | None:
    """A known model by name; an unknown name (e.g. "gpt-4o-mini") means the default model."""
    if not name:
        return None
    factory = request.app.state.models.factory
    find = getattr(factory, "find", None)
    if find is None:
        return name
    entry = find(name)
    return entry.id if entry is not None else None


@router.get("/models")
async def list_models(request: Request) -> dict[str, Any]:
    library = request.app.state.library
    data = [
        {
            "id": e.id,
            "object": "model",
            "created": int(e.path.stat().st_mtime),
            "owned_by": "hearth",
        }
        for e in library.scan()
        if e.info is not None
    ]
    return {"object": "list", "data": data}


async def _run(
    models: ModelManager, model: str | None, job
) -> tuple[AsyncIterator[Queued | Event], threading.Event, list[str]]:
    cancel = threading.Event()
    used: list[str] = []

    def wrapped(engine: ChatEngine) -> Iterator[Event]:
        used.append(engine.model_id)
        return job(engine, cancel)

    return models.run(model, wrapped, cancel), cancel, used


def _finish(reason: str) -> str:
    return "length" if reason == "length" else "stop"


async def _collect(events: AsyncIterator[Queued | Event]) -> tuple[str, Finish]:
    parts: list[str] = []
    finish = Finish("stop", 0, 0)
    async for event in events:
        if isinstance(event, Piece):
            parts.append(event.text)
        elif isinstance(event, Finish):
            finish = event
    return "".join(parts), finish


def _usage(finish: Finish) -> dict[str, int]:
    return {
        "prompt_tokens": finish.prompt_tokens,
        "completion_tokens": finish.completion_tokens,
        "total_tokens": finish.prompt_tokens + finish.completion_tokens,
    }


@router.post("/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request, models: ModelsDep):
    messages = [
        ChatMessage("system" if m.role == "developer" else m.role, m.text())  # type: ignore[arg-type]
        for m in body.messages
    ]
    default_system = request.app.state.settings.system_prompt
    if default_system and all(m.role != "system" for m in messages):
        messages.insert(0, ChatMessage("system", default_system))
    params = body.sampling()
    events, cancel, used = await _run(
        models,
        _model_for(request, body.model),
        lambda engine, c: engine.stream_chat(messages, params, c),
    )
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict, reason: str | None = None) -> dict[str, Any]:
        return {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": used[0] if used else body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
        }

    if not body.stream:
        text, finish = await _collect(events)
        return {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": used[0] if used else body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": _finish(finish.reason),
                }
            ],
            "usage": _usage(finish),
        }

    events = await _peek(events)

    sent_role = False

    def render(event: Queued | Event) -> Iterator[bytes]:
        nonlocal sent_role
        if isinstance(event, Queued):
            yield f": queued at position {event.position}\n\n".encode()
            return
        if not sent_role:
            sent_role = True
            yield frame(None, chunk({"role": "assistant", "content": ""}))
        if isinstance(event, Piece):
            yield frame(None, chunk({"content": event.text}))
        elif isinstance(event, Finish):
            yield frame(None, chunk({}, _finish(event.reason)))
            if body.include_usage:
                yield frame(None, {**chunk({}), "choices": [], "usage": _usage(event)})

    return sse_response(_stream(events, cancel, render))


@router.post("/completions")
async def completions(body: CompletionRequest, request: Request, models: ModelsDep):
    prompt = body.text()
    params = body.sampling()
    events, cancel, used = await _run(
        models,
        _model_for(request, body.model),
        lambda engine, c: engine.stream_complete(prompt, params, c),
    )
    ident, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())

    def choice(text: str, reason: str | None) -> dict[str, Any]:
        return {"index": 0, "text": text, "logprobs": None, "finish_reason": reason}

    def envelope(choices: list, **extra: Any) -> dict[str, Any]:
        model = used[0] if used else body.model
        return {
            "id": ident,
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": choices,
            **extra,
        }

    if not body.stream:
        text, finish = await _collect(events)
        return envelope([choice(text, _finish(finish.reason))], usage=_usage(finish))

    events = await _peek(events)

    def render(event: Queued | Event) -> Iterator[bytes]:
        if isinstance(event, Piece):
            yield frame(None, envelope([choice(event.text, None)]))
        elif isinstance(event, Finish):
            yield frame(None, envelope([choice("", _finish(event.reason))]))
            if body.include_usage:
                yield frame(None, envelope([], usage=_usage(event)))

    return sse_response(_stream(events, cancel, render))


@router.post("/embeddings")
async def embeddings(body: EmbeddingRequest, models: ModelsDep) -> dict[str, Any]:
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if not texts or any(not isinstance(t, str) or not t for t in texts):
        raise BadRequest("input must be a non-empty string or list of non-empty strings")
    model, vectors, n_tokens = await models.embed(body.model, texts)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": n_tokens, "total_tokens": n_tokens},
    }


async def _stream(
    events: AsyncIterator[Queued | Event],
    cancel: threading.Event,
    render: Callable[[Queued | Event], Iterator[bytes]],
) -> AsyncIterator[bytes]:
    """OpenAI's streaming framing: rendered chunks, an error chunk if it fails, then [DONE]."""
    try:
        async for event in events:
            for piece in render(event):
                yield piece
    except HearthError as exc:
        yield frame(None, _stream_error(exc))
    finally:
        cancel.set()
    yield b"data: [DONE]\n\n"


def _stream_error(exc: HearthError) -> dict[str, Any]:
    return {
        "error": {"message": exc.message, "type": "server_error", "param": None, "code": exc.code}
    }


async def _peek(events: AsyncIterator[Queued | Event]) -> AsyncIterator[Queued | Event]:
    """Wait for the first real event before answering, so that an unknown model or an
    overlong prompt is an HTTP error (what OpenAI clients expect), not an error inside a 200."""
    held: list[Queued | Event] = []
    while True:
        try:
            event = await events.__anext__()
        except StopAsyncIteration:
            break
        if not isinstance(event, Queued):
            held.append(event)
            break

    async def chained() -> AsyncIterator[Queued | Event]:
        for item in held:
            yield item
        async for item in events:
            yield item

    return chained()
