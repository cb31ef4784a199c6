"""Server-Sent Events framing, and a response that flushes each event as it comes."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


# One encoder, made once: json.dumps with any argument builds a new encoder per call, and a
# streamed answer frames an event per token.
_encode = json.JSONEncoder(separators=(",", ":")).encode


def frame(event: str | None, data: Any) -> bytes:
    payload = data if isinstance(data, str) else _encode(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


_SLOT = "\x00hearth-slot\x00"


def slot_frames(event: str | None, shape: Callable[[str], Any]) -> Callable[[str], bytes]:
    """Frames of one event whose data differ only in one string (a streamed answer's chunk per
    token): `shape(text)` is the data. The frame is encoded once with a marker in the string's
    place, and each later frame is that frame with the text encoded into the slot: the same
    bytes as `frame(event, shape(text))`, without encoding the whole object again.

    The template is made at the first frame, not here, so `shape` may read what a stream knows
    only once it has started (the model that runs)."""
    slot = _encode(_SLOT).encode()
    parts: tuple[bytes, bytes] | None = None

    def framed(text: str) -> bytes:
        nonlocal parts
        if parts is None:
            head, marker, tail = frame(event, shape(_SLOT)).partition(slot)
            if not marker or slot in tail:
                raise ValueError("the shape must hold the text exactly once")
            parts = head, tail
        return b"".join((parts[0], _encode(text).encode(), parts[1]))

    return framed


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
