"""Run by test_heavy_imports.py in a fresh interpreter: an in-process server, and a record of
every first import of numpy, llama_cpp or chromadb made outside hearth.heavy's lock.

    python -m tests.backend.heavy_probe DATA_DIR MODELS_DIR CORPUS_DIR race|idle

race: right after /health, a chat model load and a document ingest (chromadb and the embedding
model) start at the same moment, before the warm-up: the imports that once raced in CI.
idle: nothing is asked; the warm-up imports numpy on its own thread.
Prints one JSON object.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
import traceback

HEAVY = ("numpy", "llama_cpp", "chromadb")


def _importer() -> str:
    """The innermost Hearth frame under the import: where a failure points."""
    for frame in reversed(traceback.extract_stack()):
        if "/hearth/" in frame.filename and "heavy_probe" not in frame.filename:
            return f"{frame.filename}:{frame.lineno}"
    return "?"


def main(data: str, models: str, corpus: str, mode: str) -> dict:
    from hearth import heavy

    unguarded: list[list[str]] = []
    first_numpy: list[str] = []

    def hook(event: str, args: tuple) -> None:
        if event != "import" or str(args[0]).split(".")[0] not in HEAVY:
            return
        if args[0] == "numpy" and not first_numpy:
            first_numpy.append(threading.current_thread().name)
        if not heavy.held():
            unguarded.append([str(args[0]), threading.current_thread().name, _importer()])

    sys.addaudithook(hook)

    import httpx
    from hearth.server import Server
    from hearth.settings import Settings

    settings = Settings.load(None, HEARTH_DATA_DIR=data, HEARTH_MODELS_DIR=models, HEARTH_PORT=0)
    token = secrets.token_urlsafe(24)
    server = Server(settings, token)
    thread = server.start_in_thread()
    if not server.wait_started(60):
        raise SystemExit("the in-process server never started")
    out: dict = {}
    try:
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        )
        assert client.get("/health").status_code == 200
        out["at_health"] = sorted(h for h in HEAVY if h in sys.modules)
        if mode == "race":
            out.update(race(client, corpus))
        else:
            deadline = time.monotonic() + 30
            while "numpy" not in sys.modules and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        server.stop()
        thread.join(30)
    out["unguarded"] = unguarded
    out["first_numpy_thread"] = first_numpy[0] if first_numpy else None
    return out


def race(client, corpus: str) -> dict:
    from tests.backend.docs.helpers import follow_job

    library = client.post("/api/libraries", json={"name": "race"}).json()
    results: dict = {}
    start = threading.Barrier(2)

    def answer() -> None:
        start.wait()
        r = client.post(
            "/v1/completions",
            json={"model": "stories260K.gguf", "prompt": "Once", "max_tokens": 4},
        )
        results["completion_status"] = r.status_code

    def index() -> None:
        start.wait()
        r = client.post(f"/api/libraries/{library['id']}/ingest", json={"paths": [corpus]})
        results["ingest_status"] = follow_job(client, library["id"], r.json())["status"]

    threads = [threading.Thread(target=f, name=f.__name__) for f in (answer, index)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return results


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
