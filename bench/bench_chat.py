"""Chat throughput: Hearth's SSE and /v1 endpoints beside llama.cpp's own `llama-server` (built
from the llama.cpp that Hearth's llama-cpp-python vendors: bench/llama_server.py) and beside
llama-cpp-python called directly.

Same model (SmolLM2), prompt, seed, threads, sampling (greedy, no repetition penalty: llama-server's
default) and token budget for all, measured in one run. Hearth and llama-server run side by side
and take turns run by run, through the same client code, so this machine's drift hits both alike.
Prints decode tokens/s and time to first token for each, and Hearth ÷ llama-server.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
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
PROMPT = "Write a long story about a dragon who learns to bake bread. Make it very detailed."
MAX_TOKENS, THREADS, SEED = 256, 2, 7
RUNS = int(os.environ.get("BENCH_CHAT_RUNS", "7"))


def rate(t0: float, first: float, end: float, tokens: int) -> tuple[float, float]:
    """(tokens/s after the first token, time to first token in ms)."""
    return (tokens - 1) / (end - first), (first - t0) * 1000


def direct() -> tuple[float, float, int]:
    from hearth.runtime import ggml_backends

    # The runtime is built with GGML_BACKEND_DL: the CPU backend loads only through Hearth's
    # loader (as in the app), never by a bare `import llama_cpp`.
    # flash_attn: what Hearth's "auto" and llama-server's default turn on for the CPU, so all
    # four run the same kernels (llama-cpp-python's own default is off).
    llm = ggml_backends.import_llama_cpp().Llama(
        str(MODELS / MODEL),
        n_ctx=4096,
        n_threads=THREADS,
        n_threads_batch=THREADS,
        flash_attn=True,
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
            repeat_penalty=1.0,
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
    with server.client() as client:
        cid = client.post("/api/conversations", json={"model": MODEL}).json()["id"]
        body = {
            "content": PROMPT,
            "params": {
                "temperature": 0,
                "repeat_penalty": 1.0,
                "max_tokens": MAX_TOKENS,
                "seed": SEED,
            },
        }
        t0 = time.perf_counter()
        first, n, end = None, 0, t0
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
        return (*rate(t0, first or end, end, n), n)


def via_v1(base: str, headers: dict[str, str]) -> tuple[float, float, int]:
    """One streamed /v1 chat completion: Hearth's, or llama-server's (the same client code)."""
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "temperature": 0,
        "repeat_penalty": 1.0,
        "max_tokens": MAX_TOKENS,
        "seed": SEED,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
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
    return (*rate(t0, first or end, end, n), n)


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
    runs: dict[str, list[tuple[float, float, int]]] = {"sse": [], "v1": [], "llama": []}
    cpu: dict[int, float] = {}  # Hearth's CPU seconds per thread over its timed runs
    hearth_tokens = 0
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        models.mkdir()
        (models / MODEL).symlink_to(MODELS / MODEL)
        server = HearthProcess(Path(tmp) / "data", models, LLAMACPP_N_THREADS=str(THREADS)).start()
        args = ("-c", "4096", "-t", str(THREADS), "-tb", str(THREADS), "-np", "1")
        try:
            with server.client() as client:  # load the model outside the timings
                client.post("/api/engine/load", json={"model": MODEL}).raise_for_status()
            with llama_server.running(MODELS / MODEL, *args) as url:
                via_v1(url, {})  # warm both
                via_v1(server.url, server.headers)
                for _ in range(RUNS):
                    runs["llama"].append(via_v1(url, {}))
                    before = thread_cpu(server.server_pid)
                    runs["v1"].append(via_v1(server.url, server.headers))
                    runs["sse"].append(via_sse(server))
                    after = thread_cpu(server.server_pid)
                    for tid, seconds in after.items():
                        cpu[tid] = cpu.get(tid, 0.0) + seconds - before.get(tid, 0.0)
                    hearth_tokens += runs["v1"][-1][2] + runs["sse"][-1][2]
        finally:
            server.stop()
    llama_tps, llama_ttft, llama_n = _median(runs["llama"])
    print(
        f"chat bench: SmolLM2, {THREADS} threads, greedy, {MAX_TOKENS} max tokens, median of {RUNS}"
    )
    print(
        f"  {'llama-server':24}: {llama_tps:7.1f} tok/s  ttft {llama_ttft:6.1f} ms  "
        f"({llama_n} tokens)"
    )
    print(
        f"  {'llama-cpp-python direct':24}: {base_tps:7.1f} tok/s  ttft {base_ttft:6.1f} ms  "
        f"({base_n} tokens)  ÷ llama-server {base_tps / llama_tps:.3f}"
    )
    for name, key in (("hearth SSE /api", "sse"), ("hearth /v1 stream", "v1")):
        tps, ttft, n = _median(runs[key])
        print(
            f"  {name:24}: {tps:7.1f} tok/s  ttft {ttft:6.1f} ms  ({n} tokens)  "
            f"÷ llama-server {tps / llama_tps:.3f}  ttft {ttft - llama_ttft:+.1f} ms"
        )
    # Each Hearth run against the llama-server run just before it: this machine's drift over
    # the bench (±10 % here) cancels within a pair, so the median of pairs is the verdict.
    for name, key in (("hearth SSE /api", "sse"), ("hearth /v1 stream", "v1")):
        ratios = [h[0] / ll[0] for h, ll in zip(runs[key], runs["llama"], strict=True)]
        extra = [h[1] - ll[1] for h, ll in zip(runs[key], runs["llama"], strict=True)]
        ratio, ttft_extra = statistics.median(ratios), statistics.median(extra)
        verdict = "met" if ratio >= 1.0 and ttft_extra <= 5.0 else "not met"
        print(
            f"  {name:24}: decode ÷ llama-server, median of {len(ratios)} pairs {ratio:.3f} "
            f"(range {min(ratios):.3f}-{max(ratios):.3f}); ttft {ttft_extra:+.1f} ms "
            f"(target >= 1.0 and <= +5 ms: {verdict})"
        )
    # Where Hearth's per-token time goes: the event loop (the main thread: HTTP, SSE framing,
    # the hand-off from the engine) against every other thread (llama.cpp's workers, the decode
    # and generation threads).
    loop = cpu.get(server.server_pid or -1, 0.0)
    rest = sum(cpu.values()) - loop
    print(
        f"  hearth CPU per token: event loop {1000 * loop / hearth_tokens:.2f} ms, "
        f"llama.cpp and engine threads {1000 * rest / hearth_tokens:.2f} ms "
        f"({hearth_tokens} tokens)"
    )
    return 0


def thread_cpu(pid: int | None) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of `pid`, from /proc (Linux)."""
    out: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            fields = task.joinpath("stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


if __name__ == "__main__":
    raise SystemExit(main())
