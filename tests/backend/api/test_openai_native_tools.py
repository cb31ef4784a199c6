"""OpenAI `tools` through a model's own chat template, with the official client.

The scripted engine, given a real Qwen 2.5, Llama 3.2 or Mistral Nemo template, shows what the
template was given (the tools, past calls and results as such) and how each format's answers
become tool_calls, streamed and not. SmolLM2 on a real server, its template replaced by Qwen
2.5's, shows the whole path on llama.cpp: the prompt the model saw is the template's own
(counted token for token), and a required call, forced by the format's grammar, comes back as
tool_calls. Nothing asserts what a tiny model chooses to say.
"""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from tests.backend.api.tool_requests import ASK, WEATHER
from tests.backend.gguf_edits import template_copy
from tests.backend.server_process import HearthProcess

TEMPLATES = Path(__file__).resolve().parents[1] / "chat_templates"
QWEN = (TEMPLATES / "qwen2.5-instruct.jinja").read_text()
LLAMA = (TEMPLATES / "llama-3.2-instruct.jinja").read_text()
MISTRAL = (TEMPLATES / "mistral-nemo-instruct-2407.jinja").read_text()

TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}
FALLBACK_WORDS = "You can call these tools."  # openai_tools.system_text's opening


def _args(call) -> dict:
    return json.loads(call.function.arguments)


def _stream(v1, **kwargs) -> list:
    return list(v1.chat.completions.create(model="fake-chat", stream=True, **kwargs))


def test_a_qwen_template_gets_the_tools_and_its_tagged_calls_are_tool_calls(v1, fake_hearth):
    fake_hearth.factory.templates["fake-chat"] = QWEN
    call = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    fake_hearth.factory.enqueue("<tool_call>", f"\n{call}\n", "</tool_call>")
    reply = v1.chat.completions.create(model="fake-chat", messages=ASK, tools=[WEATHER, TIME])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [made] = choice.message.tool_calls
    assert (made.function.name, _args(made)) == ("get_weather", {"city": "Paris"})
    assert made.id.startswith("call_")
    seen = fake_hearth.factory.calls[0]
    assert seen.tools == [WEATHER, TIME]  # as the client sent them, for the template's tojson
    assert "# Tools\n\nYou may call one or more functions" in seen.prompt
    tool_line = '<tools>\n{"type": "function", "function": {"name": "get_weather", "description"'
    assert tool_line in seen.prompt  # JSON as transformers writes it: "Today's", not "\u0027"
    assert "Today's weather" in seen.prompt
    assert FALLBACK_WORDS not in seen.prompt
    assert seen.params.grammar is None  # "auto": the model may answer in words

    # The follow-up turn: the call and its result go to the template as such.
    fake_hearth.factory.enqueue("It is", " sunny.")
    follow = v1.chat.completions.create(
        model="fake-chat",
        tools=[WEATHER, TIME],
        messages=[
            *ASK,
            {"role": "assistant", "content": None, "tool_calls": [made.model_dump()]},
            {"role": "tool", "tool_call_id": made.id, "content": '{"sky": "sunny"}'},
        ],
    )
    assert follow.choices[0].message.content == "It is sunny."
    assert follow.choices[0].finish_reason == "stop"
    prompt = fake_hearth.factory.calls[1].prompt
    assert f"<|im_start|>assistant\n<tool_call>\n{call}\n</tool_call><|im_end|>" in prompt
    assert '<|im_start|>user\n<tool_response>\n{"sky": "sunny"}\n</tool_response>' in prompt


