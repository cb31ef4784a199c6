"""OpenAI-compatible API: a program written for OpenAI's API can use Hearth unchanged."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from hearth.api.deps import LibraryDep, ModelsDep, SettingsDep
from hearth.api.openai_extras import (
    ResponseFormat,
    chat_logprobs,
    completion_logprobs,
    grammar_for,
)
from hearth.api.openai_tools import (
    MAX_TOOLS,
    Tool,
    ToolChoice,
    call_grammar,
    history_text,
    must_call,
    offered,
    parse_call,
    system_text,
)
from hearth.api.openapi_doc import JSON_OR_SSE
from hearth.api.sse import frame, sse_response
from hearth.engine.base import ChatMessage, Finish, Piece, SamplingParams
from hearth.engine.generation import Generation
from hearth.engine.manager import ModelManager
from hearth.errors import BadRequest, HearthError
from hearth.jsonvalues import INTEGRAL

router = APIRouter(prefix="/v1", tags=["openai"])


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    model: str | None = Field(default=None, max_length=512)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: Annotated[int, Field(ge=1, le=32768), INTEGRAL] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1, le=32768), INTEGRAL] | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1), INTEGRAL] | None = None
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    # Not OpenAI's, but llama.cpp clients send it; default as in Ollama and LM Studio.
    repeat_penalty: float = Field(default=1.1, ge=0.5, le=2.0)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    n: Annotated[int, Field(ge=1, le=1), INTEGRAL] = 1
    response_format: ResponseFormat | None = None

    def token_logprobs(self) -> int | None:
        """How many alternatives each token's log-probability comes with; None: not asked."""
        return None

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
            grammar=grammar_for(self.response_format),
            logprobs=self.token_logprobs(),
        )

    @property
    def include_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_TOOLS)
    tool_call_id: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=64)

    def chat_message(self) -> ChatMessage:
        """As the model's template sees it: tool calls and results in words (openai_tools)."""
        role, text = history_text(
            "system" if self.role == "developer" else self.role,
            self.text(),
            self.tool_calls,
            self.name,
        )
        return ChatMessage(role, text)  # type: ignore[arg-type]

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(_Request):
    messages: list[_Message] = Field(min_length=1)
    logprobs: bool = False
    top_logprobs: Annotated[int, Field(ge=0, le=20), INTEGRAL] | None = None
    tools: list[Tool] = Field(default_factory=list, max_length=MAX_TOOLS)
    tool_choice: ToolChoice | None = None

    def token_logprobs(self) -> int | None:
        return (self.top_logprobs or 0) if self.logprobs else None


class CompletionRequest(_Request):
    # OpenAI takes several prompts at once; Hearth answers one, said here for generated clients.
    prompt: str | Annotated[list[str], Field(min_length=1, max_length=1)]
    # Completions' legacy form: the number of alternatives per token (OpenAI allows up to 5).
    logprobs: Annotated[int, Field(ge=0, le=5), INTEGRAL] | None = None

    def token_logprobs(self) -> int | None:
        return self.logprobs

    def text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]


_Text = Annotated[str, Field(min_length=1)]


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    model: str | None = None
    input: _Text | Annotated[list[_Text], Field(min_length=1, max_length=2048)]


def _model_for(models: ModelManager, name: str | None) -> str | None:
    """A known model by name; an unknown name (e.g. "gpt-4o-mini") means the default model."""
    if not name:
        return None
    return models.factory.known(name)


@router.get("/models")
async def list_models(library: LibraryDep) -> dict[str, Any]:
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


def _finish(reason: str) -> str:
    return "length" if reason == "length" else "stop"


def _usage(finish: Finish) -> dict[str, int]:
    return {
        "prompt_tokens": finish.prompt_tokens,
        "completion_tokens": finish.completion_tokens,
        "total_tokens": finish.prompt_tokens + finish.completion_tokens,
    }


