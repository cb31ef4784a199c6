"""Changing the embedding model asks for a re-index, and vectors of two models never mix.

The second model is a renamed copy of MiniLM: the same bytes under another name is another
identity (name + sha256), which is what the user chose; the unit tests cover altered bytes.
"""

from __future__ import annotations

import shutil

import pytest
from hearth.docs.vectors import MODEL_KEY, SHA_KEY, VectorStore, collection_name

from tests.backend.api.sse_client import chat
from tests.backend.docs.helpers import (
    MINILM,
    SMOL,
    by_file,
    embedder_stats,
    follow_job,
    ingest,
    new_library,
    search,
)
from tests.backend.server_process import HearthProcess

COPY = "minilm-copy.gguf"

pytestmark = pytest.mark.slow


def test_model_change_requires_reindex_and_never_mixes(tmp_path, minilm_path, smollm_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / MINILM).symlink_to(minilm_path)
    (models / SMOL).symlink_to(smollm_path)
    shutil.copyfile(minilm_path, models / COPY)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tides.md").write_text("# Tides\nHigh tide at Port Ellery is at six.\n")
    (corpus / "bread.txt").write_text("Knead the dough for ten minutes.\n")
    (corpus / "cat.txt").write_text("The ship's cat sleeps on the rope.\n")
    data = tmp_path / "data"

    first = HearthProcess(data, models, HEARTH_DOCS_EMBEDDING_MODEL=MINILM).start()
    try:
        with first.client() as client:
            library = new_library(client, "Harbour")
            lid = library["id"]
            job = ingest(client, lid, corpus)
            n_chunks = sum(r["chunks"] for r in job["results"])
            assert n_chunks >= 3
            assert client.get(f"/api/libraries/{lid}").json()["embedding_model"]["name"] == MINILM
            cid = client.post("/api/conversations", json={"model": SMOL}).json()["id"]
            client.put(f"/api/conversations/{cid}/libraries", json={"library_ids": [lid]})
    finally:
        first.stop()

    second = HearthProcess(data, models, HEARTH_DOCS_EMBEDDING_MODEL=COPY).start()
    try:
        with second.client() as client:
            described = client.get(f"/api/libraries/{lid}").json()
            assert described["state"] == "reindex_required"
            assert MINILM in described["state_message"] and COPY in described["state_message"]

            # Nothing may search or add to the old vectors with the new model.
            r = client.post(f"/api/libraries/{lid}/search", json={"query": "high tide"})
            assert (r.status_code, r.json()["code"]) == (409, "reindex_required")
            r = client.post(f"/api/libraries/{lid}/ingest", json={"paths": [str(corpus)]})
            assert (r.status_code, r.json()["code"]) == (409, "reindex_required")
            r = client.post(
                "/api/documents/upload",
                params={"library_id": lid, "filename": "x.txt"},
                content=b"more",
            )
            assert (r.status_code, r.json()["code"]) == (409, "reindex_required")
            # A chat still answers, and says why the library was left out.
            answer = chat(client, cid, "When is high tide?")
            notices = [d for n, d in answer["events"] if n == "notice"]
            assert [n["code"] for n in notices] == ["reindex_required"]
            meta = answer["done"]["message"]["meta"]
            assert meta["citations"] == [] and meta["notices"][0]["code"] == "reindex_required"
            assert embedder_stats(client)["texts"] == 0

            r = client.post(f"/api/libraries/{lid}/reindex")
            assert r.status_code == 202
            rebuilt = follow_job(client, lid, r.json())
            assert rebuilt["status"] == "done"
            assert {r["status"] for r in rebuilt["results"]} == {"indexed"}
            assert rebuilt["embedded"] == n_chunks
            assert embedder_stats(client)["texts"] == n_chunks
            described = client.get(f"/api/libraries/{lid}").json()
            assert described["state"] == "ready"
            assert described["embedding_model"]["name"] == COPY
            assert described["chunks"] == n_chunks
            top = search(client, lid, "When is high tide?")["results"][0]
            assert top["file"] == "tides.md"
            again = ingest(client, lid, corpus)
            assert {r["status"] for r in by_file(again).values()} == {"unchanged"}
    finally:
        second.stop()

    # Straight from chromadb: one collection, built by the new model, holding no extra vectors.
    store = VectorStore(data / "vectors")
    try:
        client = store._chroma()
        assert [c.name for c in client.list_collections()] == [collection_name(lid)]
        collection = client.get_collection(collection_name(lid), embedding_function=store._ef)
        assert collection.metadata[MODEL_KEY] == COPY
        assert len(collection.metadata[SHA_KEY]) == 64
        assert collection.count() == n_chunks
    finally:
        store.close()
