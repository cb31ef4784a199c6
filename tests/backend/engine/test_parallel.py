"""Several answers decoded together in one llama.cpp context (continuous batching), on real models.

stories260K is an F32 model whose greedy continuations win by at least 0.84 nats at every token
(see test_llama_engine.py), far beyond the summation-order differences between a batch of one
row and a batch of several: so each parallel answer must be exactly the one-at-a-time answer.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from hearth.engine.base import Finish, Piece, SamplingParams
from hearth.engine.factory import LocalFactory
from hearth.engine.generation import Generation
from hearth.engine.manager import ModelManager, Queued
from hearth.library.library import ModelLibrary
from hearth.settings import Settings

from tests.backend.engine.stories import stories_engine

PROMPTS = ("Once upon a time", "Lily and Ben went to the park", "One day, a little dog")
GREEDY = SamplingParams(temperature=0, max_tokens=40)


def collect(events, into: dict, stamps: list | None = None):
    text, finish = [], None
    for event in events:
        if isinstance(event, Piece):
            text.append(event.text)
            if stamps is not None:
                stamps.append(time.perf_counter())
        elif isinstance(event, Finish):
            finish = event
    into["text"], into["finish"] = "".join(text), finish


def together(engine, jobs):
    """Run each (prompt, params, cancel) on its own thread at once; their results and the
    times their pieces arrived."""
    results = [{} for _ in jobs]
    stamps: list[list[float]] = [[] for _ in jobs]
    threads = [
        threading.Thread(
            target=collect,
            args=(engine.stream_complete(p, params, cancel), results[i], stamps[i]),
        )
        for i, (p, params, cancel) in enumerate(jobs)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, stamps


@pytest.fixture(scope="module")
def single(request):
    with stories_engine(request, n_threads=None) as engine:
        yield engine


@pytest.fixture(scope="module")
def parallel(request):
    with stories_engine(request, n_parallel=3) as engine:
        yield engine


def alone(engine, prompt, params=GREEDY):
    out: dict = {}
    collect(engine.stream_complete(prompt, params, threading.Event()), out)
    return out


def test_each_sequence_has_the_whole_window(parallel):
    assert parallel.n_parallel == 3 and parallel.n_ctx == 512
    assert parallel.info().n_ctx == 512


def test_parallel_answers_are_the_one_at_a_time_answers_and_run_together(single, parallel):
    expected = [alone(single, p)["text"] for p in PROMPTS]
    results, stamps = together(parallel, [(p, GREEDY, threading.Event()) for p in PROMPTS])
    assert [r["text"] for r in results] == expected
    assert all(r["finish"].reason == "length" for r in results)
    assert all(r["finish"].completion_tokens == 40 for r in results)
    # Together, not one after another: every answer had begun before any had ended.
    assert max(s[0] for s in stamps) < min(s[-1] for s in stamps)


def test_a_cancel_or_a_stop_ends_only_its_own_sequence(single, parallel):
    long = SamplingParams(temperature=0, max_tokens=80)
    cancel = threading.Event()
    stop = SamplingParams(temperature=0, max_tokens=80, stop=["Lily"])
    jobs = [(PROMPTS[0], stop, threading.Event()), (PROMPTS[1], long, cancel)]
    jobs.append((PROMPTS[2], long, threading.Event()))
    timer = threading.Timer(0.05, cancel.set)
    timer.start()
    results, _ = together(parallel, jobs)
    timer.cancel()
    assert results[0]["finish"].reason == "stop"
    assert results[0]["text"] == ", there was a little girl named "
    assert results[1]["finish"].reason == "stopped"
    assert results[1]["finish"].completion_tokens < 80
    assert results[2]["finish"].reason == "length"
    # Its first 40 tokens (the span whose margins were measured) are the one-alone answer.
    assert results[2]["text"].startswith(alone(single, PROMPTS[2])["text"])


def test_a_reader_that_goes_away_frees_its_slot(parallel):
    params = SamplingParams(temperature=0, max_tokens=200)
    abandoned = [parallel.stream_complete(p, params, threading.Event()) for p in PROMPTS]
    for events in abandoned:
        next(events)  # started: each holds a slot
    for events in abandoned:
        events.close()
    # All three slots are free again: three more answers run to their end.
    results, _ = together(parallel, [(p, GREEDY, threading.Event()) for p in PROMPTS])
    assert all(r["finish"].reason == "length" for r in results)


def test_a_follow_up_prompt_reuses_its_slot_and_gives_the_fresh_answer(single, parallel):
    base = "Once upon a time, there was"
    first = alone(parallel, base)["text"]
    alone(parallel, base + " a big dog")
    assert alone(parallel, base)["text"] == first == alone(single, base)["text"]


def test_answers_running_together_decode_as_one_batch(request, monkeypatch):
    # With a KV cache split per sequence, llama.cpp computes a step as one ubatch per run of
    # consecutive sequence ids in the order the batch lists them (slots.runs); a step split in
    # two costs nearly twice. Each decode's sequence ids are recorded on their way to llama.cpp.
    import llama_cpp

    steps: list[list[int]] = []
    real = llama_cpp.llama_decode

    def recording(ctx, batch):
        steps.append([batch.seq_id[i][0] for i in range(batch.n_tokens)])
        return real(ctx, batch)

    long = SamplingParams(temperature=0, max_tokens=400)
    with stories_engine(request, n_parallel=3) as engine:
        started = []
        for prompt in ("Tom had a red ball", "Sara liked to sing", "Ben saw a big tree"):
            events = engine.stream_complete(prompt, long, threading.Event())  # slots 0, 1, 2
            assert isinstance(next(events), Piece)
            started.append(events)
        for events in started[:2]:
            events.close()  # slots 0 and 1 are free again; the third answer goes on in 2
        # Slot 0 holds this prompt's first words (too few to reuse), slot 1 sits beside the
        # busy slot 2: the answer goes to 1.
        later = engine.stream_complete("Tom had a red ball and", long, threading.Event())
        assert isinstance(next(later), Piece)
        # Both wait for their readers now (MAX_AHEAD); read together, they decode together.
        monkeypatch.setattr(llama_cpp, "llama_decode", recording)
        readers = [threading.Thread(target=collect, args=(s, {})) for s in (started[2], later)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(timeout=60)
    both = [ids for ids in steps if len(set(ids)) == 2]
    assert both, "the two answers never shared a step"
    assert all(set(ids) == {1, 2} for ids in both), both
    for ids in steps:  # grouped by sequence, in ascending order
        assert ids == sorted(ids), ids


def test_beyond_n_the_rest_wait_in_line_with_their_positions(tmp_path, models_folder):
    settings = Settings.load(
        None,
        HEARTH_DATA_DIR=str(tmp_path / "data"),
        HEARTH_MODELS_DIR=str(models_folder),
        HEARTH_N_PARALLEL=2,
        LLAMACPP_N_CTX=512,
        LLAMACPP_N_THREADS=2,
        HEARTH_DEFAULT_MODEL="stories260K.gguf",
    )
    manager = ModelManager(LocalFactory(settings, ModelLibrary(settings.models_dir)))
    assert manager.parallel == 2  # known before the model loads, from the setting
    params = SamplingParams(temperature=0, max_tokens=60)

    async def one(prompt: str, seen: list, began: asyncio.Event, go: asyncio.Event):
        generation = Generation(
            manager, "stories260K.gguf", lambda e, c: e.stream_complete(prompt, params, c)
        )
        async for event in generation.events():
            if isinstance(event, Queued):
                seen.append(event.position)
                go.set()  # the third is in line: the first two may go on
            elif not seen or seen[-1] != "running":
                seen.append("running")
                seen.append(manager.status()["running"])
                began.set()
                # Hold here: not reading, the answer cannot run ahead (batcher.MAX_AHEAD), so
                # it is still running when the third one asks.
                await go.wait()
        return generation

    async def scenario():
        await manager.load("stories260K.gguf")
        while manager.queue.busy:  # the load's place goes once its worker has really stopped
            await asyncio.sleep(0.01)
        seen: list[list] = [[], [], []]
        began = [asyncio.Event() for _ in range(3)]
        go = asyncio.Event()
        first_two = [asyncio.create_task(one(PROMPTS[i], seen[i], began[i], go)) for i in range(2)]
        await began[0].wait()
        await began[1].wait()
        third = await one(PROMPTS[2], seen[2], began[2], go)
        return [*(await asyncio.gather(*first_two)), third], seen

    try:
        gens, seen = asyncio.run(scenario())
    finally:
        manager.close()
    assert all(g.finish.reason == "length" for g in gens)
    assert seen[1][:2] == ["running", 2]  # two at once
    assert seen[2][0] == 1  # the third waited, first in line
    assert manager.status()["parallel"] == 2
