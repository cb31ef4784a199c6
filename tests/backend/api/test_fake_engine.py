"""Chat, the queue, stop and /v1 over the scripted engine: the whole app in this process, on a real
port, answering with exactly the pieces each test enqueues. Outcomes here depend on neither the
CPU nor the load, so they are asserted exactly; test_chat.py and test_openai.py prove the same
routes with llama.cpp and real models."""

from __future__ import annotations

import json
import socket
import threading
import time

import openai
import pytest

from tests.backend.api.sse_client import chat, sse


def _conversation(client, model="fake-chat") -> str:
    made = client.post("/api/conversations", json={"model": model})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _messages(client, cid):
    return client.get(f"/api/conversations/{cid}/messages").json()


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


# -- chat over SSE --------------------------------------------------------------------------


def test_a_chat_answer_streams_the_engines_pieces_and_is_saved(fake_hearth):
    fake_hearth.factory.enqueue("Bread", " needs", " time.")
    with fake_hearth.client() as client:
        cid = _conversation(client)
        result = chat(client, cid, "How do I bake bread?")
        rows = _messages(client, cid)

    assert result["names"] == ["start", "delta", "delta", "delta", "done"]
    assert result["text"] == "Bread needs time."
    done = result["done"]["message"]
    assert (done["content"], done["finish_reason"], done["model"]) == (
        "Bread needs time.",
        "stop",
        "fake-chat",
    )
    assert done["completion_tokens"] == 3
    assert [(m["role"], m["content"]) for m in rows] == [
        ("user", "How do I bake bread?"),
        ("assistant", "Bread needs time."),
    ]
    # The engine got Hearth's default system prompt, then the question.
    (call,) = fake_hearth.factory.calls
    assert [m.role for m in call.messages] == ["system", "user"]
    assert call.messages[-1].content == "How do I bake bread?"


def test_the_next_turn_carries_the_history(fake_hearth):
    fake_hearth.factory.enqueue("Rye.")
    fake_hearth.factory.enqueue("Spelt.")
    with fake_hearth.client() as client:
        cid = _conversation(client)
        chat(client, cid, "One flour?")
        chat(client, cid, "Another?")
    second = fake_hearth.factory.calls[1].messages
    assert [(m.role, m.content) for m in second[1:]] == [
        ("user", "One flour?"),
        ("assistant", "Rye."),
        ("user", "Another?"),
    ]


def test_stop_ends_the_answer_where_it_is_and_keeps_it(fake_hearth):
    gate = threading.Event()
    script = fake_hearth.factory.enqueue("One", " two", " three", " four", gate=gate, gate_at=2)
    with fake_hearth.client() as client:
        cid = _conversation(client)
        deltas, done = [], None
        body = {"content": "Count", "params": {"max_tokens": 100}}
        with client.stream("POST", f"/api/conversations/{cid}/messages", json=body) as r:
            for name, data in sse(r):
                if name == "delta":
                    deltas.append(data["content"])
                    if len(deltas) == 2:
                        assert script.reached.wait(10)
                        stopped = client.post(f"/api/conversations/{cid}/stop")
                        assert stopped.json() == {"stopped": True}
                        gate.set()
                if name == "done":
                    done = data["message"]
        rows = _messages(client, cid)
    assert deltas == ["One", " two"]
    assert (done["content"], done["finish_reason"], done["completion_tokens"]) == (
        "One two",
        "stopped",
        2,
    )
    assert (rows[-1]["content"], rows[-1]["finish_reason"]) == ("One two", "stopped")


def test_a_client_that_goes_away_stops_the_answer_and_it_is_saved(fake_hearth):
    gate = threading.Event()
    script = fake_hearth.factory.enqueue("Left", " early", " never", gate=gate, gate_at=2)
    with fake_hearth.client() as client:
        cid = _conversation(client)
        body = {"content": "Go", "params": {"max_tokens": 100}}
        with client.stream("POST", f"/api/conversations/{cid}/messages", json=body) as r:
            deltas = 0
            for name, _ in sse(r):
                deltas += name == "delta"
                if deltas == 2:
                    assert script.reached.wait(10)
                    break  # two pieces in, the engine waiting at the gate: hang up
        # The gate stays shut: only the hang-up, seen as a stop, lets the answer end.
        rows = _wait_for(lambda: [m for m in _messages(client, cid) if m["role"] == "assistant"])
    assert (rows[0]["content"], rows[0]["finish_reason"]) == ("Left early", "stopped")


