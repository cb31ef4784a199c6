"""Pure pieces of the engine: stop strings, history fitting, load-failure messages."""

import pytest
from hearth.chat.context import fit_history
from hearth.engine.base import ChatMessage, ContextOverflow
from hearth.engine.llamalog import classify_load_failure
from hearth.engine.stops import StopMatcher


def feed_all(stops, pieces):
    m = StopMatcher(stops)
    out, hit = [], False
    for p in pieces:
        text, hit = m.feed(p)
        out.append(text)
        if hit:
            break
    if not hit:
        out.append(m.flush())
    return "".join(out), hit


@pytest.mark.parametrize(
    ("stops", "pieces", "text", "hit"),
    [
        ([], ["a", "b"], "ab", False),
        (["END"], ["hello ", "E", "N", "D", "more"], "hello ", True),
        (["END"], ["hello E", "Nx"], "hello ENx", False),
        (["\nuser:"], ["Hi", "\n", "us", "er:", "x"], "Hi", True),
        (["ab", "b"], ["xab"], "x", True),
        (["STOP"], ["ST"], "ST", False),  # flushed at the end: never a stop
        (["<|im_end|>"], ["Paris.<|im", "_end|>"], "Paris.", True),
        # Text with no stop's first character goes out whole; the stop still ends it later.
        (["<|im_end|>"], ["Paris", " is", " big", "<|im_end|>", "x"], "Paris is big", True),
        (["<|im_end|>"], ["a", "<|im", "x", "y"], "a<|imxy", False),
        (["\n"], ["ab", "c\nd"], "abc", True),
    ],
)
def test_stop_matcher(stops, pieces, text, hit):
    assert feed_all(stops, pieces) == (text, hit)


def by_words(messages):
    return sum(len(m.content.split()) for m in messages)


U = lambda t: ChatMessage("user", t)  # noqa: E731
A = lambda t: ChatMessage("assistant", t)  # noqa: E731


@pytest.mark.parametrize(
    ("system", "turns", "budget", "kept"),
    [
        (None, [U("a b")], 10, ["a b"]),
        (
            "sys",
            [U("one two"), A("three four"), U("five")],
            10,
            ["sys", "one two", "three four", "five"],
        ),
        # Oldest question and its answer leave together; the system prompt stays.
        ("sys", [U("one two"), A("three four"), U("five")], 3, ["sys", "five"]),
        (None, [U("1 2 3"), A("4 5 6"), U("7 8"), A("9 10"), U("11")], 5, ["7 8", "9 10", "11"]),
        (None, [U("1 2 3"), A("4 5 6"), U("7 8"), A("9 10"), U("11")], 1, ["11"]),
    ],
)
def test_fit_history(system, turns, budget, kept):
    fitted = fit_history(system, turns, by_words, budget)
    assert [m.content for m in fitted] == kept
    assert fitted[-1] == turns[-1]


def test_fit_history_refuses_when_the_newest_turn_alone_is_too_big():
    with pytest.raises(ContextOverflow) as err:
        fit_history("s", [U("a b c d e f")], by_words, 3)
    assert err.value.status == 400


@pytest.mark.parametrize(
    ("log", "code"),
    [
        (
            "llama_model_load: error loading model: error loading model architecture: "
            "unknown model architecture: 'mamba9'",
            "unknown_architecture",
        ),
        (
            "ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 9e9",
            "out_of_memory",
        ),
        ("ggml_cuda_host_malloc: cudaMalloc failed: out of memory", "out_of_memory"),
        (
            "llama_model_load: error loading model: tensor 'blk.0.attn_q.weight' data is not "
            "within the file bounds, model is corrupted or incomplete",
            "corrupt_model",
        ),
        ("gguf_init_from_file_impl: invalid magic characters 'abcd'", "corrupt_model"),
        ("something else entirely", "model_load_failed"),
    ],
)
def test_classify_load_failure(log, code):
    got, message = classify_load_failure(log)
    assert got == code
    assert message
    if code == "unknown_architecture":
        assert "mamba9" in message


def test_threads_never_exceed_the_machines_cpus():
    import os

    from hearth.engine.llama import default_threads, usable_threads

    assert usable_threads(None) == default_threads()
    assert usable_threads(1) == 1
    assert usable_threads(1024) == os.cpu_count()  # a preference of 1024 on a small PC
