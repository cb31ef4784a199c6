"""Chat over SSE: send, regenerate, edit-and-resend, stop, and follow a running answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hearth.api.deps import ChatDep
from hearth.api.openapi_doc import SSE
from hearth.api.params import RowId
from hearth.api.sse import frame, sse_response
from hearth.chat.service import ChatRun
from hearth.engine.base import SamplingParams
from hearth.errors import NotFound

router = APIRouter(prefix="/api/conversations", tags=["chat"])


class ChatOptions(BaseModel):
    model: str | None = Field(default=None, max_length=512)
    params: SamplingParams = Field(default_factory=SamplingParams)


class SendBody(ChatOptions):
    content: str = Field(min_length=1, max_length=200_000)


async def _stream(run: ChatRun) -> AsyncIterator[bytes]:
    finished = False
    try:
        async for name, data in run.follow():
            yield frame(name, data)
        finished = True
    finally:
        if not finished:
            # The client went away mid-answer: that is a stop. The run saves what it has.
            run.cancel.set()


@router.post("/{conversation_id}/messages", responses=SSE)
async def send_message(conversation_id: str, body: SendBody, chat: ChatDep):
    """Add a user message and stream the answer as Server-Sent Events."""
    run = await chat.send(conversation_id, body.content, body.params, body.model)
    return sse_response(_stream(run))


@router.post("/{conversation_id}/regenerate", responses=SSE)
async def regenerate(conversation_id: str, body: ChatOptions, chat: ChatDep):
    """Answer the last user message again; the old answer is kept as an alternative."""
    run = await chat.regenerate(conversation_id, body.params, body.model)
    return sse_response(_stream(run))


@router.post("/{conversation_id}/messages/{message_id}/edit", responses=SSE)
async def edit_and_resend(conversation_id: str, message_id: RowId, body: SendBody, chat: ChatDep):
    """Ask an edited question beside the original (kept with what followed it), and answer it."""
    run = await chat.edit(conversation_id, message_id, body.content, body.params, body.model)
    return sse_response(_stream(run))


@router.post("/{conversation_id}/messages/{message_id}/select")
async def select_alternative(
    conversation_id: str, message_id: RowId, chat: ChatDep
) -> list[dict[str, Any]]:
    """Show this alternative instead of its siblings; returns the new active path, as listed."""
    return [step.to_dict() for step in await chat.select(conversation_id, message_id)]


@router.post("/{conversation_id}/stop")
async def stop(conversation_id: str, chat: ChatDep) -> dict[str, bool]:
    return {"stopped": chat.stop(conversation_id)}


@router.get("/{conversation_id}/stream", responses=SSE)
async def follow(conversation_id: str, chat: ChatDep):
    """Re-attach to a running answer (after a reload) without stopping it on disconnect."""
    run = chat.active(conversation_id)
    if run is None:
        raise NotFound("No answer is being generated for this conversation.")

    async def body() -> AsyncIterator[bytes]:
        async for name, data in run.follow():
            yield frame(name, data)

    return sse_response(body())