def test_streamed_calls_after_words_come_as_text_then_one_tool_calls_delta(v1, fake_hearth):
    fake_hearth.factory.templates["fake-chat"] = QWEN
    fake_hearth.factory.enqueue(
        "Let me",
        " check.\n<tool",
        '_call>\n{"name": "get_weather", "arguments": {"city": "Rome"}}\n</tool_call>\n',
        '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>',
    )
    chunks = _stream(v1, messages=ASK, tools=[WEATHER, TIME])
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Let me check.\n"
    deltas = [c.choices[0].delta.tool_calls for c in chunks if c.choices[0].delta.tool_calls]
    assert len(deltas) == 1
    assert [(d.index, d.function.name) for d in deltas[0]] == [(0, "get_weather"), (1, "get_time")]
    assert _args(deltas[0][0]) == {"city": "Rome"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    # Text that only looks like the start of a tag streams as text.
    fake_hearth.factory.enqueue("a <", "b> c")
    chunks = _stream(v1, messages=ASK, tools=[WEATHER])
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "a <b> c"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_a_required_call_is_held_to_the_templates_format_by_a_grammar(v1, fake_hearth):
    fake_hearth.factory.templates["fake-chat"] = QWEN
    fake_hearth.factory.enqueue('<tool_call>\n{"name": "get_weather", "arguments": {}}\n')
    reply = v1.chat.completions.create(
        model="fake-chat",
        messages=ASK,
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"
    seen = fake_hearth.factory.calls[0]
    assert seen.tools == [WEATHER]  # the named tool only
    assert seen.params.grammar.startswith('root ::= "<tool_call>\\n" tool-call "\\n</tool_call>"')
    # "none": no tools in the prompt, and a call-shaped answer is only text.
    fake_hearth.factory.enqueue('<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>')
    reply = v1.chat.completions.create(
        model="fake-chat", messages=ASK, tools=[WEATHER], tool_choice="none"
    )
    assert reply.choices[0].message.tool_calls is None
    assert fake_hearth.factory.calls[1].tools is None
    assert "<tools>" not in fake_hearth.factory.calls[1].prompt


def test_llama_3_calls_are_the_whole_answer_with_parameters(v1, fake_hearth):
    fake_hearth.factory.templates["fake-chat"] = LLAMA
    fake_hearth.factory.enqueue(' {"name": "get_weather", ', '"parameters": {"city": "Rome"}}')
    chunks = _stream(v1, messages=ASK, tools=[WEATHER])
    deltas = [c.choices[0].delta.tool_calls for c in chunks if c.choices[0].delta.tool_calls]
    assert [(d.function.name, _args(d)) for d in deltas[0]] == [("get_weather", {"city": "Rome"})]
    assert not any(c.choices[0].delta.content for c in chunks if c.choices)
    seen = fake_hearth.factory.calls[0]
    assert "Given the following functions, please respond with a JSON" in seen.prompt
    # One call per turn is all this template writes: more is the template's refusal, a 400.
    two = [
        {"id": f"call_{i}", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
        for i in (1, 2)
    ]
    with pytest.raises(openai.BadRequestError) as refused:
        v1.chat.completions.create(
            model="fake-chat",
            tools=[TIME],
            messages=[*ASK, {"role": "assistant", "tool_calls": two}],
        )
    assert refused.value.code == "template_error"
    assert "single tool-calls" in refused.value.message


def test_mistral_calls_get_ids_its_template_takes_back(v1, fake_hearth):
    fake_hearth.factory.templates["fake-chat"] = MISTRAL
    # [TOOL_CALLS] is a special token: Hearth's engine writes it as no text at all.
    fake_hearth.factory.enqueue('[{"name": "get_weather", "arguments": {"city": "Paris"}}]')
    reply = v1.chat.completions.create(model="fake-chat", messages=ASK, tools=[WEATHER])
    [made] = reply.choices[0].message.tool_calls
    assert len(made.id) == 9 and made.id.isalnum()
    assert "[AVAILABLE_TOOLS]" in fake_hearth.factory.calls[0].prompt
    # Back with the result; an id of another server's shape is mapped the same in both places.
    other = {**made.model_dump(), "id": "call_from_elsewhere"}
    fake_hearth.factory.enqueue("Sunny.")
    for call in (made.model_dump(), other):
        v1.chat.completions.create(
            model="fake-chat",
            tools=[WEATHER],
            messages=[
                *ASK,
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call["id"], "content": "sunny"},
            ],
        )
        prompt = fake_hearth.factory.calls[-1].prompt
        ids = [part.split('"')[0] for part in prompt.split('"id": "')[1:]]
        results = [part.split('"')[0] for part in prompt.split('"call_id": "')[1:]]
        assert len(ids) == 1 and ids == results and len(ids[0]) == 9


def test_without_a_tool_format_the_fallback_is_unchanged(v1, fake_hearth):
    fake_hearth.factory.templates["fake-chat"] = (
        "{% for m in messages %}{{ m.content }}{% endfor %}"
    )
    fake_hearth.factory.enqueue('{"name": "get_weather", "arguments": {"city": "Paris"}}')
    reply = v1.chat.completions.create(model="fake-chat", messages=ASK, tools=[WEATHER])
    assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"
    seen = fake_hearth.factory.calls[0]
    assert seen.tools is None and FALLBACK_WORDS in seen.messages[0].content


# -- a real model on a real server ----------------------------------------------------------

SMOL = "SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN_SMOL = "SmolLM2-135M-qwen-tools.gguf"


@pytest.fixture(scope="module")
def qwen_smol(tmp_path_factory, smollm_path) -> Path:
    """SmolLM2 with Qwen 2.5's chat template: the same ChatML tokens, and a tool section."""
    folder = tmp_path_factory.mktemp("models")
    template_copy(smollm_path, folder / QWEN_SMOL, QWEN)
    return folder


@pytest.fixture(scope="module")
def qwen_server(tmp_path_factory, qwen_smol):
    server = HearthProcess(tmp_path_factory.mktemp("data"), qwen_smol).start()
    yield server
    server.stop()


def _native_prompt_tokens(model: Path, messages: list[dict], tools: list[dict]) -> int:
    """The tokens of the prompt Qwen's template writes, rendered here with plain Jinja the way
    transformers does (not through Hearth) and counted with the model's own tokenizer."""
    from hearth.runtime import ggml_backends
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda x, indent=None: json.dumps(x, ensure_ascii=False, indent=indent)
    prompt = env.from_string(QWEN).render(
        messages=messages, tools=tools, add_generation_prompt=True
    )
    llama_cpp = ggml_backends.import_llama_cpp()
    vocab = llama_cpp.Llama(str(model), vocab_only=True, verbose=False)
    return len(vocab.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))


@pytest.mark.slow
def test_a_real_model_sees_its_templates_tools_and_calls_through_its_format(qwen_server, qwen_smol):
    client = openai.OpenAI(base_url=f"{qwen_server.url}/v1", api_key=qwen_server.token)
    system = {"role": "system", "content": "You are a helpful assistant."}
    messages = [system, *ASK]
    required = dict(
        model=QWEN_SMOL,
        messages=messages,
        tools=[WEATHER, TIME],
        tool_choice="required",
        temperature=1.0,
        max_tokens=64,
    )
    reply = client.chat.completions.create(**required, seed=1)
    assert reply.choices[0].finish_reason == "tool_calls"
    [made] = reply.choices[0].message.tool_calls
    assert made.function.name in ("get_weather", "get_time")
    if made.function.name == "get_weather":
        assert _args(made)["city"] in ("Paris", "Rome")
    # The prompt was the template's own, tools section and all, token for token.
    native = _native_prompt_tokens(qwen_smol / QWEN_SMOL, messages, [WEATHER, TIME])
    assert reply.usage.prompt_tokens == native

    chunks = list(client.chat.completions.create(**required, seed=2, stream=True))
    deltas = [c.choices[0].delta.tool_calls for c in chunks if c.choices[0].delta.tool_calls]
    assert len(deltas) == 1 and deltas[0][0].function.name in ("get_weather", "get_time")
    json.loads(deltas[0][0].function.arguments)
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert not any(c.choices[0].delta.content for c in chunks)

    # The follow-up: the call and its result in the template's words; the answer is free text.
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    history = [
        *messages,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "sunny"}'},
    ]
    follow = client.chat.completions.create(
        model=QWEN_SMOL,
        messages=history,
        tools=[WEATHER, TIME],
        tool_choice="none",
        temperature=0,
        max_tokens=8,
    )
    assert follow.choices[0].finish_reason in ("stop", "length")
    as_template = [
        *messages,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {**call, "function": {**call["function"], "arguments": {"city": "Paris"}}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "sunny"}'},
    ]
    # "none": no tools section, but the call and its result are still the template's own.
    assert follow.usage.prompt_tokens == _native_prompt_tokens(
        qwen_smol / QWEN_SMOL, as_template, []
    )
