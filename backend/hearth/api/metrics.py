"""Live system metrics for the UI's monitor as Server-Sent Events about once a second (the
sampling is hearth.hardware.meter's), and the speed of recent answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import func
from sqlmodel import col, select

from hearth.api.deps import DbDep, MeterDep
from hearth.api.openapi_doc import SSE
from hearth.api.sse import frame, sse_response
from hearth.hardware.meter import Sampler

router = APIRouter(prefix="/api/metrics", tags=["metrics"])


@router.get("/stream", responses=SSE)
async def stream(
    meter: MeterDep,
    interval: float = Query(default=1.0, ge=0.2, le=10.0, description="Seconds between samples"),
):
    """`event: sample` with CPU, RAM, process and GPU readings, until the client leaves."""
    sampler = await asyncio.to_thread(Sampler, meter)

    async def body() -> AsyncIterator[bytes]:
        # CPU load is measured over the pause before each sample; a short first one fills the
        # monitor quickly.
        pause = min(interval, 0.5)
        while True:
            await asyncio.sleep(pause)
            pause = interval
            yield frame("sample", await asyncio.to_thread(sampler.sample))

    return sse_response(body())


@router.get("/answers")
def recent_answers(db: DbDep, limit: int = Query(default=50, ge=1, le=500)) -> dict[str, Any]:
    """The most recent answers, oldest first, for the tokens/s history, and how many there are.

    Every answer counts, the alternatives of a regenerated or edited turn too (they are kept,
    not replaced), and so do answers too short or too soon stopped to have a speed: those come
    with `tokens_per_s` null. An answer goes with its conversation when that is deleted.
    """
    from hearth.store.db import session_scope
    from hearth.store.models import Message

    is_answer = Message.role == "assistant"
    query = select(Message).where(is_answer).order_by(col(Message.id).desc()).limit(limit)
    with session_scope(db) as session:
        rows = list(session.exec(query).all())
        total = session.exec(select(func.count()).select_from(Message).where(is_answer)).one()
    return {
        "total": total,
        "answers": [
            {
                "message_id": m.id,
                "conversation_id": m.conversation_id,
                "model": m.model,
                "tokens_per_s": m.tokens_per_s,
                "ttft_ms": m.ttft_ms,
                "completion_tokens": m.completion_tokens,
                "finish_reason": m.finish_reason,
                "created_at": m.to_dict()["created_at"],
            }
            for m in reversed(rows)
        ],
    }
