"""Model routes on a real server: deleting the loaded model unloads it first."""

from tests.backend.api.sse_client import chat
from tests.backend.gguf_edits import alien_copy
from tests.backend.server_process import HearthProcess


def test_deleting_the_loaded_model_unloads_it(tmp_path, stories_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / stories_path.name).write_bytes(stories_path.read_bytes())
    server = HearthProcess(tmp_path / "data", models).start()
    try:
        with server.client() as client:
            cid = client.post("/api/conversations", json={"model": stories_path.name}).json()["id"]
            chat(client, cid, "Once upon a time", max_tokens=4)
            loaded = client.get("/api/status").json()["engine"]["loaded"]
            assert loaded["model"] == stories_path.name
            r = client.delete(f"/api/models/{stories_path.name}")
            assert r.status_code == 200, r.text
            assert client.get("/api/status").json()["engine"]["loaded"] is None
            assert client.get("/api/models").json()["models"] == []
            assert not (models / stories_path.name).exists()
            # Chat now says plainly that no model is installed.
            errors = [d for n, d in chat(client, cid, "hello")["events"] if n == "error"]
            assert errors and errors[0]["code"] == "model_not_found"
    finally:
        server.stop()


def test_a_model_llama_cpp_cannot_load_is_the_files_fault(tmp_path, stories_path):
    """A GGUF whose header reads but whose architecture llama.cpp does not know: the import
    takes it (its header is fine), the load refuses it as a 4xx naming why; Hearth lives on."""
    models = tmp_path / "models"
    models.mkdir()
    alien = alien_copy(stories_path, tmp_path / "alien.gguf")
    server = HearthProcess(tmp_path / "data", models).start()
    try:
        with server.client() as client:
            imported = client.post("/api/models/import", json={"path": str(alien)})
            assert imported.status_code == 201, imported.text
            r = client.post("/api/engine/load", json={"model": "alien.gguf"})
            assert (r.status_code, r.json()["code"]) == (422, "unknown_architecture"), r.text
            assert "alien.gguf" in r.json()["message"]
            assert client.get("/health").status_code == 200
    finally:
        server.stop()
