"""What a batch's output and error files say, line by line, in OpenAI's shape. Pure."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from pydantic import ValidationError

from hearth.errors import HearthError

# A request line that was answered, refused or never ran.
LineState = Literal["pending", "completed", "failed"]


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


def answered(custom_id: str, status_code: int, body: dict[str, Any]) -> dict[str, Any]:
    """One line of the output file (2xx) or the error file (any other status)."""
    return {
        "id": new_id("batch_req_"),
        "custom_id": custom_id,
        "response": {"status_code": status_code, "request_id": new_id("req_"), "body": body},
        "error": None,
    }


def not_run(custom_id: str, code: str, message: str) -> dict[str, Any]:
    """An error-file line for a request the batch ended before (cancelled, expired)."""
    return {
        "id": new_id("batch_req_"),
        "custom_id": custom_id,
        "response": None,
        "error": {"code": code, "message": message},
    }


def state_of(result: dict[str, Any]) -> LineState:
    response = result.get("response")
    ok = response is not None and 200 <= response["status_code"] < 300
    return "completed" if ok else "failed"


def refused(custom_id: str, exc: HearthError | ValidationError) -> dict[str, Any]:
    """The line the /v1 route's error would have been: its status and OpenAI's error body (a
    body the route's own validation refuses is its 422, not OpenAI's 400)."""
    if isinstance(exc, ValidationError):
        status, code = 422, "invalid_request"
        message = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
    else:
        status, code, message = exc.status, exc.code, exc.message
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return answered(custom_id, status, body)


# What an error-file line says of a request that never ran, by how the batch ended.
NOT_RUN = {
    "cancelled": ("batch_cancelled", "The batch was cancelled before this request ran."),
    "expired": (
        "batch_expired",
        "This request could not be executed before the completion window expired.",
    ),
}