@router.post("/chat/completions", responses=JSON_OR_SSE)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, models: ModelsDep, settings: SettingsDep
):
    messages = [m.chat_message() for m in body.messages]
    default_system = settings.system_prompt
    if default_system and all(m.role != "system" for m in messages):
        messages.insert(0, ChatMessage("system", default_system))
    params = body.sampling()
    tools = offered(body.tools, body.tool_choice)
    if tools:
        required = must_call(body.tools, body.tool_choice)
        messages = _with_tools(messages, system_text(tools, required))
        if required:
            if params.grammar is not None:
                raise BadRequest(
                    "A required tool call and a response_format cannot both shape one answer.",
                    code="invalid_request",
                )
            params = params.model_copy(update={"grammar": call_grammar(tools)})
    generation = Generation(
        models, _model_for(models, body.model), lambda e, c: e.stream_chat(messages, params, c)
    )
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    wants_logprobs = params.logprobs is not None

    def chunk(delta: dict, reason: str | None = None) -> dict[str, Any]:
        return {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": generation.model_id or body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
        }

    if not body.stream:
        await _whole(generation, request)
        call = parse_call(generation.text, tools) if tools else None
        message: dict[str, Any] = {"role": "assistant", "content": generation.text}
        if call is not None:
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
        return {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": generation.model_id or body.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": chat_logprobs(generation.logprobs) if wants_logprobs else None,
                    "finish_reason": "tool_calls"
                    if call is not None
                    else _finish(generation.finish.reason),
                }
            ],
            "usage": _usage(generation.finish),
        }

    pieces = await _started(generation)
    sent_role = False

    def role() -> Iterator[bytes]:
        nonlocal sent_role
        if not sent_role:  # OpenAI's first chunk names the role, even of an empty answer
            sent_role = True
            yield frame(None, chunk({"role": "assistant", "content": ""}))

    # With tools, an answer that may be a call is held back until it is known to be one (then
    # it goes as one tool_calls delta) or plain text (then what was held goes as content).
    held: list[Piece] = []
    holding = bool(tools)

    def render(piece: Piece) -> Iterator[bytes]:
        nonlocal holding
        yield from role()
        if holding:
            held.append(piece)
            text = "".join(p.text for p in held).lstrip()
            if not text or text.startswith("{") or must_call(body.tools, body.tool_choice):
                return
            holding = False
            pieces, held[:] = list(held), []
        else:
            pieces = [piece]
        for p in pieces:
            data = chunk({"content": p.text})
            if wants_logprobs:
                data["choices"][0]["logprobs"] = chat_logprobs(p.logprobs)
            yield frame(None, data)

    def end(finish: Finish) -> Iterator[bytes]:
        yield from role()
        if held:
            text = "".join(p.text for p in held)
            call = parse_call(text, tools)
            if call is not None:
                delta = {"tool_calls": [{"index": 0, **call}]}
                yield frame(None, chunk(delta))
                yield frame(None, chunk({}, "tool_calls"))
                if body.include_usage:
                    yield frame(None, {**chunk({}), "choices": [], "usage": _usage(finish)})
                return
            yield frame(None, chunk({"content": text}))
        yield frame(None, chunk({}, _finish(finish.reason)))
        if body.include_usage:
            yield frame(None, {**chunk({}), "choices": [], "usage": _usage(finish)})

    return sse_response(_stream(generation, pieces, render, end))


