"""OpenAI's Batch API with the official `openai` client against the whole app on a real
127.0.0.1 port, over the scripted engine: upload, create, poll, download; a wrong file; cancel."""

from __future__ import annotations

import json
import threading
import time

import openai
import pytest

CHAT = "/v1/chat/completions"


@pytest.fixture
def client(fake_hearth):
    return openai.OpenAI(base_url=f"{fake_hearth.url}/v1", api_key=fake_hearth.token)


def _jsonl(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def _request(custom_id: str, content: str = "Hi", url: str = CHAT) -> dict:
    body = {"model": "fake-chat", "messages": [{"role": "user", "content": content}]}
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


def _wait(client, batch_id: str, *statuses: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if batch.status in statuses:
            return batch
        assert time.monotonic() < deadline, f"still {batch.status}"
        time.sleep(0.05)


def _lines(client, file_id: str) -> list[dict]:
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines()]


def test_upload_create_poll_and_download_the_results(client, fake_hearth):
    rows = [_request(f"q{i}", f"Question {i}") for i in range(3)]
    rows.append({**_request("empty"), "body": {"messages": []}})  # the route's 422
    uploaded = client.files.create(file=("questions.jsonl", _jsonl(rows)), purpose="batch")
    assert (uploaded.filename, uploaded.purpose) == ("questions.jsonl", "batch")
    assert uploaded.bytes == len(_jsonl(rows))
    assert client.files.retrieve(uploaded.id).id == uploaded.id
    assert client.files.content(uploaded.id).content == _jsonl(rows)

    batch = client.batches.create(
        input_file_id=uploaded.id,
        endpoint=CHAT,
        completion_window="24h",
        metadata={"project": "tests"},
    )
    assert batch.status in ("validating", "in_progress")
    assert batch.metadata == {"project": "tests"}
    done = _wait(client, batch.id, "completed", "failed")
    assert done.status == "completed", done
    assert done.request_counts.model_dump() == {"total": 4, "completed": 3, "failed": 1}
    assert done.completed_at >= done.in_progress_at >= done.created_at

    output = _lines(client, done.output_file_id)
    assert [o["custom_id"] for o in output] == ["q0", "q1", "q2"]
    for line in output:
        assert line["error"] is None
        assert line["response"]["status_code"] == 200
        answer = line["response"]["body"]
        assert answer["object"] == "chat.completion"
        assert answer["choices"][0]["message"]["content"] == "Hello from the fake engine."
    # Each line was the route's own answer to its body: the prompts reached the engine.
    prompts = [c.messages[-1].content for c in fake_hearth.factory.calls]
    assert prompts == ["Question 0", "Question 1", "Question 2"]
    errors = _lines(client, done.error_file_id)
    assert [(e["custom_id"], e["response"]["status_code"]) for e in errors] == [("empty", 422)]
    assert errors[0]["response"]["body"]["error"]["code"] == "invalid_request"

    listed = client.batches.list(limit=10)
    assert [b.id for b in listed.data] == [batch.id]
    outputs = client.files.list(purpose="batch_output")
    assert {f.id for f in outputs.data} == {done.output_file_id, done.error_file_id}
    assert client.files.delete(uploaded.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)
    # The batch keeps its requests and results without its input file.
    assert client.batches.retrieve(batch.id).status == "completed"


def test_a_wrong_file_fails_the_batch_naming_each_line(client):
    content = b"\n".join(
        [
            json.dumps(_request("a")).encode(),
            b"{not json",
            json.dumps(_request("a")).encode(),
            json.dumps(_request("b", url="/v1/completions")).encode(),
        ]
    )
    uploaded = client.files.create(file=("bad.jsonl", content), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")
    failed = _wait(client, batch.id, "failed", "completed")
    assert failed.status == "failed" and failed.failed_at
    assert [(e.line, e.code) for e in failed.errors.data] == [
        (2, "invalid_json_line"),
        (3, "duplicate_custom_id"),
        (4, "mismatched_endpoint"),
    ]
    assert failed.output_file_id is None and failed.request_counts.total == 0


def test_cancel_stops_the_running_line_and_keeps_the_output_so_far(client, fake_hearth):
    factory = fake_hearth.factory
    factory.enqueue("First", " answer.")
    held = factory.enqueue("Never", " finished", gate=threading.Event(), gate_at=1)
    rows = [_request(f"r{i}") for i in range(3)]
    uploaded = client.files.create(file=("three.jsonl", _jsonl(rows)), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")
    assert held.reached.wait(20)  # r1 is generating, held inside the engine
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status in ("cancelling", "cancelled")
    done = _wait(client, batch.id, "cancelled")
    assert done.cancelled_at and done.cancelling_at
    assert done.request_counts.model_dump() == {"total": 3, "completed": 1, "failed": 0}
    output = _lines(client, done.output_file_id)
    assert [o["custom_id"] for o in output] == ["r0"]
    assert output[0]["response"]["body"]["choices"][0]["message"]["content"] == "First answer."
    unrun = _lines(client, done.error_file_id)
    assert [(e["custom_id"], e["error"]["code"]) for e in unrun] == [
        ("r1", "batch_cancelled"),
        ("r2", "batch_cancelled"),
    ]
    assert len(factory.calls) == 2  # r2 never reached the engine
    # Cancelling again says so; a finished batch is not cancelled.
    assert client.batches.cancel(batch.id).status == "cancelled"


def test_refusals_in_openais_shape(client, fake_hearth):
    with pytest.raises(openai.NotFoundError) as err:
        client.batches.retrieve("batch_nothere")
    assert err.value.code == "batch_not_found"
    with pytest.raises(openai.NotFoundError):
        client.batches.create(input_file_id="file-nothere", endpoint=CHAT, completion_window="24h")
    uploaded = client.files.create(file=("one.jsonl", _jsonl([_request("a")])), purpose="batch")
    done = _wait(
        client,
        client.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h").id,
        "completed",
    )
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(done.id)
    with pytest.raises(openai.BadRequestError) as err:  # an output is no batch's input
        client.batches.create(
            input_file_id=done.output_file_id, endpoint=CHAT, completion_window="24h"
        )
    assert err.value.code == "invalid_input_file"
    with pytest.raises(openai.UnprocessableEntityError):
        client.files.create(file=("x.jsonl", b"{}"), purpose="fine-tune")


def test_a_file_over_the_limit_is_a_413(fake_hearth):
    from hearth.api.batches import MAX_FILE_BYTES

    # The declared length is refused before any of the body is read.
    with fake_hearth.client() as http:
        r = http.post(
            "/v1/files",
            content=b"x" * (MAX_FILE_BYTES + 1),
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"


def _user_key(fake_hearth, name: str) -> str:
    with fake_hearth.client() as http:
        r = http.post("/api/admin/keys", json={"name": name, "role": "user"})
        assert r.status_code == 201, r.text
        return r.json()["secret"]


def test_a_keys_files_and_batches_are_its_own(client, fake_hearth):
    """Another program's key sees none of them; the app (its token) and admin keys see all."""
    mine = openai.OpenAI(base_url=client.base_url, api_key=_user_key(fake_hearth, "mine"))
    other = openai.OpenAI(
        base_url=client.base_url, api_key=_user_key(fake_hearth, "other"), max_retries=0
    )
    uploaded = mine.files.create(file=("mine.jsonl", _jsonl([_request("q")])), purpose="batch")
    batch = mine.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")
    done = _wait(mine, batch.id, "completed")
    assert _lines(mine, done.output_file_id)[0]["custom_id"] == "q"

    assert other.files.list().data == [] and other.batches.list().data == []
    for call in (
        lambda: other.files.retrieve(uploaded.id),
        lambda: other.files.content(done.output_file_id),  # the results are the batch owner's
        lambda: other.batches.retrieve(batch.id),
        lambda: other.batches.cancel(batch.id),
        lambda: other.files.delete(uploaded.id),
        lambda: other.batches.create(
            input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h"
        ),
    ):
        with pytest.raises(openai.NotFoundError):
            call()

    assert {f.id for f in mine.files.list().data} == {uploaded.id, done.output_file_id}
    assert [b.id for b in client.batches.list().data] == [batch.id]  # the app sees every batch
    assert uploaded.id in {f.id for f in client.files.list().data}


def test_a_keys_batch_spends_its_tokens_per_minute(client, fake_hearth):
    with fake_hearth.client() as http:
        r = http.post(
            "/api/admin/keys", json={"name": "batcher", "role": "user", "tokens_per_minute": 3}
        )
        secret = r.json()["secret"]
    keyed = openai.OpenAI(base_url=client.base_url, api_key=secret, max_retries=0)
    fake_hearth.factory.enqueue("one", " two", " three", " four")  # four tokens: over 3
    uploaded = keyed.files.create(file=("b.jsonl", _jsonl([_request("q")])), purpose="batch")
    batch = keyed.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")
    # Polled with the app's token: the key's next call is refused once its batch spent 4.
    assert _wait(client, batch.id, "completed").request_counts.completed == 1
    with pytest.raises(openai.RateLimitError):
        keyed.models.list()
