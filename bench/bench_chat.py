"""Chat throughput: Hearth's SSE and /v1 endpoints beside llama.cpp's own `llama-server` (built
from the llama.cpp that Hearth's llama-cpp-python vendors: bench/llama_server.py) and beside
llama-cpp-python called directly.

Same model (SmolLM2), prompt, seed, threads, sampling (greedy, no repetition penalty: llama-server's
default) and token budget for all, measured in one run. Hearth and llama-server run side by side
and take turns run by run, through the same client code, so this machine's drift hits both alike.
Prints decode tokens/s and time to first token for each, and Hearth ÷ llama-server.

Both servers are started afresh LAUNCHES times. One process pair can be a few per cent apart
for the whole of its life (where its buffers landed, which core its threads took), so one pair
of processes alone would give a verdict with that bias in it. A second llama-server, measured
the same way, is the control: its ratio to the first says how far apart two identical servers
come out, which is how close to 1.0 a verdict can be told from it.
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
LAUNCHES = int(os.environ.get("BENCH_CHAT_LAUNCHES", "3"))
RUNS = int(os.environ.get("BENCH_CHAT_RUNS", "5"))  # per launch


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
    runs: dict[str, list[tuple[float, float, int]]] = {
        "sse": [],
        "v1": [],
        "llama": [],
        "control": [],
    }
    cpu = Cpu()
    for _ in range(LAUNCHES):
        launch(runs, cpu)
    llama_tps, llama_ttft, llama_n = _median(runs["llama"])
    print(
        f"chat bench: SmolLM2, {THREADS} threads, greedy, {MAX_TOKENS} max tokens, "
        f"{LAUNCHES} launches of both servers, {RUNS} runs each (medians of {len(runs['llama'])})"
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
    # Each run against the llama-server run just before it: this machine's drift over the bench
    # (±10 % here) cancels within a pair, so the median of pairs is the verdict.
    for name, key in (
        ("hearth SSE /api", "sse"),
        ("hearth /v1 stream", "v1"),
        ("control: llama-server", "control"),
    ):
        ratios = [h[0] / ll[0] for h, ll in zip(runs[key], runs["llama"], strict=True)]
        extra = [h[1] - ll[1] for h, ll in zip(runs[key], runs["llama"], strict=True)]
        ratio, ttft_extra = statistics.median(ratios), statistics.median(extra)
        per_launch = [statistics.median(ratios[k : k + RUNS]) for k in range(0, len(ratios), RUNS)]
        line = (
            f"  {name:24}: decode ÷ llama-server, median of {len(ratios)} pairs {ratio:.3f} "
            f"(launches {', '.join(f'{r:.3f}' for r in per_launch)}); "
            f"ttft {ttft_extra:+.1f} ms"
        )
        if key != "control":
            verdict = "met" if ratio >= 1.0 and ttft_extra <= 5.0 else "not met"
            line += f" (target >= 1.0 and <= +5 ms: {verdict})"
        print(line)
    # Where Hearth's per-token time goes: the event loop (the main thread: HTTP, SSE framing,
    # the hand-off from the engine) against every other thread (llama.cpp's workers, the decode
    # and generation threads).
    print(
        f"  hearth CPU per token: event loop {1000 * cpu.loop / cpu.tokens:.2f} ms, "
        f"llama.cpp and engine threads {1000 * cpu.rest / cpu.tokens:.2f} ms "
        f"({cpu.tokens} tokens)"
    )
    return 0


class Cpu:
    """Hearth's CPU seconds over its timed runs: the event loop's, and every other thread's."""

    def __init__(self) -> None:
        self.loop = self.rest = 0.0
        self.tokens = 0

    def add(self, pid: int, before: dict[int, float], after: dict[int, float], tokens: int):
        for tid, seconds in after.items():
            spent = seconds - before.get(tid, 0.0)
            if tid == pid:  # the main thread runs the event loop
                self.loop += spent
            else:
                self.rest += spent
        self.tokens += tokens


def launch(runs: dict[str, list[tuple[float, float, int]]], cpu: Cpu) -> None:
    """Both servers (and the control) started afresh, then RUNS rounds of taking turns."""
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        models.mkdir()
        (models / MODEL).symlink_to(MODELS / MODEL)
        server = HearthProcess(Path(tmp) / "data", models, LLAMACPP_N_THREADS=str(THREADS)).start()
        args = ("-c", "4096", "-t", str(THREADS), "-tb", str(THREADS), "-np", "1")
        try:
            assert server.server_pid is not None
            with server.client() as client:  # load the model outside the timings
                client.post("/api/engine/load", json={"model": MODEL}).raise_for_status()
            with (
                llama_server.running(MODELS / MODEL, *args) as url,
                llama_server.running(MODELS / MODEL, *args) as control,
            ):
                for base, headers in ((url, {}), (server.url, server.headers), (control, {})):
                    via_v1(base, headers)  # warm each
                for _ in range(RUNS):
                    runs["llama"].append(via_v1(url, {}))
                    before = thread_cpu(server.server_pid)
                    runs["v1"].append(via_v1(server.url, server.headers))
                    runs["sse"].append(via_sse(server))
                    tokens = runs["v1"][-1][2] + runs["sse"][-1][2]
                    cpu.add(server.server_pid, before, thread_cpu(server.server_pid), tokens)
                    runs["control"].append(via_v1(control, {}))
        finally:
            server.stop()


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
