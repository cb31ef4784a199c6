"""The same greedy answer whether the prompt cache is cold or warm (issue 14 §5).

SmolLM2's first chat token for "What is the capital of France?" wins by only 0.13 nats ("The" or
"La", by the CPU's kernels), so any difference between a cached prefix and a fresh evaluation of
it shows up as a different answer. No wording is asserted: only that cold, warm, after another
request and on a follow-up turn, the engine answers what a fresh engine answers, and with the
very same log-probabilities, bit for bit (a cached prefix computed in another batch shape moves
them in the last digits even where the words survive).
"""

from __future__ import annotations

import threading

import pytest
from hearth.engine.base import ChatMessage, Finish, Piece, SamplingParams
from hearth.engine.llama import LlamaEngine
from hearth.engine.slots import CHUNK, common_prefix, reuse, step_plan

GREEDY = SamplingParams(temperature=0, max_tokens=48, logprobs=3)
SYSTEM = ChatMessage("system", "You are a helpful assistant.")
QUESTION = [SYSTEM, ChatMessage("user", "What is the capital of France?")]
UNRELATED = [SYSTEM, ChatMessage("user", "Write a haiku about the sea.")]


def answer(engine: LlamaEngine, messages) -> tuple[str, list]:
    """The answer's text and each token's log-probabilities (its own and the top three)."""
    text, logprobs = [], []
    for event in engine.stream_chat(messages, GREEDY, threading.Event()):
        if isinstance(event, Piece):
            text.append(event.text)
            logprobs.extend((lp.logprob, lp.top) for lp in event.logprobs)
        assert not isinstance(event, Finish) or event.reason in ("stop", "length")
    return "".join(text), logprobs


def fresh(path, messages) -> tuple[str, list]:
    engine = LlamaEngine(path.name, path, n_ctx=2048, n_threads=2)
    try:
        return answer(engine, messages)
    finally:
        engine.close()


def test_reuse_takes_whole_exact_chunks_only():
    prompt = list(range(200))
    cached = [*range(150), 999]
    shared, n = common_prefix(cached, prompt), len(prompt)
    assert reuse(shared, n, exact=128) == 128
    assert reuse(shared, n, exact=64) == 64
    assert reuse(shared, n, exact=10_000) == 128  # the shared 150, down to a chunk
    same = list(range(CHUNK * 2))
    # The last chunk is evaluated again.
    assert reuse(common_prefix(same, same), len(same), exact=CHUNK * 2) == CHUNK
    assert reuse(common_prefix([], prompt), n, exact=0) == 0
    assert reuse(shared, n, exact=None) == 150  # HEARTH_EXACT_PROMPT_CACHE off


def test_a_step_gives_each_prompt_one_whole_chunk_after_the_answering_tokens():
    assert step_plan([1, 2], [(3, 500), (4, 10)], budget=512) == [(3, CHUNK), (4, 10)]
    assert step_plan([], [(3, 500)], budget=CHUNK - 1) == []  # never part of a chunk


@pytest.mark.slow
def test_cold_warm_unrelated_and_follow_up_answers_are_identical(smollm_path):
    cold = fresh(smollm_path, QUESTION)
    engine = LlamaEngine(smollm_path.name, smollm_path, n_ctx=2048, n_threads=2)
    try:
        assert answer(engine, QUESTION) == cold  # a fresh engine: cold
        evaluated = engine._batcher.prompt_tokens
        assert answer(engine, QUESTION) == cold  # warm: the same prompt again
        # ... started from the logits kept from the first time: nothing evaluated again.
        assert engine._batcher.prompt_tokens == evaluated
        answer(engine, UNRELATED)
        assert answer(engine, QUESTION) == cold  # after an unrelated request
        follow_up = [
            *QUESTION,
            ChatMessage("assistant", cold[0]),
            ChatMessage("user", "And what is the capital of Italy?"),
        ]
        warm_follow_up = answer(engine, follow_up)  # the first turn is cached
    finally:
        engine.close()
    assert warm_follow_up == fresh(smollm_path, follow_up)
