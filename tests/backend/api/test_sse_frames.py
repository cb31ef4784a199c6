"""A streamed chunk's frame made from its template is the frame encoded whole, byte for byte."""

from __future__ import annotations

import json

import pytest
from hearth.api.sse import frame, slot_frames

TEXTS = [
    "",
    " Paris",
    'a "quoted" \\ backslash',
    "line\nbreak\ttab\r\x00\x1f",
    "é 東京 🐉",  # non-ASCII: escaped as the whole-object encoder escapes it
    "\ud83d",  # a lone surrogate, as a broken tokenizer piece might give
    "\x00hearth-slot\x00",  # the template's own marker, as text
]


def chunk(text: str) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("event", [None, "delta"])
def test_a_templated_frame_is_the_whole_frame(text, event):
    made = slot_frames(event, chunk)(text)
    assert made == frame(event, chunk(text))
    data = made.decode().split("data: ", 1)[1]
    assert json.loads(data)["choices"][0]["delta"]["content"] == text


@pytest.mark.parametrize("shape", [lambda text: {"fixed": 1}, lambda text: [text, text]])
def test_a_shape_without_the_text_once_is_refused(shape):
    with pytest.raises(ValueError, match="exactly once"):
        slot_frames(None, shape)("x")


def test_the_template_is_made_at_the_first_frame():
    # A stream's chunks name the model that runs, which is known only at its first piece.
    model = {"name": None}
    frames = slot_frames(None, lambda text: {"model": model["name"], "text": text})
    model["name"] = "smol"
    assert frames("a") == frame(None, {"model": "smol", "text": "a"})
    model["name"] = "changed"  # the template is kept: the same model runs the whole stream
    assert frames("b") == frame(None, {"model": "smol", "text": "b"})
