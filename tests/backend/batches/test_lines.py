"""A batch's input file checked line by line, and the output lines' shapes: table-style, pure."""

from __future__ import annotations

import json
from typing import get_args

import pytest
from hearth.api.batches import Endpoint
from hearth.batches import lines
from hearth.batches.results import answered, not_run, refused, state_of
from hearth.errors import NotFound

CHAT = "/v1/chat/completions"


def _line(custom_id="a", url=CHAT, method="POST", body=None) -> bytes:
    value = {"custom_id": custom_id, "method": method, "url": url, "body": body or {"n": 1}}
    return json.dumps(value).encode()


def test_each_line_is_one_request_numbered_as_an_editor_does():
    content = b"\n".join([_line("a"), b"", _line("b"), b""])
    parsed = lines.parse(content, CHAT)
    assert parsed.ok
    assert [(r.line, r.custom_id) for r in parsed.requests] == [(1, "a"), (3, "b")]
    assert parsed.requests[0].body == {"n": 1}


@pytest.mark.parametrize(
    ("raw", "code", "param"),
    [
        (b"{not json", "invalid_json_line", None),
        (b"\xff\xfe", "invalid_json_line", None),
        (b"[1, 2]", "invalid_json_line", None),
        (_line(custom_id=""), "missing_required_parameter", "custom_id"),
        (
            json.dumps({"method": "POST", "url": CHAT, "body": {}}).encode(),
            "missing_required_parameter",
            "custom_id",
        ),
        (_line(custom_id="x" * 513), "invalid_custom_id", "custom_id"),
        (_line(method="GET"), "invalid_method", "method"),
        (_line(url="/v1/images/generations"), "invalid_url", "url"),
        (_line(url="/v1/embeddings"), "mismatched_endpoint", "url"),
        (
            json.dumps({"custom_id": "a", "method": "POST", "url": CHAT}).encode(),
            "missing_required_parameter",
            "body",
        ),
        (
            json.dumps({"custom_id": "a", "method": "POST", "url": CHAT, "body": "hi"}).encode(),
            "missing_required_parameter",
            "body",
        ),
    ],
)
def test_a_wrong_line_fails_the_batch_naming_the_line(raw, code, param):
    parsed = lines.parse(_line("first") + b"\n" + raw, CHAT)
    assert not parsed.ok
    assert [(e.code, e.line, e.param) for e in parsed.errors] == [(code, 2, param)]


def test_every_wrong_line_is_listed_and_a_duplicate_custom_id_is_one():
    content = b"\n".join([_line("a"), b"{", _line("a"), _line("b", url="/v1/completions")])
    parsed = lines.parse(content, CHAT)
    listed = lines.errors_object(parsed.errors)
    assert listed["object"] == "list"
    assert [(e["line"], e["code"]) for e in listed["data"]] == [
        (2, "invalid_json_line"),
        (3, "duplicate_custom_id"),
        (4, "mismatched_endpoint"),
    ]
    assert set(listed["data"][0]) == {"code", "message", "param", "line"}


def test_an_empty_file_and_too_many_errors():
    assert [e.code for e in lines.parse(b"\n \n", CHAT).errors] == ["empty_file"]
    many = lines.parse(b"\n".join(b"{" for _ in range(lines.MAX_ERRORS + 5)), CHAT)
    assert len(many.errors) == lines.MAX_ERRORS
    assert many.errors[-1].code == "too_many_errors"
    assert "6 more lines" in many.errors[-1].message


def test_the_routes_endpoints_are_the_parsers():
    assert set(get_args(Endpoint)) == set(lines.ENDPOINTS)


def test_output_lines_in_openais_shape():
    ok = answered("a", 200, {"object": "chat.completion"})
    assert set(ok) == {"id", "custom_id", "response", "error"}
    assert ok["id"].startswith("batch_req_") and ok["response"]["request_id"].startswith("req_")
    assert (ok["response"]["status_code"], ok["error"]) == (200, None)
    assert state_of(ok) == "completed"

    gone = refused("b", NotFound("No model named 'x'", code="model_not_found"))
    assert gone["response"]["status_code"] == 404
    assert gone["response"]["body"]["error"]["code"] == "model_not_found"
    assert gone["response"]["body"]["error"]["type"] == "invalid_request_error"
    assert state_of(gone) == "failed"

    never = not_run("c", "batch_cancelled", "Cancelled.")
    assert (never["response"], never["error"]["code"]) == (None, "batch_cancelled")
    assert state_of(never) == "failed"
