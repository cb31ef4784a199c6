"""The models list on a real server: the default and the loaded model from the start, Load and
Eject through /api/engine, and a fit for every model from this machine's own hardware."""

from __future__ import annotations

SMOLLM = "SmolLM2-135M-Instruct.Q4_1.gguf"
STORIES = "stories260K.gguf"


def test_default_loaded_load_and_eject(hearth_server):
    with hearth_server.client() as client:
        body = client.get("/api/models").json()
        # Nobody chose a default yet: the list still says which model a new chat loads.
        assert (body["default_model"], body["default_source"]) == (SMOLLM, "automatic")
        assert body["loaded_model"] is None
        models = {m["id"]: m for m in body["models"]}
        assert models[SMOLLM]["chat"] is True and models[STORIES]["chat"] is False
        # The real machine's RAM (and no GPU offload on the CPU runtime): a verdict for each.
        for model in models.values():
            assert model["fit"]["mode"] in ("full", "partial", "cpu", "too_large"), model
            assert model["fit"]["ram_total_bytes"], model["fit"]

        loaded = client.post("/api/engine/load", json={"model": SMOLLM})
        assert loaded.status_code == 200, loaded.text
        assert client.get("/api/models").json()["loaded_model"] == SMOLLM

        assert client.post("/api/engine/unload").status_code == 200
        assert client.get("/api/models").json()["loaded_model"] is None
