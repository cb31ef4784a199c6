"""Tool-call formats, table by table: which format a real chat template asks for, how each
format's answers read back as calls, and how much of a streamed answer may go out as text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hearth.api.openai_tools import FunctionSpec, Tool, call_grammar
from hearth.api.tool_formats import (
    SHAPES,
    HeldBack,
    ToolFormat,
    parse,
    settled,
    template_arguments,
    template_call_id,
)
from hearth.library.tool_templates import detect

TEMPLATES = Path(__file__).resolve().parents[1] / "chat_templates"
# SmolLM2-135M-Instruct's own template: ChatML, no tool section.
SMOLLM2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
NAMES = {"get_weather", "get_time"}
WEATHER_PARIS = ("get_weather", {"city": "Paris"})


def template(name: str) -> str:
    return (TEMPLATES / name).read_text()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (None, "generic"),
        ("", "generic"),
        (SMOLLM2, "generic"),
        ("qwen2.5-instruct.jinja", "hermes"),
        ("llama-3.2-instruct.jinja", "llama3"),
        ("mistral-nemo-instruct-2407.jinja", "mistral"),
        # Hermes 2 Pro's way: the tools described in words, calls in <tool_call> tags.
        ("{% if tools %}Use <tool_call>{{ tools | tojson }}</tool_call>{% endif %}", "hermes"),
        # Llama 3.1 writes <|python_tag|> for its built-in tools.
        ("<|start_header_id|>{% if tools %}<|python_tag|>{% endif %}", "llama3"),
        # A tool section in a format Hearth does not read (functionary's): the fallback.
        ("{% if tools %}>>>all\n{{ tools }}{% endif %}", "generic"),
        # Llama 3's header without tools: a plain template.
        ("<|start_header_id|>{{ messages[0].content }}", "generic"),
    ],
)
def test_the_format_is_the_one_the_template_teaches(source, expected):
    text = template(source) if source and source.endswith(".jinja") else source
    found = detect(text)
    assert found.format == expected
    assert found.native == (expected != "generic") and found.reason.endswith(".")


def calls_of(fmt: ToolFormat, text: str) -> list[tuple[str, dict]] | None:
    answer = parse(fmt, text, NAMES)
    if answer is None:
        return None
    return [(c.name, json.loads(c.arguments)) for c in answer.calls]


CALL = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
LLAMA_CALL = '{"name": "get_weather", "parameters": {"city": "Paris"}}'
TIME_CALL = '{"name": "get_time", "arguments": {}}'


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        # Hermes / Qwen: one or more tagged calls, maybe after some words.
        ("hermes", f"<tool_call>\n{CALL}\n</tool_call>", [WEATHER_PARIS]),
        (
            "hermes",
            f"<tool_call>\n{CALL}\n</tool_call>\n<tool_call>\n{TIME_CALL}\n</tool_call>\n",
            [WEATHER_PARIS, ("get_time", {})],
        ),
        ("hermes", f"Let me look.\n<tool_call>{CALL}</tool_call>", [WEATHER_PARIS]),
        ("hermes", f"<tool_call>\n{CALL}", [WEATHER_PARIS]),  # stopped before the closing tag
        ("hermes", f"<tool_call>\n{LLAMA_CALL}\n</tool_call>", [WEATHER_PARIS]),
        ("hermes", CALL, None),  # no tag: text
        ("hermes", f"<tool_call>\n{CALL}\n</tool_call> Done.", None),  # words after it
        ("hermes", '<tool_call>\n{"name": "get_weather", "arguments": {</tool_call>', None),
        ("hermes", '<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>', None),
        # Llama 3.1 / 3.2: the whole answer, "parameters", maybe after <|python_tag|>.
        ("llama3", LLAMA_CALL, [WEATHER_PARIS]),
        ("llama3", f"  <|python_tag|>{LLAMA_CALL}\n", [WEATHER_PARIS]),
        (
            "llama3",
            f'{LLAMA_CALL}; {{"name": "get_time", "parameters": {{}}}}',
            [WEATHER_PARIS, ("get_time", {})],
        ),
        ("llama3", f"Sure: {LLAMA_CALL}", None),
        ("llama3", f"{LLAMA_CALL} and more", None),
        ("llama3", '{"name": "get_weather", "parameters": {"city": ', None),
        # Mistral: a list after [TOOL_CALLS] (a special token: it may come out as no text).
        ("mistral", f"[TOOL_CALLS][{CALL}]", [WEATHER_PARIS]),
        ("mistral", f"[{CALL}, {TIME_CALL}]", [WEATHER_PARIS, ("get_time", {})]),
        ("mistral", f"[TOOL_CALLS] {CALL}", [WEATHER_PARIS]),
        ("mistral", CALL, None),  # an object without the tag is text
        ("mistral", "[1, 2]", None),
        ("mistral", "[TOOL_CALLS][]", None),
        # Hearth's fallback: the whole answer is one call.
        ("generic", f" {CALL} ", [WEATHER_PARIS]),
        ("generic", '{"name": "get_time"}', [("get_time", {})]),
        ("generic", '{"name": "nope", "arguments": {}}', None),
        ("generic", f"Calling {CALL}", None),
        ("generic", "", None),
    ],
)
def test_an_answer_reads_as_calls_only_when_it_is_calls_to_known_tools(fmt, text, expected):
    assert calls_of(fmt, text) == expected


def test_what_comes_before_a_hermes_call_is_the_content_and_ids_are_the_models():
    text = f"Let me look.\n<tool_call>{CALL}</tool_call>"
    answer = parse("hermes", text, NAMES)
    assert answer is not None and text[: answer.start] == "Let me look.\n"
    mistral = parse("mistral", '[{"name": "get_time", "arguments": {}, "id": "a1B2c3D4e"}]', NAMES)
    assert mistral is not None and mistral.calls[0].id == "a1B2c3D4e"
    # Arguments a model wrote as JSON text stay that text; others become JSON text.
    quoted = parse("generic", '{"name": "get_time", "arguments": "{\\"tz\\": \\"UTC\\"}"}', NAMES)
    assert quoted is not None and quoted.calls[0].arguments == '{"tz": "UTC"}'


@pytest.mark.parametrize(
    ("fmt", "text", "required", "expected"),
    [
        (None, "{ whatever", False, 10),  # no tools: everything is text
        ("generic", "Hello", False, 5),
        ("generic", "  ", False, 0),
        ("generic", " {", False, 0),
        ("generic", "Hello", True, 0),  # a required call: all held until the end
        ("hermes", "Sure", False, 4),
        ("hermes", "Sure <tool", False, 5),  # a tag cut by a piece is held
        ("hermes", "Sure <tool_call>{", False, 5),
        ("hermes", "a<b", False, 3),
        ("hermes", "\n", False, 0),  # leading blanks go with what follows them
        ("hermes", "\n<tool_call>", False, 0),
        ("llama3", "<|py", False, 0),
        ("llama3", " {", False, 0),
        ("llama3", "Hello {", False, 7),
        ("mistral", "[", False, 0),
        ("mistral", "[TOOL", False, 0),
        ("mistral", "[{", False, 0),
        ("mistral", "[ {", False, 0),
        ("mistral", "Note: [", False, 7),
    ],
)
def test_streamed_text_goes_out_once_no_call_can_start_in_it(fmt, text, required, expected):
    assert settled(fmt, text, required) == expected


@dataclass(frozen=True)
class Bit:
    text: str


def test_held_back_pieces_are_let_through_whole_and_in_order():
    held: HeldBack[Bit] = HeldBack("hermes")
    pieces = ["Sure", ". <to", "ol_call>", CALL, "</tool_call>"]
    out = [[b.text for b in held.feed(Bit(p))] for p in pieces]
    # ". <to" straddles the tag, so it waits; from the tag on, nothing goes out.
    assert out == [["Sure"], [], [], [], []]
    assert held.text == "".join(pieces) and held.sent == 4
    assert [b.text for b in held.pending] == pieces[1:]
    answer = parse("hermes", held.text, NAMES)
    assert answer is not None and held.text[held.sent : answer.start] == ". "


def test_an_answer_that_did_not_begin_like_a_call_passes_freely():
    held: HeldBack[Bit] = HeldBack("llama3")
    assert held.feed(Bit(" ")) == [] and not held.free
    assert [b.text for b in held.feed(Bit("Sure"))] == [" ", "Sure"] and held.free
    assert held.feed(Bit(LLAMA_CALL)) == [Bit(LLAMA_CALL)]  # words first: never a call
    required: HeldBack[Bit] = HeldBack("generic", required=True)
    assert required.feed(Bit("Sure")) == [] and not required.free


def test_every_split_of_an_answer_lets_through_the_same_text():
    answer = f"Hi there.\n<tool_call>\n{CALL}\n</tool_call>"
    for cut in range(1, len(answer)):
        held: HeldBack[Bit] = HeldBack("hermes")
        out = held.feed(Bit(answer[:cut])) + held.feed(Bit(answer[cut:]))
        sent = "".join(b.text for b in out)
        assert "<" not in sent and answer.startswith(sent)


def test_past_calls_are_written_the_way_templates_take_them():
    assert template_arguments('{"city": "Paris"}') == {"city": "Paris"}
    assert template_arguments("not json") == "not json"
    assert template_arguments({"a": 1}) == {"a": 1}
    assert template_call_id("hermes", "call_abc") == "call_abc"
    assert template_call_id("mistral", "a1B2c3D4e") == "a1B2c3D4e"
    mapped = template_call_id("mistral", "call_0123456789abcdef")
    assert mapped is not None and len(mapped) == 9 and mapped.isalnum()
    assert mapped == template_call_id("mistral", "call_0123456789abcdef")  # call and result agree


WEATHER = Tool(
    function=FunctionSpec(
        name="get_weather",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}},
    )
)


@pytest.mark.parametrize(
    ("fmt", "root"),
    [
        ("generic", None),
        ("llama3", None),
        ("hermes", 'root ::= "<tool_call>\\n" tool-call "\\n</tool_call>"'),
        ("mistral", 'root ::= "[TOOL_CALLS]" tool-call'),
    ],
)
def test_a_required_calls_grammar_is_written_in_the_format(fmt, root):
    grammar = call_grammar([WEATHER], SHAPES[fmt])
    lines = grammar.splitlines()
    if root is None:
        assert sum(line.startswith("root ::=") for line in lines) == 1
    else:
        assert lines[0] == root and any(line.startswith("tool-call ::=") for line in lines)
        assert sum(line.startswith("root ::=") for line in lines) == 1
    key = SHAPES[fmt].arguments_key
    assert f'\\"{key}\\"' in grammar
