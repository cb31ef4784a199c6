"""Documents: ingest rate (pages/s) and search latency at 10,000 chunks, against baselines.

Runs the real pipeline in process (create_app's DocumentService: extraction, chunking with
MiniLM's tokenizer, MiniLM embeddings through llama.cpp, chromadb on disk) and measures, in the
same run:

- ingest: pages per second over generated text (PAGE_WORDS words per page, form-feed separated),
  against raw fixed-size text splitting of the same text (the work any ingester must do), and
  against embedding the very same chunks alone: Hearth's embedder (hearth.engine.embedding),
  llama-cpp-python's `Llama.embed` (what Hearth used before), and llama.cpp's own
  `llama-server --embeddings` (bench/llama_server.py), each at 1 and 2 threads where the machine
  has them; plus the tokens/s of llama_decode alone and its share of ingest time. Rounds
  interleave every variant, so that a busy machine slows all alike; best of each;
- search: p50/p95 of the vector search itself at 10,000 chunks (our VectorStore.query, chromadb
  HNSW), against a brute-force numpy cosine search over the same vectors; the query's
  embedding is timed apart. The 10,000 vectors are mixtures of real MiniLM chunk vectors plus
  noise (embedding 10,000 chunks for real would take this machine most of an hour).

Targets on the reference machine: ingest >= 20 pages/s; search p95 <= 50 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))
sys.path.insert(0, str(REPO / "bench"))
import llama_server  # noqa: E402

MODELS = Path(os.environ.get("HEARTH_TEST_MODELS", REPO.parent / "shared" / "models"))
EMBEDDER = "all-MiniLM-L6-v2-Q8_0.gguf"
PAGE_WORDS = 300  # a printed book page; a dense single-spaced A4 page holds ~500
FILES, PAGES_PER_FILE, ROUNDS = 4, 6, 3
N_CHUNKS, SEARCH_RUNS, K = 10_000, 200, 4
TARGET_PAGES_S, TARGET_P95_MS = 20.0, 50.0

# One string reads better than a 170-line literal.
WORDS = (  # noqa: SIM905
    "the of and to in is was for that with as on by at from his her they this which be are "
    "had have not but one all were when we there can an been has more if will would who so "
    "time people year way day man thing woman life child world school state family student "
    "group country problem hand part place case week company system program question work "
    "government number night point home water room mother area money story fact month lot "
    "right study book eye job word business issue side kind head house service friend "
    "father power hour game line end member law car city community name president team "
    "minute idea kid body information back parent face others level office door health "
    "person art war history party result change morning reason research girl guy moment "
    "air teacher force education harbour lighthouse river garden bread engine library "
    "window paper lamp storm quietly slowly carefully rebuilt measured written opened "
    "carried noticed remembered"
).split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def page(rng: random.Random) -> str:
    out, n = [], 0
    while n < PAGE_WORDS:
        s = sentence(rng)
        out.append(s)
        n += len(s.split())
    paragraphs = [" ".join(out[i : i + 5]) for i in range(0, len(out), 5)]
    return "\n\n".join(paragraphs)


def write_corpus(folder: Path) -> tuple[int, str]:
    rng = random.Random(7)
    folder.mkdir()
    texts = []
    for i in range(FILES):
        text = "\f".join(page(rng) for _ in range(PAGES_PER_FILE))
        (folder / f"generated-{i}.txt").write_text(text)
        texts.append(text)
    return FILES * PAGES_PER_FILE, "\f".join(texts)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def embedding_seconds(embed, texts: list[str], batch: int) -> float:
    """One embedding path over the chunks, in the app's batches (`embed` takes a list)."""
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch):
        embed(texts[i : i + batch])
    return time.perf_counter() - t0


def server_embed(client, url: str):
    """llama-server's OpenAI endpoint, a batch of inputs per request (it fills its slots)."""

    def embed(texts: list[str]) -> None:
        r = client.post(f"{url}/v1/embeddings", json={"input": texts, "model": EMBEDDER})
        r.raise_for_status()
        assert len(r.json()["data"]) == len(texts)

    return embed


