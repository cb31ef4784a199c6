"""Parallel answers: aggregate decode tokens/s with 1, 2 and 4 concurrent streams, Hearth (4
parallel sequences) beside llama.cpp's own `llama-server -np 4` built from the same vendored
llama.cpp, measured in this one run on this machine.

Same model (SmolLM2), prompts, greedy sampling, threads and token budget for both. Aggregate =
all streams' completion tokens / the wall time from the first request to the last answer's end.
Both servers run side by side and take turns, run by run (an idle one sleeps): this machine's
speed drifts by tens of percent over a minute, and turns put both under the same drift.
Targets (issue 13): Hearth at 4 streams >= 2x its single stream, and >= llama-server at 4.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
import llama_server  # noqa: E402

from tests.backend.server_process import HearthProcess  # noqa: E402

MODELS = Path(os.environ.get("HEARTH_TEST_MODELS", REPO.parent / "shared" / "models"))
MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"
TOPICS = ("a dragon who bakes bread", "a lighthouse keeper", "a lost robot", "a winter garden")
MAX_TOKENS, THREADS, N_CTX, RUNS, STREAMS = 128, 2, 2048, 3, (1, 2, 4)


def _stream(base: str, headers: dict, topic: str, out: list) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": f"Write a long story about {topic}."}],
        "temperature": 0,
        "repeat_penalty": 1.0,  # llama-server's default; Hearth's is 1.1
        "max_tokens": MAX_TOKENS,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    n = 0
    with (
        httpx.Client(base_url=base, headers=headers, timeout=300) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as r,
    ):
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("data: {"):
                usage = json.loads(line[6:]).get("usage")
                if usage:
                    n = usage["completion_tokens"]
    out.append((n, time.perf_counter()))


def aggregate(base: str, headers: dict, k: int) -> float:
    """Completion tokens/s of k streams at once."""
    done: list[tuple[int, float]] = []
    threads = [
        threading.Thread(target=_stream, args=(base, headers, TOPICS[i % len(TOPICS)], done))
        for i in range(k)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(n for n, _ in done) / (max(end for _, end in done) - t0)


def measure(servers: dict[str, tuple[str, dict]]) -> dict[str, dict[int, float]]:
    """Each server's median aggregate for each stream count, the servers taking turns."""
    for base, headers in servers.values():
        aggregate(base, headers, 1)  # warm: model pages in, caches fill
    rates: dict[str, dict[int, list[float]]] = {n: {k: [] for k in STREAMS} for n in servers}
    for _ in range(RUNS):
        for k in STREAMS:
            for name, (base, headers) in servers.items():
                rates[name][k].append(aggregate(base, headers, k))
    return {n: {k: statistics.median(v) for k, v in per.items()} for n, per in rates.items()}


def main() -> int:
    if not (MODELS / MODEL).is_file():
        print(f"skipped: {MODEL} not found in {MODELS}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        models.mkdir()
        (models / MODEL).symlink_to(MODELS / MODEL)
        server = HearthProcess(
            Path(tmp) / "data",
            models,
            LLAMACPP_N_THREADS=str(THREADS),
            LLAMACPP_N_CTX=str(N_CTX),
            HEARTH_N_PARALLEL="4",
        ).start()
        args = ("-np", "4", "-c", str(N_CTX * 4), "-t", str(THREADS), "-tb", str(THREADS))
        try:
            with server.client() as client:
                client.post("/api/engine/load", json={"model": MODEL}).raise_for_status()
            with llama_server.running(MODELS / MODEL, *args) as url:
                found = measure({"hearth": (server.url, server.headers), "llama": (url, {})})
        finally:
            server.stop()
    hearth, reference = found["hearth"], found["llama"]
    print(
        f"parallel bench: SmolLM2, {THREADS} threads, greedy, {MAX_TOKENS} max tokens, "
        f"aggregate tokens/s, median of {RUNS}"
    )
    print(f"  {'streams':>7}  {'hearth':>9}  {'llama-server -np 4':>18}  {'hearth/llama':>12}")
    for k in STREAMS:
        print(f"  {k:>7}  {hearth[k]:9.1f}  {reference[k]:18.1f}  {hearth[k] / reference[k]:12.3f}")
    print(
        f"  hearth 4 streams / 1 stream: {hearth[4] / hearth[1]:.2f}x (target >= 2); "
        f"llama-server: {reference[4] / reference[1]:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
