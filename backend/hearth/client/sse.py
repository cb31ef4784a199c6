"""Read Server-Sent Events from an httpx streaming response."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx


def events(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    name = "message"
    data: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if data:
                raw = "\n".join(data)
                yield name, (raw if raw == "[DONE]" else json.loads(raw))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
