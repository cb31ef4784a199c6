"""Conversations survive restarts and a kill -9 in the middle of a stream."""

import sqlite3

from tests.backend.api.sse_client import chat, sse
from tests.backend.server_process import HearthProcess

STORIES = "stories260K.gguf"


def test_conversation_survives_a_restart(tmp_path, models_folder):
    first = HearthProcess(tmp_path / "data", models_folder).start()
    with first.client() as client:
        cid = client.post("/api/conversations", json={"model": STORIES}).json()["id"]
        answer = chat(client, cid, "Once upon a time", max_tokens=10)["text"]
    assert first.stop() == 0
    second = HearthProcess(tmp_path / "data", models_folder).start()
    try:
        with second.client() as client:
            rows = client.get(f"/api/conversations/{cid}/messages").json()
            assert [m["content"] for m in rows] == ["Once upon a time", answer]
            listed = client.get("/api/conversations").json()
            assert cid in [c["id"] for c in listed["items"]]
    finally:
        second.stop()


def test_kill_9_mid_stream_keeps_every_completed_message(tmp_path, models_folder):
    server = HearthProcess(tmp_path / "data", models_folder).start()
    with server.client() as client:
        cid = client.post("/api/conversations", json={"model": STORIES}).json()["id"]
        done = [chat(client, cid, f"Turn {i}", max_tokens=6)["done"]["message"] for i in range(3)]
        body = {"content": "Once upon a time", "params": {"temperature": 0, "max_tokens": 4000}}
        with client.stream("POST", f"/api/conversations/{cid}/messages", json=body) as r:
            for i, _event in enumerate(sse(r)):
                if i == 10:
                    server.kill9()
                    break
    db = sqlite3.connect(tmp_path / "data" / "hearth.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute(
            "SELECT id, role, content FROM message WHERE conversation_id = ? ORDER BY id", (cid,)
        ).fetchall()
    finally:
        db.close()
    ids = {row[0] for row in rows}
    assert all(m["id"] in ids for m in done)
    assert rows[6][2] == "Once upon a time"  # the user turn of the killed stream was kept too
    # And the app opens it again.
    again = HearthProcess(tmp_path / "data", models_folder).start()
    try:
        with again.client() as client:
            assert len(client.get(f"/api/conversations/{cid}/messages").json()) >= 7
    finally:
        again.stop()
