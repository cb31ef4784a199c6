"""Read our SSE streams in tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx


def sse(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    name, data = "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                raw = "\n".join(data)
                yield name, raw if raw == "[DONE]" else json.loads(raw)
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def chat(client: httpx.Client, conversation: str, content: str, **params) -> dict[str, Any]:
    """Send a message and collect the whole streamed answer."""
    body = {"content": content, "params": {"temperature": 0, "max_tokens": 32, **params}}
    events = []
    with client.stream("POST", f"/api/conversations/{conversation}/messages", json=body) as r:
        assert r.status_code == 200, r.read()
        events = list(sse(r))
    names = [n for n, _ in events]
    deltas = "".join(d["content"] for n, d in events if n == "delta")
    done = next((d for n, d in events if n == "done"), None)
    return {"names": names, "text": deltas, "done": done, "events": events}
