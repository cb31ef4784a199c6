"""The remote engine speaks to another Hearth over its OpenAI-compatible API."""

from tests.backend.api.sse_client import chat
from tests.backend.server_process import HearthProcess

STORIES = "stories260K.gguf"


def test_a_hearth_can_chat_through_another_hearth(tmp_path, models_folder):
    upstream = HearthProcess(tmp_path / "upstream", models_folder).start()
    front = HearthProcess(
        tmp_path / "front",
        HEARTH_ENGINE="openai",
        HEARTH_REMOTE_URL=f"{upstream.url}/v1",
        HEARTH_REMOTE_API_KEY=upstream.token,
    ).start()
    try:
        with front.client() as client:
            cid = client.post("/api/conversations", json={"model": STORIES}).json()["id"]
            result = chat(client, cid, "Once upon a time", max_tokens=12)
            assert result["done"], result["events"]
            msg = result["done"]["message"]
            assert msg["model"] == STORIES
            assert msg["completion_tokens"] == 12 and msg["finish_reason"] == "length"
            assert len(result["text"]) > 10
        # The upstream did the work: its own conversation list is untouched, its model loaded.
        with upstream.client() as client:
            status = client.get("/api/status").json()
            assert status["engine"]["loaded"]["model"] == STORIES
    finally:
        front.stop()
        upstream.stop()


def test_remote_errors_are_reported(tmp_path, models_folder):
    upstream = HearthProcess(tmp_path / "upstream", models_folder).start()
    front = HearthProcess(
        tmp_path / "front",
        HEARTH_ENGINE="openai",
        HEARTH_REMOTE_URL=f"{upstream.url}/v1",
        HEARTH_REMOTE_API_KEY="wrong-token",
    ).start()
    try:
        with front.client() as client:
            cid = client.post("/api/conversations", json={"model": STORIES}).json()["id"]
            result = chat(client, cid, "Once upon a time")
            errors = [d for n, d in result["events"] if n == "error"]
            assert errors and errors[0]["code"] == "remote_error"
            assert "token" in errors[0]["message"].lower()
    finally:
        front.stop()
        upstream.stop()
