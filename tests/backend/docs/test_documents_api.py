"""Chat with documents against a real server, real models, real files, and no network.

One server runs with HEARTH_NETWORK_GUARD=1 (every non-loopback attempt is refused and
logged) while the OS-level socket watch samples what the process tree has open.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backend.api.sse_client import chat, sse
from tests.backend.docs.corpus import encrypt_pdf, make_docx, make_pdf, make_scan_pdf
from tests.backend.docs.helpers import (
    SMOL,
    STORIES,
    SocketWatch,
    by_file,
    embedder_stats,
    follow_job,
    ingest,
    models_with_embedder,
    new_library,
    search,
)
from tests.backend.server_process import HearthProcess

FACT = "The Ellery lighthouse was rebuilt in 1893 after a winter storm destroyed its lantern."
QUESTION = "In which year was the Ellery lighthouse rebuilt?"

pytestmark = pytest.mark.slow


def write_corpus(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    files = {
        "report.pdf": make_pdf(
            folder / "report.pdf",
            [
                "Quarterly overview. Revenue grew in every region, led by wholesale orders "
                "of garden furniture and outdoor lighting.",
                f"Local history. {FACT} The keeper's cottage now hosts a small museum.",
                "Appendix. Tables of monthly figures for the sales team.",
            ],
        ),
        "manual.docx": make_docx(
            folder / "manual.docx",
            [
                ("h1", "Installation"),
                ("p", "Unpack the archive and run the installer as an administrator."),
                ("h1", "Printing"),
                ("p", "Choose the printer, then press the green button to print a test page."),
            ],
        ),
    }
    (folder / "garden.md").write_text(
        "# Garden\nTomatoes need six hours of sun a day.\n\n"
        "## Watering\nWater the basil twice a week, in the morning.\n"
    )
    (folder / "bread.html").write_text(
        "<html><head><title>Recipes</title></head><body><h1>Bread</h1>"
        "<p>Knead the dough for ten minutes, then let it rise for an hour.</p></body></html>"
    )
    (folder / "story.txt").write_text("The ship's cat slept on a coil of rope all afternoon.\n")
    encrypt_pdf(files["report.pdf"], folder / "locked.pdf", "secret", "owner")
    make_scan_pdf(folder / "scan.pdf")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    return files


@pytest.fixture
def docs_server(tmp_path, minilm_path, smollm_path, stories_path):
    models = models_with_embedder(tmp_path / "models", minilm_path, smollm_path, stories_path)
    server = HearthProcess(tmp_path / "data", models, HEARTH_NETWORK_GUARD="1").start()
    yield server
    server.stop()


def test_ingest_search_ask_and_chat_with_citations_offline(tmp_path, docs_server):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    blob = tmp_path / "blob.dat"
    blob.write_bytes(bytes(range(256)) * 8)
    assert docs_server.proc is not None
    with SocketWatch(docs_server.proc.pid) as watch, docs_server.client() as client:
        assert client.get("/api/documents/status").json()["network_guard"] is True
        library = new_library(client, "Household")
        lid = library["id"]
        assert library["state"] == "empty"

        # -- ingest a folder plus one explicit file: bad files give reasons, the rest go on
        job = ingest(client, lid, corpus, blob)
        assert job["status"] == "done", job
        results = by_file(job)
        for name in ("report.pdf", "manual.docx", "garden.md", "bread.html", "story.txt"):
            assert results[name]["status"] == "indexed", results[name]
            assert results[name]["chunks"] >= 1
        assert results["report.pdf"]["pages"] == 3
        reasons = {n: (r["status"], r["reason_code"]) for n, r in results.items()}
        assert reasons["locked.pdf"] == ("failed", "encrypted_pdf")
        assert reasons["scan.pdf"] == ("failed", "no_text_layer")
        assert reasons["empty.txt"] == ("failed", "empty_file")
        assert reasons["blob.dat"] == ("failed", "binary_file")
        assert reasons["photo.png"] == ("skipped", "unsupported_type")
        assert all(results[n]["reason"] for n in ("locked.pdf", "scan.pdf", "blob.dat"))
        names = [name for name, _ in job["events"]]
        assert names[0] == "queued" and "started" in names
        assert names.count("file") == len(results) and names.count("progress") > len(results)
        documents = client.get(f"/api/libraries/{lid}/documents").json()
        failed = {d["name"]: d["reason_code"] for d in documents if d["status"] == "failed"}
        assert failed == {
            "locked.pdf": "encrypted_pdf",
            "scan.pdf": "no_text_layer",
            "empty.txt": "empty_file",
            "blob.dat": "binary_file",
        }

        # -- search: the one file and page that hold the answer
        found = search(client, lid, QUESTION)
        top = found["results"][0]
        assert top["file"] == "report.pdf" and top["page"] == 2
        assert "1893" in top["text"]
        assert all("1893" not in r["text"] for r in found["results"][1:])
        assert found["timings"]["embed_ms"] > 0 and found["timings"]["search_ms"] > 0
        chunk = client.get(f"/api/libraries/{lid}/chunks/{top['chunk_id']}").json()
        assert chunk["path"] == str(corpus / "report.pdf") and "1893" in chunk["text"]

        # -- ask without a conversation: citations first, then the streamed answer
        body = {"query": QUESTION, "model": SMOL, "params": {"temperature": 0, "max_tokens": 24}}
        with client.stream("POST", f"/api/libraries/{lid}/ask", json=body) as r:
            assert r.status_code == 200, r.read()
            events = list(sse(r))
        names = [n for n, _ in events]
        assert names.index("citations") < names.index("delta") < names.index("done")
        done = events[-1][1]
        assert done["citations"][0]["file"] == "report.pdf"
        assert done["citations"][0]["page"] == 2
        assert done["finish_reason"] in ("stop", "length") and done["content"]

        # -- chat: the attached library is searched for each question, citations stored
        cid = client.post("/api/conversations", json={"model": SMOL}).json()["id"]
        r = client.put(f"/api/conversations/{cid}/libraries", json={"library_ids": [lid]})
        assert [lib["id"] for lib in r.json()] == [lid]
        answer = chat(client, cid, QUESTION)
        meta = answer["done"]["message"]["meta"]
        first = meta["citations"][0]
        assert (first["file"], first["page"], first["library_id"]) == ("report.pdf", 2, lid)
        assert set(first) == {"file", "page", "score", "chunk_id", "library_id"}
        stored = client.get(f"/api/conversations/{cid}/messages").json()
        assert stored[-1]["meta"]["citations"] == meta["citations"]
        # Detached: the next answer carries no citations.
        client.put(f"/api/conversations/{cid}/libraries", json={"library_ids": []})
        assert chat(client, cid, "Thanks!")["done"]["message"]["meta"] is None

        # -- re-ingesting unchanged files embeds nothing
        before = embedder_stats(client)
        again = ingest(client, lid, corpus, blob)
        assert again["embedded"] == 0
        assert embedder_stats(client) == before
        for name in ("report.pdf", "manual.docx", "garden.md", "bread.html", "story.txt"):
            assert by_file(again)[name]["status"] == "unchanged"
        assert by_file(again)["locked.pdf"]["reason_code"] == "encrypted_pdf"

        # -- a changed file is re-ingested alone, and its old text is gone
        (corpus / "story.txt").write_text("The ship's cat is called Pickles and hates the rain.\n")
        changed = ingest(client, lid, corpus)
        assert by_file(changed)["story.txt"]["status"] == "indexed"
        assert by_file(changed)["report.pdf"]["status"] == "unchanged"
        after = embedder_stats(client)
        assert after["texts"] - before["texts"] == by_file(changed)["story.txt"]["chunks"]
        hits = search(client, lid, "What is the cat called?", min_score=0.0)["results"]
        texts = [h["text"] for h in hits]
        assert any("Pickles" in t for t in texts)
        assert not any("coil of rope" in t for t in texts)
        story_chunk = next(h["chunk_id"] for h in hits if h["file"] == "story.txt")

        # -- deleting a document removes its chunks; a file gone from disk is removed too
        story = next(d for d in documents if d["name"] == "story.txt")
        r = client.delete(f"/api/libraries/{lid}/documents/{story['id']}")
        assert r.status_code == 200
        hits = search(client, lid, "What is the cat called?", min_score=0.0)["results"]
        assert all(h["file"] != "story.txt" for h in hits)
        assert client.get(f"/api/libraries/{lid}/chunks/{story_chunk}").status_code == 404
        (corpus / "garden.md").unlink()
        rescan = ingest(client, lid)  # no paths: re-check what the library holds
        assert by_file(rescan)["garden.md"]["status"] == "removed"
        assert all(h["file"] != "garden.md" for h in search(client, lid, "basil")["results"])

        # -- upload (raw body, no size limit of JSON bodies) and library rename
        r = client.post(
            "/api/documents/upload",
            params={"library_id": lid, "filename": "tides.md"},
            content=b"# Tides\nHigh tide at Port Ellery is at 6 in the morning.\n",
        )
        assert r.status_code == 202, r.text
        uploaded = follow_job(client, lid, r.json())
        assert by_file(uploaded)["tides.md"]["status"] == "indexed"
        assert search(client, lid, "When is high tide?")["results"][0]["file"] == "tides.md"
        r = client.patch(f"/api/libraries/{lid}", json={"name": "Home"})
        assert r.json()["name"] == "Home" and r.json()["state"] == "ready"

    # -- nothing but loopback, seen from inside (audit hook) and outside (the OS)
    guard_log = docs_server.data_dir / "logs" / "network-guard.jsonl"
    assert not guard_log.exists() or guard_log.read_text() == ""
    assert watch.samples > 10
    assert watch.remote, "the watch saw no sockets at all: it is not watching the server"
    assert watch.non_loopback() == set()


def test_cancel_a_running_ingest_then_finish_it(tmp_path, docs_server):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(24):
        (folder / f"note-{i:02}.txt").write_text(
            f"Note {i}. " + " ".join(f"word{j}" for j in range(i, i + 200))
        )
    with docs_server.client() as client:
        lid = new_library(client, "Notes")["id"]
        r = client.post(f"/api/libraries/{lid}/ingest", json={"paths": [str(folder)]})
        job = r.json()
        events = []
        with client.stream("GET", f"/api/libraries/{lid}/jobs/{job['id']}/events") as stream:
            for name, data in sse(stream):
                events.append((name, data))
                if name == "file" and len([e for e in events if e[0] == "file"]) == 2:
                    r = client.post(f"/api/libraries/{lid}/jobs/{job['id']}/cancel")
                    assert r.json()["cancel_requested"] is True
        final = events[-1][1]
        assert final["status"] == "cancelled"
        assert 2 <= final["files_done"] < 24
        assert client.get(f"/api/libraries/{lid}/jobs/{job['id']}").json()["status"] == "cancelled"
        rest = ingest(client, lid, folder)
        statuses = [r["status"] for r in rest["results"]]
        assert statuses.count("unchanged") == final["files_done"]
        assert statuses.count("indexed") == 24 - final["files_done"]


def test_small_context_model_gets_only_the_excerpts_that_fit(tmp_path, docs_server, stories_path):
    """stories260K has a small window: excerpts are trimmed to fit, the question still goes."""
    from hearth.library.gguf import read_gguf_info

    window = read_gguf_info(stories_path).context_length  # below the 4096 default n_ctx
    folder = tmp_path / "long"
    folder.mkdir()
    for topic in ("lighthouse", "harbour", "ferry"):
        (folder / f"{topic}.txt").write_text(
            " ".join(f"The {topic} keeper logged entry {i} in the book." for i in range(80))
        )
    with docs_server.client() as client:
        lid = new_library(client, "Long")["id"]
        ingest(client, lid, folder)
        body = {
            "query": "What did the lighthouse keeper log?",
            "model": STORIES,
            "top_k": 6,
            "min_score": 0.0,
            "params": {"temperature": 0, "max_tokens": 64},
        }
        retrieved = search(client, lid, body["query"], top_k=6, min_score=0.0)["results"]
        assert len(retrieved) == 6
        with client.stream("POST", f"/api/libraries/{lid}/ask", json=body) as r:
            events = list(sse(r))
        assert [n for n, _ in events if n == "error"] == []
        done = events[-1][1]
        assert 0 < len(done["citations"]) < len(retrieved)
        assert done["prompt_tokens"] <= window - 64
        # The cited excerpts are the best-scoring ones that fitted, in score order.
        scores = [c["score"] for c in done["citations"]]
        assert scores == sorted(scores, reverse=True)


def test_library_delete_and_bad_requests(tmp_path, docs_server):
    with docs_server.client() as client:
        lid = new_library(client, "Temp")["id"]
        assert client.post("/api/libraries", json={"name": " temp "}).json()["code"] == (
            "library_exists"
        )
        r = client.post(f"/api/libraries/{lid}/ingest", json={"paths": ["relative/path.txt"]})
        assert (r.status_code, r.json()["code"]) == (422, "invalid_request")
        for name in ("../escape.txt", ".hidden", "a:b.txt", "NUL.txt"):
            r = client.post(
                "/api/documents/upload", params={"library_id": lid, "filename": name}, content=b"x"
            )
            assert (r.status_code, r.json()["code"]) == (422, "bad_filename"), name
            assert repr(name) in r.json()["message"]
        # A name too long in bytes for a file system is shortened, its extension kept.
        r = client.post(
            "/api/documents/upload",
            params={"library_id": lid, "filename": "é" * 150 + ".txt"},
            content=b"x",
        )
        assert r.status_code == 202, r.text
        stored = follow_job(client, lid, r.json())["results"][0]["file"]
        assert stored.endswith(".txt") and len(stored.encode()) <= 200
        assert client.delete(f"/api/libraries/{lid}").status_code == 204
        assert client.get(f"/api/libraries/{lid}").status_code == 404
        r = client.post(f"/api/libraries/{lid}/search", json={"query": "anything"})
        assert (r.status_code, r.json()["code"]) == (404, "library_not_found")
        assert not (docs_server.data_dir / "documents" / lid).exists()
