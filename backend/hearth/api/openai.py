"""OpenAI-compatible API: a program written for OpenAI's API can use Hearth unchanged."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from fastapi import APIRouter, Request

from hearth.api.deps import LibraryDep, ModelsDep, SettingsDep
from hearth.api.openai_answers import (
    ChatCompletionRequest,
    CompletionRequest,
    EmbeddingRequest,
    chat_answer,
    chat_setup,
    completion_answer,
    embedding_answer,
    finish_reason,
    model_for,
    usage,
)
from hearth.api.openai_extras import chat_logprobs, completion_logprobs
from hearth.api.openapi_doc import JSON_OR_SSE
from hearth.api.sse import frame, slot_frames, sse_response
from hearth.api.tool_formats import HeldBack
from hearth.engine.base import Finish, Piece
from hearth.engine.generation import Generation
from hearth.errors import HearthError

router = APIRouter(prefix="/v1", tags=["openai"])


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


@router.post("/chat/completions", responses=JSON_OR_SSE)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, models: ModelsDep, settings: SettingsDep
):
    if not body.stream:
        cancel = threading.Event()
        return await _until_hung_up(request, cancel, chat_answer(body, models, settings, cancel))
    setup = chat_setup(body, settings)
    generation = Generation(models, model_for(models, body.model), setup.start)
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    wants_logprobs = setup.params.logprobs is not None

    def chunk(delta: dict, reason: str | None = None) -> dict[str, Any]:
        return {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": generation.model_id or body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
        }

    pieces = await _started(generation)
    sent_role = False

    def role() -> Iterator[bytes]:
        nonlocal sent_role
        if not sent_role:  # OpenAI's first chunk names the role, even of an empty answer
            sent_role = True
            yield frame(None, chunk({"role": "assistant", "content": ""}))

    plain = slot_frames(None, lambda text: chunk({"content": text}))  # a content chunk, by its text

    def content(piece: Piece) -> bytes:
        if not wants_logprobs:
            return plain(piece.text)
        data = chunk({"content": piece.text})
        data["choices"][0]["logprobs"] = chat_logprobs(piece.logprobs)
        return frame(None, data)

    # With tools, text that may be (the start of) a call is held back until it is known to be
    # one (then it goes as one tool_calls delta) or plain text (then it goes as content). The
    # format is known once the engine has started, before the first piece.
    held: HeldBack[Piece] | None = None

    def render(piece: Piece) -> Iterator[bytes]:
        nonlocal held
        yield from role()
        if held is None:
            held = HeldBack(setup.format if setup.tools else None, setup.required)
        for p in held.feed(piece):
            yield content(p)

    def end(finish: Finish) -> Iterator[bytes]:
        yield from role()
        answer = setup.read(held.text) if held is not None and not held.free else None
        if held is not None and answer is not None:
            before = held.text[held.sent : answer.start]
            if before.strip():
                yield frame(None, chunk({"content": before}))
            calls = [{"index": i, **call} for i, call in enumerate(setup.calls(answer))]
            yield frame(None, chunk({"tool_calls": calls}))
            yield frame(None, chunk({}, "tool_calls"))
        else:
            for p in held.pending if held is not None else []:
                yield content(p)
            yield frame(None, chunk({}, finish_reason(finish.reason)))
        if body.include_usage:
            yield frame(None, {**chunk({}), "choices": [], "usage": usage(finish)})

    return sse_response(_stream(generation, pieces, render, end))


@router.post("/completions", responses=JSON_OR_SSE)
async def completions(body: CompletionRequest, request: Request, models: ModelsDep):
    if not body.stream:
        cancel = threading.Event()
        return await _until_hung_up(request, cancel, completion_answer(body, models, cancel))
    prompt = body.text()
    params = body.sampling()
    generation = Generation(
        models, model_for(models, body.model), lambda e, c: e.stream_complete(prompt, params, c)
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

    pieces = await _started(generation)

    plain = slot_frames(None, lambda text: envelope([choice(text, None)]))  # a piece, by its text

    def render(piece: Piece) -> Iterator[bytes]:
        nonlocal sent
        if params.logprobs is None:
            yield plain(piece.text)
        else:
            yield frame(None, envelope([choice(piece.text, None, piece.logprobs)]))
        sent += len(piece.text)

    def end(finish: Finish) -> Iterator[bytes]:
        yield frame(None, envelope([choice("", finish_reason(finish.reason))]))
        if body.include_usage:
            yield frame(None, envelope([], usage=usage(finish)))

    return sse_response(_stream(generation, pieces, render, end))


@router.post("/embeddings")
async def embeddings(body: EmbeddingRequest, models: ModelsDep) -> dict[str, Any]:
    return await embedding_answer(body, models)


# How often a non-streamed answer checks that its caller is still there.
HANG_UP_POLL_S = 0.25

T = TypeVar("T")


async def _until_hung_up(request: Request, cancel: threading.Event, answer: Awaitable[T]) -> T:
    """The whole answer, for a caller that waits for it; one that hangs up (a script stopped
    with Ctrl-C, a client's timeout) stops it through `cancel`, as a streamed caller's hang-up
    does, so the engine and the line behind it are not held for an answer nobody reads."""
    task = asyncio.ensure_future(answer)
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=HANG_UP_POLL_S)
            if not task.done() and await request.is_disconnected():
                cancel.set()
        return task.result()
    finally:
        if not task.done():  # this handler itself was cancelled
            cancel.set()
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
