"""Drive the documents API of a real server: wait for jobs, watch the server's sockets."""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.backend.api.sse_client import sse

MINILM = "all-MiniLM-L6-v2-Q8_0.gguf"
SMOL = "SmolLM2-135M-Instruct.Q4_1.gguf"
STORIES = "stories260K.gguf"


def models_with_embedder(folder: Path, minilm: Path, *chat: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for source in (minilm, *chat):
        (folder / source.name).symlink_to(source)
    return folder


def new_library(client: httpx.Client, name: str) -> dict[str, Any]:
    r = client.post("/api/libraries", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()


def follow_job(client: httpx.Client, library_id: str, job: dict[str, Any]) -> dict[str, Any]:
    """Read the job's SSE stream to its end; the final job, with every event seen."""
    events = []
    with client.stream("GET", f"/api/libraries/{library_id}/jobs/{job['id']}/events") as r:
        assert r.status_code == 200, r.read()
        for name, data in sse(r):
            events.append((name, data))
    assert events and events[-1][0] == "done", events[-3:]
    final = dict(events[-1][1])
    final["events"] = events
    return final


def ingest(client: httpx.Client, library_id: str, *paths: Path) -> dict[str, Any]:
    r = client.post(f"/api/libraries/{library_id}/ingest", json={"paths": [str(p) for p in paths]})
    assert r.status_code == 202, r.text
    return follow_job(client, library_id, r.json())


def by_file(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["file"]: r for r in job["results"]}


def embedder_stats(client: httpx.Client) -> dict[str, int]:
    return client.get("/api/documents/status").json()["embedder"]


def search(client: httpx.Client, library_id: str, query: str, **extra) -> dict[str, Any]:
    r = client.post(f"/api/libraries/{library_id}/search", json={"query": query, **extra})
    assert r.status_code == 200, r.text
    return r.json()


class SocketWatch:
    """Samples the remote ends of every inet socket of a process tree, from the OS.

    The audit-hook guard sees what Python does; this also sees sockets opened by native code.
    """

    def __init__(self, pid: int, interval: float = 0.05):
        self.root = psutil.Process(pid)
        self.interval = interval
        self.remote: set[str] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SocketWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            for proc in procs:
                try:
                    for conn in proc.net_connections(kind="inet"):
                        if conn.raddr:
                            self.remote.add(conn.raddr.ip)
                except psutil.Error:
                    continue
            self.samples += 1
            self._stop.wait(self.interval)

    def non_loopback(self) -> set[str]:
        return {ip for ip in self.remote if not ipaddress.ip_address(ip).is_loopback}
