"""Tool calls in a model's own words: a model's answer read back as calls, in the format its
GGUF chat template teaches it (hearth.library.tool_templates.detect). Pure: no I/O, no llama.cpp.

Native formats (the template writes the tools and past calls itself; docs/TOOLS.md):
- "hermes": Hermes 2 Pro, Qwen 2.5 and 3: `<tool_call>{"name", "arguments"}</tool_call>`, one
  or more, optionally after some text.
- "llama3": Llama 3.1 / 3.2: the whole answer is `{"name", "parameters"}` (several separated
  by ";"), optionally after `<|python_tag|>`.
- "mistral": Mistral Nemo, Small...: `[TOOL_CALLS][{"name", "arguments"}, ...]`.
"generic" is Hearth's fallback for every other model (openai_tools): the whole answer is
`{"name", "arguments"}`.

Special tokens such as `<|python_tag|>` and `[TOOL_CALLS]` come out of Hearth's engine as no
text at all (it renders pieces without special tokens), so each reader takes a call with or
without them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from hearth.library.tool_templates import (
    HERMES_CLOSE,
    HERMES_OPEN,
    MISTRAL_CALLS,
    PYTHON_TAG,
    ToolFormat,
)

# The beginnings of an answer that may turn out to be a call, in the formats where a call is
# the whole answer; a streamed answer is held back while it could still be one.
_OPENERS: dict[ToolFormat, tuple[str, ...]] = {
    "generic": ("{",),
    "llama3": ("{", PYTHON_TAG),
    "mistral": (MISTRAL_CALLS, "["),
}
_MISTRAL_ID = re.compile(r"[A-Za-z0-9]{9}")


@dataclass(frozen=True)
class Call:
    name: str
    arguments: str  # JSON text, as OpenAI's tool_calls carry it
    id: str | None = None  # the model's own id for the call (Mistral writes one), if any


@dataclass(frozen=True)
class Answer:
    """An answer that is one or more calls; text[:start] came before them (the content)."""

    calls: tuple[Call, ...]
    start: int = 0


def parse(fmt: ToolFormat, text: str, names: Collection[str]) -> Answer | None:
    """`text` read as calls to the tools `names` in format `fmt`; None when it is not only
    calls (a call to an unknown tool, broken JSON, words after the call): then it is text."""
    if fmt == "hermes":
        return _hermes(text, names)
    body = text.strip()
    if fmt == "llama3":
        return _llama3(body.removeprefix(PYTHON_TAG).lstrip(), names)
    if fmt == "mistral":
        return _mistral(body, names)
    if not body.startswith("{"):
        return None
    call = _call(_json(body), names)
    return Answer((call,)) if call is not None else None


def _hermes(text: str, names: Collection[str]) -> Answer | None:
    start = text.find(HERMES_OPEN)
    if start < 0:
        return None
    calls: list[Call] = []
    at = start
    while at < len(text):
        if not text.startswith(HERMES_OPEN, at):
            return None  # words between or after the calls
        body_at = at + len(HERMES_OPEN)
        close = text.find(HERMES_CLOSE, body_at)
        # An answer stopped right after the JSON (a stop string, max_tokens) still holds it.
        end = close if close >= 0 else len(text)
        call = _call(_json(text[body_at:end]), names)
        if call is None:
            return None
        calls.append(call)
        at = _skip_space(text, end + len(HERMES_CLOSE) if close >= 0 else end)
    return Answer(tuple(calls), start)


def _llama3(body: str, names: Collection[str]) -> Answer | None:
    if not body.startswith("{"):
        return None
    decoder = json.JSONDecoder()
    calls: list[Call] = []
    at = 0
    while at < len(body):
        try:
            data, at = decoder.raw_decode(body, at)
        except ValueError:
            return None
        call = _call(data, names)
        if call is None:
            return None
        calls.append(call)
        at = _skip_space(body, at)
        if body.startswith(";", at):
            at = _skip_space(body, at + 1)
    return Answer(tuple(calls))


def _mistral(body: str, names: Collection[str]) -> Answer | None:
    tagged = body.startswith(MISTRAL_CALLS)
    body = body.removeprefix(MISTRAL_CALLS).lstrip()
    if not body.startswith("[") and not (tagged and body.startswith("{")):
        return None
    data = _json(body)
    if isinstance(data, dict):  # one call after the tag, without its list
        data = [data]
    if not isinstance(data, list) or not data:
        return None
    calls = [_call(item, names) for item in data]
    if any(c is None for c in calls):
        return None
    return Answer(tuple(c for c in calls if c is not None))


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _call(data: Any, names: Collection[str]) -> Call | None:
    """One call object: a known tool's name and its arguments ("parameters" in Llama's words)."""
    if not isinstance(data, dict):
        return None
    name = data.get("name")
    if not isinstance(name, str) or name not in names:
        return None
    arguments = data.get("arguments", data.get("parameters", {}))
    if isinstance(arguments, str) and isinstance(_json(arguments), dict):
        text = arguments  # already JSON text, as some models write it
    else:
        text = json.dumps(arguments, ensure_ascii=False)
    ident = data.get("id")
    return Call(name, text, ident if isinstance(ident, str) and ident else None)


# -- streaming ----------------------------------------------------------------------------------


def settled(fmt: ToolFormat | None, text: str, required: bool = False) -> int:
    """How much of an answer streamed so far is surely content (no call can start in it any
    more): it may go to the client now. None: no tools were offered, so all of it is."""
    if fmt is None:
        return len(text)
    if required:  # the grammar makes the whole answer a call
        return 0
    if fmt == "hermes":
        at = text.find(HERMES_OPEN)
        end = at if at >= 0 else len(text) - _partial_suffix(text, HERMES_OPEN)
        return end if text[:end].strip() else 0  # leading blanks go with what follows them
    head = text.lstrip()
    if not head or any(o.startswith(head) or head.startswith(o) for o in _OPENERS[fmt]):
        return 0
    return len(text)


def _partial_suffix(text: str, marker: str) -> int:
    """The length of the longest end of `text` that begins `marker` (a tag cut by a piece)."""
    for n in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-n:]):
            return n
    return 0


class _HasText(Protocol):
    @property
    def text(self) -> str: ...


P = TypeVar("P", bound=_HasText)


@dataclass
class HeldBack(Generic[P]):
    """A streamed answer's pieces, let through as content once no call can start in them."""

    format: ToolFormat | None
    required: bool = False
    text: str = ""  # what was held or let through, until the answer is known to be text
    sent: int = 0  # characters let through
    pending: list[P] = field(default_factory=list)
    # Known to be text throughout: where a call is the whole answer, an answer that did not
    # begin like one never becomes one, so the rest passes without being looked at (or kept).
    free: bool = False

    def feed(self, piece: P) -> list[P]:
        """The pieces that may go to the client now, this one among them or not."""
        if self.free:
            return [piece]
        self.pending.append(piece)
        self.text += piece.text
        # Only what has not gone out is looked at: a long answer stays linear.
        safe = self.sent + settled(self.format, self.text[self.sent :], self.required)
        out: list[P] = []
        while self.pending and self.sent + len(self.pending[0].text) <= safe:
            done = self.pending.pop(0)
            self.sent += len(done.text)
            out.append(done)
        self.free = self.format != "hermes" and safe > 0 and not self.pending
        return out


