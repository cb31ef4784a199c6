"""Chat throughput: Hearth's SSE and /v1 endpoints vs calling llama-cpp-python directly.

Same model (SmolLM2), prompt, seed, threads and token budget for all three, measured in one run.
Prints tokens/s for each, the ratio against the direct call, and the time-to-first-token overhead.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.backend.server_process import HearthProcess  # noqa: E402

MODELS = Path(os.environ.get("HEARTH_TEST_MODELS", REPO.parent / "shared" / "models"))
MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPT = "Write a long story about a dragon who learns to bake bread. Make it very detailed."
MAX_TOKENS, THREADS, SEED, RUNS = 256, 2, 7, 3


def rate(t0: float, first: float, end: float, tokens: int) -> tuple[float, float]:
    """(tokens/s after the first token, time to first token in ms)."""
    return (tokens - 1) / (end - first), (first - t0) * 1000


def direct() -> tuple[float, float, int]:
    from llama_cpp import Llama

    llm = Llama(
        str(MODELS / MODEL),
        n_ctx=4096,
        n_threads=THREADS,
        n_threads_batch=THREADS,
        seed=SEED,
        verbose=False,
    )
    results = []
    for _ in range(RUNS):
        # No reset: llama-cpp-python reuses the prompt's KV prefix across runs, as Hearth does.
        t0 = time.perf_counter()
        first, n = None, 0
        for chunk in llm.create_chat_completion(
            [{"role": "user", "content": PROMPT}],
            temperature=0,
            max_tokens=MAX_TOKENS,
            stream=True,
            seed=SEED,
        ):
            if chunk["choices"][0]["delta"].get("content"):
                n += 1
                first = first or time.perf_counter()
        results.append((*rate(t0, first, time.perf_counter(), n), n))
    llm.close()
    return _median(results)


def via_sse(server: HearthProcess) -> tuple[float, float, int]:
    results = []
    with server.client() as client:
        for _ in range(RUNS):
            cid = client.post("/api/conversations", json={"model": MODEL}).json()["id"]
            body = {
                "content": PROMPT,
                "params": {"temperature": 0, "max_tokens": MAX_TOKENS, "seed": SEED},
            }
            t0 = time.perf_counter()
            first, n = None, 0
            event = ""
            with client.stream("POST", f"/api/conversations/{cid}/messages", json=body) as r:
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                        if event == "delta":
                            first = first or time.perf_counter()
                        elif event == "done":
                            end = time.perf_counter()
                    elif line.startswith("data:") and event == "done":
                        n = json.loads(line[5:])["message"]["completion_tokens"]
            results.append((*rate(t0, first, end, n), n))
    return _median(results)


def via_v1(server: HearthProcess) -> tuple[float, float, int]:
    results = []
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "temperature": 0,
        "max_tokens": MAX_TOKENS,
        "seed": SEED,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with server.client() as client:
        for _ in range(RUNS):
            t0 = time.perf_counter()
            first, n = None, 0
            with client.stream("POST", "/v1/chat/completions", json=body) as r:
                for line in r.iter_lines():
                    if not line.startswith("data: {"):
                        continue
                    chunk = json.loads(line[6:])
                    if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                        first = first or time.perf_counter()
                    if chunk.get("usage"):
                        n = chunk["usage"]["completion_tokens"]
                end = time.perf_counter()
            results.append((*rate(t0, first, end, n), n))
    return _median(results)


def _median(results: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    return (
        statistics.median(r[0] for r in results),
        statistics.median(r[1] for r in results),
        results[0][2],
    )


def main() -> int:
    if not (MODELS / MODEL).is_file():
        print(f"skipped: {MODEL} not found in {MODELS}")
        return 0
    base_tps, base_ttft, base_n = direct()
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        models.mkdir()
        (models / MODEL).symlink_to(MODELS / MODEL)
        server = HearthProcess(Path(tmp) / "data", models, LLAMACPP_N_THREADS=str(THREADS)).start()
        try:
            with server.client() as client:  # load the model outside the timings
                client.post("/api/engine/load", json={"model": MODEL}).raise_for_status()
            sse_tps, sse_ttft, sse_n = via_sse(server)
            v1_tps, v1_ttft, v1_n = via_v1(server)
        finally:
            server.stop()
    print(
        f"chat bench: SmolLM2, {THREADS} threads, greedy, {MAX_TOKENS} max tokens, median of {RUNS}"
    )
    print(
        f"  llama-cpp-python direct : {base_tps:7.1f} tok/s  ttft {base_ttft:6.1f} ms  "
        f"({base_n} tokens)"
    )
    for name, tps, ttft, n in (
        ("hearth SSE /api", sse_tps, sse_ttft, sse_n),
        ("hearth /v1 stream", v1_tps, v1_ttft, v1_n),
    ):
        print(
            f"  {name:24}: {tps:7.1f} tok/s  ttft {ttft:6.1f} ms  ({n} tokens)  "
            f"ratio {tps / base_tps:.3f}  ttft overhead {ttft - base_ttft:+.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
