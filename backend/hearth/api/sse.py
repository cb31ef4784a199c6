"""Server-Sent Events framing, and a response that flushes each event as it comes."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def frame(event: str | None, data: Any) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def sse_response(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)


def snapshot_response(
    snapshots: AsyncGenerator[dict[str, Any], None], event: Callable[[dict[str, Any]], str]
) -> StreamingResponse:
    """A job's snapshots (hearth.events.SnapshotFeed), each framed as the event it names."""

    async def body() -> AsyncIterator[bytes]:
        try:
            async for snapshot in snapshots:
                yield frame(event(snapshot), snapshot)
        finally:  # the client may leave first: unsubscribe now, not at garbage collection
            await snapshots.aclose()

    return sse_response(body())
