"""The done-when of issue 13 §6: a batch of 20 requests on the real stories260K model completes
across a kill -9 of the server in the middle, with 20 results, none lost and none twice."""

from __future__ import annotations

import json
import sqlite3
import time

import openai

from tests.backend.server_process import HearthProcess

STORIES = "stories260K.gguf"
N = 20


def _batch_file() -> bytes:
    rows = [
        {
            "custom_id": f"story-{i}",
            "method": "POST",
            "url": "/v1/completions",
            # Greedy with a different opening each, long enough that the kill lands mid-batch.
            "body": {
                "model": STORIES,
                "prompt": f"Once upon a time, {i} little",
                "max_tokens": 200,
                "temperature": 0,
            },
        }
        for i in range(N)
    ]
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def _client(server: HearthProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.token)


def _finished(data_dir, batch_id: str) -> dict[str, str]:
    """custom_id -> the stored result, read from the file the killed server left."""
    db = sqlite3.connect(data_dir / "batches.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return dict(
            db.execute(
                "SELECT custom_id, result FROM batch_line"
                " WHERE batch_id = ? AND state != 'pending'",
                (batch_id,),
            )
        )
    finally:
        db.close()


def test_a_batch_of_20_completes_across_a_kill_9(tmp_path, models_folder):
    data = tmp_path / "data"
    first = HearthProcess(data, models_folder).start()
    try:
        client = _client(first)
        uploaded = client.files.create(file=("stories.jsonl", _batch_file()), purpose="batch")
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/completions", completion_window="24h"
        )
        deadline = time.monotonic() + 60
        while client.batches.retrieve(batch.id).request_counts.completed < 3:
            assert time.monotonic() < deadline, "no line finished"
            time.sleep(0.01)
        first.kill9()
    finally:
        first.stop()
    before = _finished(data, batch.id)
    assert 3 <= len(before) < N, "the kill must land mid-batch"

    second = HearthProcess(data, models_folder).start()
    try:
        client = _client(second)
        deadline = time.monotonic() + 120
        while (done := client.batches.retrieve(batch.id)).status != "completed":
            assert done.status in ("in_progress", "finalizing"), done
            assert time.monotonic() < deadline, "the batch did not finish after the restart"
            time.sleep(0.1)
        assert done.request_counts.model_dump() == {"total": N, "completed": N, "failed": 0}
        lines = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
    finally:
        second.stop()
    assert [line["custom_id"] for line in lines] == [f"story-{i}" for i in range(N)]
    assert done.error_file_id is None
    for line in lines:
        assert line["response"]["status_code"] == 200
        assert line["response"]["body"]["choices"][0]["text"]
    # What was done before the kill was kept as it was, not answered again.
    kept = {line["custom_id"]: line for line in lines}
    for custom_id, result in before.items():
        assert kept[custom_id] == json.loads(result)