# -- what a required call looks like, for its grammar ------------------------------------------


@dataclass(frozen=True)
class CallShape:
    """How one call is written in a format: the literal text around its JSON object, the key
    of its arguments, and whether the object is in a list."""

    arguments_key: str = "arguments"
    before: str = ""
    after: str = ""
    in_list: bool = False


SHAPES: dict[ToolFormat, CallShape] = {
    "generic": CallShape(),
    "hermes": CallShape(before=HERMES_OPEN + "\n", after="\n" + HERMES_CLOSE),
    "llama3": CallShape(arguments_key="parameters"),
    "mistral": CallShape(before=MISTRAL_CALLS, in_list=True),
}


# -- past calls, as templates expect them --------------------------------------------------------


def template_call_id(fmt: ToolFormat, ident: str | None) -> str | None:
    """A call's id as the template takes it: Mistral's templates refuse any id but nine letters
    and digits, so another id (OpenAI's "call_...") becomes nine, the same for the call and its
    result."""
    if fmt != "mistral" or ident is None or _MISTRAL_ID.fullmatch(ident):
        return ident
    return hashlib.sha256(ident.encode("utf-8")).hexdigest()[:9]


def template_arguments(raw: Any) -> Any:
    """A call's arguments as templates write them: an object (they apply `tojson` to it), not
    OpenAI's JSON text; text that is not JSON stays text."""
    if isinstance(raw, str):
        parsed = _json(raw)
        return parsed if parsed is not None else raw
    return raw