def test_a_second_answer_waits_in_line_with_its_position(fake_hearth):
    gate = threading.Event()
    first_script = fake_hearth.factory.enqueue("First", " answer", gate=gate, gate_at=1)
    fake_hearth.factory.enqueue("Second", " answer")
    results: dict[str, list] = {}

    def ask(name: str, cid: str) -> None:
        with fake_hearth.client() as client:
            results[name] = chat(client, cid, f"{name}?")["events"]

    with fake_hearth.client() as client:
        first, second = _conversation(client), _conversation(client)
        t1 = threading.Thread(target=ask, args=("first", first))
        t1.start()
        assert first_script.reached.wait(10)  # the first holds the engine
        t2 = threading.Thread(target=ask, args=("second", second))
        t2.start()
        _wait_for(lambda: client.get("/api/status").json()["engine"]["waiting"] >= 1)
        gate.set()
        t1.join(10)
        t2.join(10)

    names = {k: [n for n, _ in v] for k, v in results.items()}
    assert names["first"] == ["start", "delta", "delta", "done"]
    assert names["second"] == ["start", "queued", "delta", "delta", "done"]
    assert [d for n, d in results["second"] if n == "queued"] == [{"position": 1}]
    texts = {
        k: next(d for n, d in v if n == "done")["message"]["content"] for k, v in results.items()
    }
    assert texts == {"first": "First answer", "second": "Second answer"}


def test_an_engine_failure_mid_answer_is_an_error_event_and_the_part_is_kept(fake_hearth):
    fake_hearth.factory.enqueue("Half", " an", error=RuntimeError("llama_decode failed"))
    with fake_hearth.client() as client:
        cid = _conversation(client)
        result = chat(client, cid, "Go")
        rows = _messages(client, cid)
        after = chat(client, cid, "Again")  # the line is free again
    error = next(d for n, d in result["events"] if n == "error")
    assert error == {"code": "generation_failed", "message": "llama_decode failed"}
    assert result["names"][-1] == "error" and result["done"] is None
    assert (rows[-1]["content"], rows[-1]["finish_reason"]) == ("Half an", "error")
    assert after["done"]["message"]["finish_reason"] == "stop"


def test_an_answer_that_reaches_max_tokens_ends_with_length(fake_hearth):
    fake_hearth.factory.enqueue("a", "b", "c", "d")
    with fake_hearth.client() as client:
        cid = _conversation(client)
        done = chat(client, cid, "Go", max_tokens=2)["done"]["message"]
    assert (done["content"], done["finish_reason"], done["completion_tokens"]) == (
        "ab",
        "length",
        2,
    )


# -- /v1 with the official client -------------------------------------------------------------


HELLO = [{"role": "user", "content": "Hello"}]


def test_v1_chat_completion_is_the_whole_answer_with_usage(v1, fake_hearth):
    fake_hearth.factory.enqueue("Hi", " there", "!")
    reply = v1.chat.completions.create(model="fake-chat", messages=HELLO)
    assert reply.choices[0].message.content == "Hi there!"
    assert (reply.choices[0].finish_reason, reply.model) == ("stop", "fake-chat")
    assert reply.usage.completion_tokens == 3
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 3