def server_args(threads: int, decode_tokens: int, slots: int) -> tuple[str, ...]:
    # No --pooling: the GGUF says mean (bert.pooling_type = 1) and the server reads it. Flash
    # attention stays at its default (auto: on for the CPU), as Hearth's embedder asks too.
    return (
        *("--embeddings", "-t", str(threads), "-tb", str(threads)),
        *("-b", str(decode_tokens), "-ub", str(decode_tokens)),
        *("-np", str(slots), "-c", str(512 * slots)),
    )


async def bench(workdir: Path) -> dict:
    import numpy as np
    from hearth.app import create_app
    from hearth.docs.chunking import chunk_sections, plain_split
    from hearth.docs.embedder import BATCH
    from hearth.docs.extract import extract
    from hearth.docs.ingest import chunk_budget
    from hearth.docs.vectors import chunk_metadata
    from hearth.engine.embedding import LlamaEmbedder
    from hearth.engine.llama import _load_llama
    from hearth.settings import Settings

    pages, text = write_corpus(workdir / "corpus")
    app = create_app(Settings.load(env_file=None), "b" * 24)
    async with app.router.lifespan_context(app):
        docs = app.state.documents
        identity = await asyncio.to_thread(docs.identity)
        await docs.embedder.query(identity, "warm up")  # model load is not ingest time
        in_app = app.state.models._embedder  # the app's own LlamaEmbedder: its decode timer

        # -- ingest, against embedding alone on the very same chunks ------------------------
        count = await asyncio.to_thread(docs.token_counter, identity)
        size = chunk_budget(app.state.settings.docs_chunk_tokens, identity.context_length)
        overlap = app.state.settings.docs_chunk_overlap
        t0 = time.perf_counter()
        texts = []
        for file in sorted((workdir / "corpus").iterdir()):
            texts += [c.text for c in chunk_sections(extract(file).sections, count, size, overlap)]
        prepare_s = time.perf_counter() - t0
        app_threads = in_app.n_threads
        threads = sorted({1, min(2, os.cpu_count() or 1)})
        ours = {
            t: await asyncio.to_thread(LlamaEmbedder, f"t{t}", identity.path, n_threads=t)
            for t in threads
        }
        before = await asyncio.to_thread(
            _load_llama,
            identity.path,
            embedding=True,
            n_ctx=0,
            n_threads=app_threads,
            n_threads_batch=app_threads,
            n_gpu_layers=0,
            verbose=False,
        )
        paths: dict[str, object] = {f"hearth_embedder_{t}t": e.embed for t, e in ours.items()}
        paths[f"llama_cpp_python_embed_{app_threads}t"] = lambda batch: before.embed(
            batch, normalize=True
        )
        runs: dict[str, list[float]] = {name: [] for name in (*paths, "ingest")}
        decode: dict[int, list[float]] = {t: [] for t in threads}
        ingest_decode_share = []
        with contextlib.ExitStack() as stack:
            client = stack.enter_context(httpx.Client(timeout=600))
            for t in threads:
                url = stack.enter_context(
                    llama_server.running(identity.path, *server_args(t, in_app.decode_tokens, 16))
                )
                paths[f"llama_server_{t}t"] = server_embed(client, url)
                runs[f"llama_server_{t}t"] = []
            for embed in paths.values():
                await asyncio.to_thread(embed, ["warm up"])
            for round_ in range(ROUNDS):
                for e in ours.values():
                    e.decode_seconds, e.decoded_tokens = 0.0, 0
                for name, embed in paths.items():
                    runs[name].append(
                        await asyncio.to_thread(embedding_seconds, embed, texts, BATCH)
                    )
                for t, e in ours.items():  # llama_decode alone, inside the runs just timed
                    decode[t].append(e.decoded_tokens / e.decode_seconds)
                library = docs.catalog.create_library(f"bench-{round_}")
                docs.embedder.stats.seconds = 0.0
                in_app.decode_seconds = 0.0
                started = time.perf_counter()
                job = await docs.start_ingest(library.id, [str(workdir / "corpus")])
                await job.task
                runs["ingest"].append(time.perf_counter() - started)
                assert job.status == "done" and job.pages_done == pages, job.to_dict()
                assert sum(r.chunks for r in job.results) == len(texts)
                ingest_decode_share.append(in_app.decode_seconds / runs["ingest"][-1])
        tokens = sum(len(e) for e in map(ours[threads[-1]].tokenize, texts))
        for e in ours.values():
            e.close()
        before.close()
        best = {name: min(seconds) for name, seconds in runs.items()}
        ingest_s = best["ingest"]
        embed_share = docs.embedder.stats.seconds / runs["ingest"][-1]

        t0 = time.perf_counter()
        for _ in range(20):
            plain_split(text, 1000, 128)
        split_s = (time.perf_counter() - t0) / 20

        # -- search at N_CHUNKS ------------------------------------------------------------
        real = np.array(
            await docs.embedder.documents(identity, [c for c in plain_split(text, 600, 0)][:96]),
            dtype=np.float32,
        )
        rng = np.random.default_rng(3)
        picks = rng.integers(0, len(real), size=(N_CHUNKS, 3))
        weights = rng.dirichlet([1.0, 1.0, 1.0], size=N_CHUNKS).astype(np.float32)
        vectors = np.einsum("nk,nkd->nd", weights, real[picks])
        vectors += rng.normal(0, 0.02, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        big = docs.catalog.create_library("bench-10k")
        await asyncio.to_thread(docs.vectors.ensure, big.id, identity.name, identity.sha256)
        t0 = time.perf_counter()
        per_doc = 500
        for d in range(N_CHUNKS // per_doc):
            rows = range(d * per_doc, (d + 1) * per_doc)
            doc_id = f"doc{d:03}"
            await asyncio.to_thread(
                docs.vectors.replace_document,
                big.id,
                doc_id,
                [f"{doc_id}:{i}" for i in rows],
                vectors[d * per_doc : (d + 1) * per_doc].tolist(),
                [f"synthetic chunk {i}" for i in rows],
                [chunk_metadata(doc_id, f"{doc_id}.txt", i, i % 30 + 1, None) for i in rows],
            )
        insert_s = time.perf_counter() - t0
        assert docs.vectors.count(big.id) == N_CHUNKS

        questions = [sentence(random.Random(100 + i)) for i in range(30)]
        embed_ms, queries = [], []
        for question in questions:
            t0 = time.perf_counter()
            queries.append(await docs.embedder.query(identity, question))
            embed_ms.append((time.perf_counter() - t0) * 1000)
        model = (identity.name, identity.sha256)
        ours, brute = [], []
        agree = 0
        for i in range(SEARCH_RUNS):
            q = queries[i % len(queries)]
            t0 = time.perf_counter()
            hits = docs.vectors.query(big.id, q, K, model)
            ours.append((time.perf_counter() - t0) * 1000)
            qv = np.asarray(q, dtype=np.float32)
            t0 = time.perf_counter()
            scores = vectors @ qv
            top = np.argpartition(-scores, K)[:K]
            top = top[np.argsort(-scores[top])]
            brute.append((time.perf_counter() - t0) * 1000)
            agree += hits[0].chunk_id == f"doc{top[0] // per_doc:03}:{top[0]}"
    return {
        "pages": pages,
        "page_words": PAGE_WORDS,
        "chunks": len(texts),
        "tokens": tokens,
        "rounds": ROUNDS,
        "app_threads": app_threads,
        "ingest_s": round(ingest_s, 2),
        "pages_per_s": round(pages / ingest_s, 2),
        "baseline_split_pages_per_s": round(pages / split_s, 1),
        "embedding_share": round(embed_share, 3),
        "decode_share": round(max(ingest_decode_share), 3),
        "prepare_pages_per_s": round(pages / prepare_s, 1),
        "paths_pages_per_s": {
            name: round(pages / seconds, 2) for name, seconds in best.items() if name != "ingest"
        },
        "decode_tokens_per_s": {f"{t}t": round(max(v)) for t, v in decode.items()},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "search_chunks": N_CHUNKS,
        "insert_10k_s": round(insert_s, 2),
        "search_ms_p50": round(pct(ours, 0.50), 2),
        "search_ms_p95": round(pct(ours, 0.95), 2),
        "numpy_ms_p50": round(pct(brute, 0.50), 3),
        "numpy_ms_p95": round(pct(brute, 0.95), 3),
        "top1_agreement_with_exact": round(agree / SEARCH_RUNS, 3),
        "query_embed_ms_p50": round(statistics.median(embed_ms), 2),
        "query_embed_ms_p95": round(pct(embed_ms, 0.95), 2),
    }


def main() -> int:
    if not (MODELS / EMBEDDER).is_file():
        print(f"skipped: {EMBEDDER} not found in {MODELS} (set HEARTH_TEST_MODELS)")
        return 0
    with tempfile.TemporaryDirectory(prefix="hearth-bench-docs-") as tmp:
        workdir = Path(tmp)
        models = workdir / "models"
        models.mkdir()
        (models / EMBEDDER).symlink_to(MODELS / EMBEDDER)
        os.environ.update(
            HEARTH_DATA_DIR=str(workdir / "data"),
            HEARTH_MODELS_DIR=str(models),
            HEARTH_DOCS_EMBEDDING_MODEL=EMBEDDER,
        )
        r = asyncio.run(bench(workdir))
    ingest_ratio = r["pages_per_s"] / r["baseline_split_pages_per_s"]
    search_ratio = r["search_ms_p95"] / max(r["numpy_ms_p95"], 1e-6)
    print(
        f"ingest: {r['pages']} pages ({r['page_words']} words each, {r['chunks']} chunks) in "
        f"{r['ingest_s']} s = {r['pages_per_s']} pages/s "
        f"(target >= {TARGET_PAGES_S}: {'met' if r['pages_per_s'] >= TARGET_PAGES_S else 'MISSED'})"
    )
    print(
        f"  baseline raw splitting: {r['baseline_split_pages_per_s']} pages/s; ratio "
        f"{ingest_ratio:.2e}; waiting for embeddings: {r['embedding_share']:.0%} of ingest time"
    )
    print(
        f"  extraction + chunking alone: {r['prepare_pages_per_s']} pages/s; llama_decode alone "
        f"is {r['decode_share']:.0%} of ingest time"
    )
    print(f"  {'same chunks, embedding only':34} {'pages/s':>8} {'ingest / it':>12}")
    print(f"  {'hearth ingest (whole pipeline)':34} {r['pages_per_s']:8.2f} {1:12.2f}")
    for name, rate in r["paths_pages_per_s"].items():
        print(f"  {name:34} {rate:8.2f} {r['pages_per_s'] / rate:12.2f}")
    per_page = r["tokens"] / r["pages"]
    for t, rate in r["decode_tokens_per_s"].items():
        print(
            f"  llama_decode alone, {t}: {rate} tokens/s = {rate / per_page:.1f} pages/s "
            f"({per_page:.0f} tokens a page)"
        )
    print(
        f"search at {r['search_chunks']} chunks: p50 {r['search_ms_p50']} ms, "
        f"p95 {r['search_ms_p95']} ms "
        f"(target p95 <= {TARGET_P95_MS}: "
        f"{'met' if r['search_ms_p95'] <= TARGET_P95_MS else 'MISSED'})"
    )
    print(
        f"  baseline numpy brute force: p50 {r['numpy_ms_p50']} ms, p95 {r['numpy_ms_p95']} ms; "
        f"p95 ratio {search_ratio:.1f}x; top-1 agreement {r['top1_agreement_with_exact']:.0%}"
    )
    print(
        f"  query embedding (separate): p50 {r['query_embed_ms_p50']} ms, "
        f"p95 {r['query_embed_ms_p95']} ms; inserting 10k vectors took {r['insert_10k_s']} s"
    )
    print(f"  machine: {r['cpus']} CPUs, load average {r['load_average']} during the run")
    print(json.dumps({"bench": "docs", **r}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
