"""Files attached in one chat, against a real server with MiniLM and SmolLM2: a PDF attached
by raw upload, indexed into the chat's own library, cited by the answer, hidden from the
library list, and gone (row, vectors, stored copy) with its conversation."""

from __future__ import annotations

import pytest

from tests.backend.api.sse_client import chat
from tests.backend.docs.corpus import make_pdf
from tests.backend.docs.helpers import SMOL, by_file, follow_job, models_with_embedder
from tests.backend.server_process import HearthProcess

FACT = "The Ellery lighthouse was rebuilt in 1893 after a winter storm destroyed its lantern."
STRAY = "f" * 32  # a deleted library's stored copies that a crash left behind

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path, minilm_path, smollm_path):
    models = models_with_embedder(tmp_path / "models", minilm_path, smollm_path)
    stray = tmp_path / "data" / "documents" / STRAY
    stray.mkdir(parents=True)
    (stray / "old.pdf").write_bytes(b"%PDF-1.4")
    server = HearthProcess(tmp_path / "data", models).start()
    yield server
    server.stop()


def attach(client, cid: str, filename: str, content: bytes):
    r = client.post(
        "/api/documents/attach",
        params={"conversation_id": cid, "filename": filename},
        content=content,
    )
    assert r.status_code == 202, r.text
    return r.json()


def test_attach_a_pdf_ask_about_it_then_delete_the_chat(tmp_path, server):
    pdf = make_pdf(tmp_path / "history.pdf", ["Weather notes for the harbour.", f"History. {FACT}"])
    documents = server.data_dir / "documents"
    assert not (documents / STRAY).exists()  # swept at start: no library row names it
    with server.client(timeout=120) as client:
        shared = client.post("/api/libraries", json={"name": "Shared"}).json()
        cid = client.post("/api/conversations", json={"model": SMOL}).json()["id"]
        other = client.post("/api/conversations", json={"model": SMOL}).json()["id"]
        client.put(f"/api/conversations/{cid}/libraries", json={"library_ids": [shared["id"]]})

        job = attach(client, cid, "history.pdf", pdf.read_bytes())
        own = job["library_id"]
        done = follow_job(client, own, job)
        assert by_file(done)["history.pdf"]["status"] == "indexed", done["results"]
        bad = follow_job(client, own, attach(client, cid, "scan.pdf", b"not a PDF at all"))
        assert by_file(bad)["scan.pdf"]["reason_code"] == "unreadable", bad["results"]
        assert (
            attach(client, cid, "more.md", b"# More\nGulls nest on the roof.\n")["library_id"]
            == own
        )  # one library per chat

        files = client.get(f"/api/conversations/{cid}/attachments").json()
        assert files["library"]["id"] == own and files["library"]["conversation_id"] == cid
        assert {d["name"] for d in files["documents"]} >= {"history.pdf", "scan.pdf"}
        assert client.get(f"/api/conversations/{other}/attachments").json()["library"] is None
        # Not a library of the Documents page, nor one another chat can tick.
        assert [lib["id"] for lib in client.get("/api/libraries").json()] == [shared["id"]]
        listed = client.get("/api/libraries", params={"owned": True}).json()
        assert {lib["id"] for lib in listed} == {shared["id"], own}
        r = client.put(f"/api/conversations/{other}/libraries", json={"library_ids": [own]})
        assert (r.status_code, r.json()["code"]) == (400, "library_of_another_chat")
        attached = client.get(f"/api/conversations/{cid}/libraries").json()
        assert [lib["id"] for lib in attached] == [own, shared["id"]]

        answer = chat(client, cid, "In which year was the Ellery lighthouse rebuilt?")
        first = answer["done"]["message"]["meta"]["citations"][0]
        assert (first["file"], first["page"], first["library_id"]) == ("history.pdf", 2, own)
        chunk = client.get(f"/api/libraries/{own}/chunks/{first['chunk_id']}").json()
        assert "1893" in chunk["text"]
        assert (documents / own / "history.pdf").is_file()

        assert client.delete(f"/api/conversations/{cid}").status_code == 204
        assert client.get(f"/api/libraries/{own}").status_code == 404
        assert client.get(f"/api/libraries/{own}/chunks/{first['chunk_id']}").status_code == 404
        assert not (documents / own).exists()
        listed = client.get("/api/libraries", params={"owned": True}).json()
        assert [lib["id"] for lib in listed] == [shared["id"]]
        assert client.get(f"/api/libraries/{shared['id']}").status_code == 200
    # The collection went too: chromadb's own file lists no collection of that library.
    import sqlite3

    with sqlite3.connect(server.data_dir / "vectors" / "chroma.sqlite3") as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM collections")}
    assert f"hearth-lib-{own}" not in names