@router.post("/completions", responses=JSON_OR_SSE)
async def completions(body: CompletionRequest, request: Request, models: ModelsDep):
    prompt = body.text()
    params = body.sampling()
    generation = Generation(
        models, _model_for(models, body.model), lambda e, c: e.stream_complete(prompt, params, c)
    )
    ident, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())

    sent = 0  # characters streamed so far: where the next piece's tokens start

    def choice(text: str, reason: str | None, tokens=None) -> dict[str, Any]:
        logprobs = completion_logprobs(tokens, sent) if tokens is not None else None
        return {"index": 0, "text": text, "logprobs": logprobs, "finish_reason": reason}

    def envelope(choices: list, **extra: Any) -> dict[str, Any]:
        model = generation.model_id or body.model
        return {
            "id": ident,
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": choices,
            **extra,
        }

    if not body.stream:
        finish = (await _whole(generation, request)).finish
        tokens = generation.logprobs if params.logprobs is not None else None
        return envelope(
            [choice(generation.text, _finish(finish.reason), tokens)], usage=_usage(finish)
        )

    pieces = await _started(generation)

    def render(piece: Piece) -> Iterator[bytes]:
        nonlocal sent
        tokens = piece.logprobs if params.logprobs is not None else None
        yield frame(None, envelope([choice(piece.text, None, tokens)]))
        sent += len(piece.text)

    def end(finish: Finish) -> Iterator[bytes]:
        yield frame(None, envelope([choice("", _finish(finish.reason))]))
        if body.include_usage:
            yield frame(None, envelope([], usage=_usage(finish)))

    return sse_response(_stream(generation, pieces, render, end))


@router.post("/embeddings")
async def embeddings(body: EmbeddingRequest, models: ModelsDep) -> dict[str, Any]:
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    model, vectors, n_tokens = await models.embed(body.model, texts)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": n_tokens, "total_tokens": n_tokens},
    }


def _with_tools(messages: list[ChatMessage], tools_text: str) -> list[ChatMessage]:
    """The tools' description in the system message (the first one, or a new one)."""
    if messages and messages[0].role == "system":
        return [ChatMessage("system", f"{messages[0].content}\n\n{tools_text}"), *messages[1:]]
    return [ChatMessage("system", tools_text), *messages]


# How often a non-streamed answer checks that its caller is still there.
HANG_UP_POLL_S = 0.25


async def _whole(generation: Generation, request: Request) -> Generation:
    """The whole answer, for a caller that waits for it; one that hangs up (a script stopped
    with Ctrl-C, a client's timeout) stops it, as a streamed caller's hang-up does, so the
    engine and the line behind it are not held for an answer nobody reads."""
    task = asyncio.ensure_future(generation.run())
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=HANG_UP_POLL_S)
            if not task.done() and await request.is_disconnected():
                generation.cancel.set()
        return task.result()
    finally:
        if not task.done():  # this handler itself was cancelled
            generation.cancel.set()
            await asyncio.gather(task, return_exceptions=True)


async def _stream(
    generation: Generation,
    pieces: AsyncIterator[Piece],
    render: Callable[[Piece], Iterator[bytes]],
    end: Callable[[Finish], Iterator[bytes]],
) -> AsyncIterator[bytes]:
    """OpenAI's streaming framing: rendered chunks, the finish (when the engine reached it), an
    error chunk if it fails, then [DONE]."""
    try:
        async for piece in pieces:
            for data in render(piece):
                yield data
        if generation.finished:
            for data in end(generation.finish):
                yield data
    except HearthError as exc:
        yield frame(None, _stream_error(exc))
    finally:
        generation.cancel.set()
    yield b"data: [DONE]\n\n"


def _stream_error(exc: HearthError) -> dict[str, Any]:
    return {
        "error": {"message": exc.message, "type": "server_error", "param": None, "code": exc.code}
    }


async def _started(generation: Generation) -> AsyncIterator[Piece]:
    """Wait for the first piece (or the end) before answering, so that an unknown model or an
    overlong prompt is an HTTP error (what OpenAI clients expect), not an error inside a 200.
    A streamed /v1 answer has no way to say it is queued, so the wait in line is silent."""
    events = generation.events()
    first: Piece | None = None
    while first is None:
        try:
            event = await anext(events)
        except StopAsyncIteration:
            break
        if isinstance(event, Piece):
            first = event

    async def pieces() -> AsyncIterator[Piece]:
        if first is None:
            return
        yield first
        async for event in events:
            if isinstance(event, Piece):
                yield event

    return pieces()
