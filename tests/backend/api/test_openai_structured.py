"""What OpenAI clients send beyond messages, through the official client on a real server:
strict JSON-schema answers (client.beta.chat.completions.parse with a pydantic model), JSON
mode, and log-probabilities. The grammar makes the output parse whatever the tiny model would
rather say, so these hold on any CPU; nothing here asserts the model's wording."""

from __future__ import annotations

import json
import math
from typing import Literal

import openai
import pytest
from pydantic import BaseModel

SMOL = "SmolLM2-135M-Instruct.Q4_1.gguf"
ASK = [{"role": "user", "content": "What is the capital of France? Answer in JSON."}]


class Capital(BaseModel):
    # Closed values only: the grammar then ends after a bounded number of tokens, so the answer
    # is whole within max_tokens however the model would ramble.
    city: Literal["Paris", "London", "Berlin", "Rome"]
    sure: bool


@pytest.fixture
def client(hearth_server):
    return openai.OpenAI(base_url=f"{hearth_server.url}/v1", api_key=hearth_server.token)


@pytest.mark.slow
def test_a_strict_json_schema_answer_parses_into_the_model(client):
    done = client.beta.chat.completions.parse(
        model=SMOL, messages=ASK, response_format=Capital, temperature=0, max_tokens=64
    )
    parsed = done.choices[0].message.parsed
    assert isinstance(parsed, Capital)
    assert done.choices[0].finish_reason == "stop"
    # Sampled, too: every draw is inside the schema.
    for seed in (1, 2, 3):
        again = client.beta.chat.completions.parse(
            model=SMOL,
            messages=ASK,
            response_format=Capital,
            temperature=1.0,
            seed=seed,
            max_tokens=64,
        )
        assert isinstance(again.choices[0].message.parsed, Capital)


@pytest.mark.slow
def test_json_mode_answers_json_and_a_bad_schema_is_refused(client):
    reply = client.chat.completions.create(
        model=SMOL,
        messages=ASK,
        response_format={"type": "json_object"},
        temperature=0,
        max_tokens=200,
    )
    if reply.choices[0].finish_reason == "stop":  # a whole object; "length" may cut one off
        assert isinstance(json.loads(reply.choices[0].message.content), dict | list)
    else:
        assert reply.choices[0].message.content.lstrip()[:1] in "{["
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model=SMOL,
            messages=ASK,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": {"type": "nonsense"}},
            },
        )
    assert refused.value.code in ("unsupported_schema", "invalid_request")


@pytest.mark.slow
def test_logprobs_come_with_their_alternatives_streamed_or_not(client):
    kwargs = dict(
        model=SMOL, messages=ASK, temperature=0, max_tokens=8, logprobs=True, top_logprobs=3
    )
    client.chat.completions.create(**kwargs)  # the two compared below then both start warm
    whole = client.chat.completions.create(**kwargs)
    tokens = whole.choices[0].logprobs.content
    assert "".join(t.token for t in tokens) == whole.choices[0].message.content
    for t in tokens:
        assert t.logprob <= 0 and len(t.top_logprobs) == 3
        assert [a.logprob for a in t.top_logprobs] == sorted(
            (a.logprob for a in t.top_logprobs), reverse=True
        )
        # Greedy: the chosen token is the most likely one.
        assert math.isclose(t.logprob, t.top_logprobs[0].logprob, abs_tol=1e-6)
    streamed = [
        lp
        for chunk in client.chat.completions.create(**kwargs, stream=True)
        if chunk.choices and chunk.choices[0].logprobs
        for lp in chunk.choices[0].logprobs.content
    ]
    # The same cache state as the call before (both after a warm-up of this very prompt),
    # greedy: the same tokens, streamed or not.
    assert [t.token for t in streamed] == [t.token for t in tokens]
    legacy = client.completions.create(
        model=SMOL,
        prompt="Q: What is the capital of France?\nA: The capital of France is",
        temperature=0,
        max_tokens=3,
        logprobs=2,
    )
    columns = legacy.choices[0].logprobs
    assert len(columns.tokens) == len(columns.token_logprobs) == len(columns.top_logprobs)
    assert columns.text_offset[0] == 0 and all(len(d) == 2 for d in columns.top_logprobs)
