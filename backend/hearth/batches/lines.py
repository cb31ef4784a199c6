"""A batch's input file read and checked: one request per JSONL line, or the errors that fail the
batch, each naming its line as OpenAI's `errors` object does. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")
MAX_REQUESTS = 50_000  # OpenAI's own limit for one batch
MAX_CUSTOM_ID = 512
MAX_ERRORS = 100  # listed; a file with more says so in the last one


@dataclass(frozen=True)
class RequestLine:
    line: int  # 1-based, as an editor numbers it
    custom_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class LineError:
    code: str
    message: str
    line: int | None = None
    param: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "param": self.param, "line": self.line}


@dataclass(frozen=True)
class Parsed:
    requests: list[RequestLine]
    errors: list[LineError]

    @property
    def ok(self) -> bool:
        return not self.errors


def errors_object(errors: list[LineError]) -> dict[str, Any]:
    """A failed batch's `errors`, in OpenAI's shape."""
    return {"object": "list", "data": [e.to_dict() for e in errors]}


def parse(content: bytes, endpoint: str) -> Parsed:
    """Every request of a batch file for `endpoint`, or every line that is wrong (blank lines
    are skipped, as JSONL readers do)."""
    requests: list[RequestLine] = []
    errors: list[LineError] = []
    seen: set[str] = set()
    for number, raw in enumerate(content.split(b"\n"), start=1):
        if not raw.strip():
            continue
        if len(requests) + len(errors) >= MAX_REQUESTS:
            errors.append(
                LineError(
                    "too_many_requests",
                    f"A batch holds at most {MAX_REQUESTS} requests.",
                    number,
                )
            )
            break
        found = _request(number, raw, endpoint)
        if isinstance(found, LineError):
            errors.append(found)
        elif found.custom_id in seen:
            errors.append(
                LineError(
                    "duplicate_custom_id",
                    f"The custom_id {found.custom_id!r} is also on an earlier line; each request"
                    " of a batch needs its own.",
                    number,
                    "custom_id",
                )
            )
        else:
            seen.add(found.custom_id)
            requests.append(found)
    if not requests and not errors:
        errors.append(LineError("empty_file", "The file holds no requests."))
    return Parsed(requests, _capped(errors))


def _capped(errors: list[LineError]) -> list[LineError]:
    if len(errors) <= MAX_ERRORS:
        return errors
    more = len(errors) - MAX_ERRORS + 1
    last = LineError("too_many_errors", f"{more} more lines are wrong too (not listed).")
    return [*errors[: MAX_ERRORS - 1], last]


def _request(number: int, raw: bytes, endpoint: str) -> RequestLine | LineError:
    try:
        value = json.loads(raw)
    except ValueError:  # bad JSON, or bytes that are not UTF-8
        return LineError("invalid_json_line", "This line is not valid JSON.", number)
    if not isinstance(value, dict):
        return LineError("invalid_json_line", "This line is not a JSON object.", number)
    custom_id = value.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return _missing(number, "custom_id", "a non-empty string")
    if len(custom_id) > MAX_CUSTOM_ID:
        return LineError(
            "invalid_custom_id",
            f"A custom_id is at most {MAX_CUSTOM_ID} characters.",
            number,
            "custom_id",
        )
    method = value.get("method")
    if method != "POST":
        return LineError("invalid_method", "The method of every request is POST.", number, "method")
    url = value.get("url")
    if url not in ENDPOINTS:
        return LineError(
            "invalid_url",
            f"The url is one of {', '.join(ENDPOINTS)}.",
            number,
            "url",
        )
    if url != endpoint:
        return LineError(
            "mismatched_endpoint",
            f"This line's url {url} is not the batch's endpoint {endpoint}.",
            number,
            "url",
        )
    body = value.get("body")
    if not isinstance(body, dict):
        return _missing(number, "body", "an object")
    return RequestLine(number, custom_id, body)


def _missing(number: int, param: str, what: str) -> LineError:
    return LineError(
        "missing_required_parameter", f"Each line needs {param}: {what}.", number, param
    )
