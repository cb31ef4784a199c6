"""OpenAI `tools` through the official client: the scripted engine shows exactly how answers
become tool_calls (streamed and not) and what the model is told; SmolLM2 on a real server shows
that a required call is always a well-formed call to a named tool, whatever the model says."""

from __future__ import annotations

import json

import openai
import pytest

from tests.backend.api.tool_requests import ASK, WEATHER


def test_a_call_shaped_answer_is_a_tool_call_and_the_model_is_told_the_tools(v1, fake_hearth):
    fake_hearth.factory.enqueue('{"name": "get_weather", ', '"arguments": {"city": "Paris"}}')
    reply = v1.chat.completions.create(model="fake-chat", messages=ASK, tools=[WEATHER])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "get_weather",
        {"city": "Paris"},
    )
    system = fake_hearth.factory.calls[0].messages[0]
    assert system.role == "system" and "get_weather" in system.content
    # The result goes back as OpenAI clients send it; the next answer is text.
    fake_hearth.factory.enqueue("It is", " sunny.")
    follow = v1.chat.completions.create(
        model="fake-chat",
        tools=[WEATHER],
        messages=[
            *ASK,
            {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": '{"sky": "sunny"}'},
        ],
    )
    assert follow.choices[0].message.content == "It is sunny."
    shown = [m.content for m in fake_hearth.factory.calls[1].messages]
    assert '{"sky": "sunny"}' in shown[-1] and '"get_weather"' in shown[-2]


def test_streamed_tool_calls_come_as_one_delta_and_text_streams_as_text(v1, fake_hearth):
    fake_hearth.factory.enqueue(" {", '"name": "get_weather", "arguments": {"city": "Rome"}}')
    chunks = list(
        v1.chat.completions.create(model="fake-chat", messages=ASK, tools=[WEATHER], stream=True)
    )
    calls = [
        c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls
    ]
    assert len(calls) == 1 and calls[0][0].function.name == "get_weather"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert not any(c.choices[0].delta.content for c in chunks if c.choices)
    fake_hearth.factory.enqueue("No", " tool", " needed.")
    text = "".join(
        c.choices[0].delta.content or ""
        for c in v1.chat.completions.create(
            model="fake-chat", messages=ASK, tools=[WEATHER], stream=True
        )
        if c.choices
    )
    assert text == "No tool needed."


def test_tool_choice_none_hides_the_tools_and_an_unknown_name_is_refused(v1, fake_hearth):
    fake_hearth.factory.enqueue('{"name": "get_weather", "arguments": {}}')
    reply = v1.chat.completions.create(
        model="fake-chat", messages=ASK, tools=[WEATHER], tool_choice="none"
    )
    assert reply.choices[0].message.tool_calls is None
    assert all("get_weather" not in m.content for m in fake_hearth.factory.calls[0].messages)
    with pytest.raises(openai.BadRequestError):
        v1.chat.completions.create(
            model="fake-chat",
            messages=ASK,
            tools=[WEATHER],
            tool_choice={"type": "function", "function": {"name": "nope"}},
        )


@pytest.mark.slow
def test_a_required_call_from_a_real_model_is_always_well_formed(hearth_server):
    client = openai.OpenAI(base_url=f"{hearth_server.url}/v1", api_key=hearth_server.token)
    for seed in (1, 2):
        reply = client.chat.completions.create(
            model="SmolLM2-135M-Instruct.Q4_1.gguf",
            messages=ASK,
            tools=[WEATHER],
            tool_choice="required",
            temperature=1.0,
            seed=seed,
            max_tokens=64,
        )
        call = reply.choices[0].message.tool_calls[0]
        assert call.function.name == "get_weather"
        assert json.loads(call.function.arguments)["city"] in ("Paris", "Rome")
