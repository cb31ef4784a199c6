"""GET/PUT /api/preferences against a real server: saved, bounded, and applied on the next load."""

from __future__ import annotations

import pytest

from tests.backend.api.sse_client import chat

pytestmark = pytest.mark.slow


def test_preferences_apply_on_the_next_answer(hearth_server):
    with hearth_server.client() as client:
        doc = client.get("/api/preferences").json()
        assert set(doc["preferences"].values()) == {None}
        assert {"n_threads", "n_ctx", "n_gpu_layers", "default_model"} <= set(doc["preferences"])
        assert doc["effective"]["n_ctx"] == 4096
        assert doc["effective"]["sources"]["n_ctx"] == "environment"

        conv = client.post("/api/conversations", json={"model": "stories260K.gguf"}).json()
        chat(client, conv["id"], "Once upon a time")
        assert client.get("/api/status").json()["engine"]["loaded"]["n_ctx"] == 2048  # trained

        saved = client.put("/api/preferences", json={"n_ctx": 256, "n_threads": 1}).json()
        assert saved["unloaded"] is True
        assert saved["effective"]["sources"]["n_ctx"] == "preference"
        assert client.get("/api/status").json()["engine"]["loaded"] is None

        chat(client, conv["id"], "Then")
        loaded = client.get("/api/status").json()["engine"]["loaded"]
        assert loaded["n_ctx"] == 256

        same = client.put("/api/preferences", json={"n_threads": 1}).json()
        assert same["unloaded"] is False
        assert client.get("/api/status").json()["engine"]["loaded"] is not None


def test_bad_preferences_are_refused_with_the_field_named(hearth_server):
    with hearth_server.client() as client:
        r = client.put("/api/preferences", json={"n_ctx": 10})
        assert r.status_code == 422 and "n_ctx" in r.json()["message"]
        assert client.put("/api/preferences", json=[1]).status_code == 422
        assert client.put("/api/preferences", content=b"{nope").status_code == 422
        r = client.put("/api/preferences", json={"threads": 2})
        assert r.status_code == 422 and "threads" in r.json()["message"]
        assert client.get("/api/preferences").json()["preferences"]["n_ctx"] is None


def test_default_model_preference_picks_the_model(hearth_server):
    with hearth_server.client() as client:
        client.put("/api/preferences", json={"default_model": "stories260K.gguf"})
        conv = client.post("/api/conversations", json={}).json()
        answer = chat(client, conv["id"], "Once upon a time")
        assert answer["done"]["message"]["model"] == "stories260K.gguf"


def test_the_planner_estimate_for_the_gpu_layers_control(hearth_server):
    with hearth_server.client() as client:
        est = client.get("/api/preferences/offload", params={"layers": 10}).json()
        smol = client.get("/api/models/SmolLM2-135M-Instruct.Q4_1.gguf").json()
    # Both contexts, so the UI can say "trained for 8,192, uses 4,096" as the Models page does.
    assert est["trained_ctx"] == smol["info"]["context_length"]
    assert est["n_ctx"] <= est["trained_ctx"]
    assert est["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert est["n_layers"] == 30
    assert len(est["estimates"]) == 31
    assert est["estimates"][0] == 0
    assert est["estimates"] == sorted(est["estimates"])
    # The CPU runtime cannot offload: the planner says so, in words.
    assert est["gpu_offload"] is False
    assert est["auto"]["layers_on_gpu"] == 0 and "cannot offload" in est["auto"]["reason"]
    assert est["chosen"]["layers_on_gpu"] == 0
