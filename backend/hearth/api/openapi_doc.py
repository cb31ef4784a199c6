"""What /openapi.json says beyond the routes' own signatures: the error shapes every route may
answer with, the event streams, and which methods a path serves. Other programs generate their
clients from it, so it must describe what the server really sends."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every /api error: a stable code for programs and a sentence for people."""

    code: str = Field(examples=["model_not_found"])
    message: str = Field(examples=["No model named 'x.gguf'"])


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(examples=["invalid_request_error"])
    param: str | None = None
    code: str


class OpenAIErrorBody(BaseModel):
    """/v1 errors in OpenAI's shape, which its clients parse."""

    error: OpenAIErrorDetail


def _errors(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    # "default": any status the route does not list. It also stands in for FastAPI's own 422
    # schema, which is not what Hearth's handlers send (hearth.app.install_error_handlers).
    return {"default": {"model": model, "description": "An error, said in words and a code"}}


API_ERRORS = _errors(ErrorBody)
V1_ERRORS = _errors(OpenAIErrorBody)

# No type: each event's data is JSON of its own kind (see the route's description).
_EVENTS = {"text/event-stream": {"schema": {"description": "Server-Sent Events with JSON data"}}}
# A route that always answers with Server-Sent Events.
SSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "Server-Sent Events until the work ends", "content": _EVENTS}
}
# OpenAI's routes: JSON, or events when the request says "stream": true.
JSON_OR_SSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The answer, or its Server-Sent Events when streamed",
        "content": {"application/json": {"schema": {"type": "object"}}, **_EVENTS},
    }
}


def allowed_methods(openapi: dict[str, Any], path: str) -> list[str]:
    """The methods /openapi.json lists for a concrete path (for a 405's Allow header); none
    for a path outside the API. A path parameter with a pattern matches only what fits it
    (/api/models/upload is not a model's file name). Pure."""
    return sorted(
        {
            method.upper()
            for template, operations in openapi.get("paths", {}).items()
            if _template_regex(template, operations).fullmatch(path)
            for method in operations
            if method in _METHODS
        }
    )


_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")


def _template_regex(template: str, operations: dict[str, Any]) -> re.Pattern[str]:
    patterns = {
        param["name"]: param.get("schema", {}).get("pattern")
        for method in _METHODS
        for param in operations.get(method, {}).get("parameters", [])
        if param.get("in") == "path"
    }
    return template_regex(template, patterns)


def template_regex(template: str, patterns: dict[str, str | None] | None = None) -> re.Pattern[str]:
    """A route template (/api/models/{model_id}) as a regex for concrete paths; a parameter
    with a pattern matches only what fits it, any other one segment."""
    patterns = patterns or {}

    def segment(part: str) -> str:
        if not part.startswith("{"):
            return re.escape(part)
        pattern = patterns.get(part[1:-1])
        return f"(?:{pattern.removeprefix('^').removesuffix('$')})" if pattern else "[^/]+"

    return re.compile("".join(segment(p) for p in re.split(r"(\{[^}/]+\})", template)))
