"""A required call's grammar, in every tool-call format, on llama.cpp itself: the GBNF loads,
and whatever the model writes under it (stories260K, sampled) reads back as one call in that
format. The model's wording is never asserted, only that the grammar holds it to a call."""

import json
import threading

import pytest
from hearth.api.openai_tools import FunctionSpec, Tool, call_grammar
from hearth.api.tool_formats import SHAPES, parse
from hearth.engine.base import SamplingParams

from tests.backend.engine.stories import stories_engine
from tests.backend.engine.test_llama_engine import run

WEATHER = Tool(
    function=FunctionSpec(
        name="get_weather",
        parameters={
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
    )
)


@pytest.fixture(scope="module")
def stories(request):
    with stories_engine(request) as engine:
        yield engine


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["hermes", "llama3", "mistral", "generic"])
def test_a_required_call_in_each_format_is_a_call_that_format_reads(stories, fmt):
    grammar = call_grammar([WEATHER], SHAPES[fmt])
    for seed in (1, 2):
        params = SamplingParams(temperature=1.0, seed=seed, max_tokens=200, grammar=grammar)
        text, finish = run(stories.stream_complete("Once upon a time", params, threading.Event()))
        assert finish.reason == "stop", text  # the grammar ended it, not max_tokens
        answer = parse(fmt, text, {"get_weather"})
        assert answer is not None, text
        [call] = answer.calls
        assert call.name == "get_weather"
        assert json.loads(call.arguments)["city"] in ("Paris", "Rome")