def test_v1_streamed_chat_names_the_role_first_and_ends_with_usage(v1, fake_hearth):
    fake_hearth.factory.enqueue("Hi", " there")
    chunks = list(
        v1.chat.completions.create(
            model="fake-chat",
            messages=HELLO,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in with_choices) == "Hi there"
    assert [c.choices[0].finish_reason for c in with_choices][-1] == "stop"
    assert (chunks[-1].choices, chunks[-1].usage.completion_tokens) == ([], 2)


def test_v1_an_empty_answer_still_streams_a_role_and_a_finish(v1, fake_hearth):
    fake_hearth.factory.enqueue()
    chunks = list(v1.chat.completions.create(model="fake-chat", messages=HELLO, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_v1_max_tokens_ends_with_length(v1, fake_hearth):
    fake_hearth.factory.enqueue("a", "b", "c")
    reply = v1.chat.completions.create(model="fake-chat", messages=HELLO, max_tokens=2)
    assert (reply.choices[0].message.content, reply.choices[0].finish_reason) == ("ab", "length")


def test_v1_an_unknown_model_name_means_the_default_and_a_known_one_is_loaded(v1, fake_hearth):
    assert v1.chat.completions.create(model="gpt-4o-mini", messages=HELLO).model == "fake-chat"
    assert v1.chat.completions.create(model="fake-other", messages=HELLO).model == "fake-other"
    assert fake_hearth.factory.loads == ["fake-chat", "fake-other"]
    assert fake_hearth.factory.unloads == 1  # one model at a time


def test_v1_a_failure_before_the_first_piece_is_an_http_error_in_openais_shape(v1, fake_hearth):
    fake_hearth.factory.enqueue(error=RuntimeError("out of cheese"))
    with pytest.raises(openai.InternalServerError) as raised:
        v1.chat.completions.create(model="fake-chat", messages=HELLO, stream=True)
    assert raised.value.body["code"] == "generation_failed"
    assert raised.value.body["message"] == "out of cheese"


def test_v1_a_failure_mid_stream_is_an_error_chunk_then_done(fake_hearth):
    fake_hearth.factory.enqueue("Half", error=RuntimeError("out of cheese"))
    body = {"model": "fake-chat", "messages": HELLO, "stream": True}
    with (
        fake_hearth.client() as client,
        client.stream("POST", "/v1/chat/completions", json=body) as r,
    ):
        events = [data for _, data in sse(r)]
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert events[1]["choices"][0]["delta"]["content"] == "Half"
    assert events[2]["error"]["code"] == "generation_failed"
    assert events[-1] == "[DONE]"


def test_v1_streamed_completion_and_a_hang_up_that_frees_the_line(v1, fake_hearth):
    gate = threading.Event()
    script = fake_hearth.factory.enqueue("Once", " upon", " a", gate=gate, gate_at=1)
    stream = v1.completions.create(model="fake-chat", prompt="Tell me", stream=True)
    first = next(iter(stream))
    assert first.choices[0].text == "Once"
    assert script.reached.wait(10)
    stream.close()  # the caller hangs up while the engine waits at the shut gate
    fake_hearth.factory.enqueue(" the", " end")
    reply = v1.completions.create(model="fake-chat", prompt="Go on")
    assert (reply.choices[0].text, reply.choices[0].finish_reason) == (" the end", "stop")
    assert fake_hearth.factory.calls[0].prompt == "Tell me"


@pytest.mark.parametrize("path", ["/v1/completions", "/v1/chat/completions"])
def test_v1_a_caller_that_hangs_up_on_a_whole_answer_stops_it(v1, fake_hearth, path):
    """A non-streamed answer whose caller goes away (a script stopped, a client's timeout) is
    stopped, as a streamed one is, instead of holding the engine and the line behind it."""
    gate = threading.Event()
    script = fake_hearth.factory.enqueue("Once", " upon", gate=gate, gate_at=1)
    body = json.dumps({"model": "fake-chat", "prompt": "Tell me", "messages": HELLO}).encode()
    host, port = fake_hearth.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {fake_hearth.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert script.reached.wait(10)  # the answer has begun and waits at the shut gate
    # The caller has hung up; the gate is never opened, so only a stop can end that answer.
    fake_hearth.factory.enqueue(" the", " end")
    reply = v1.completions.create(model="fake-chat", prompt="Go on", timeout=15)
    assert reply.choices[0].text == " the end"
    assert not gate.is_set()
