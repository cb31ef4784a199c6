"""Documents: ingest rate (pages/s) and search latency at 10,000 chunks, against baselines.

Runs the real pipeline in process (create_app's DocumentService: extraction, chunking with
MiniLM's tokenizer, MiniLM embeddings through llama.cpp, chromadb on disk) and measures, in the
same run:

- ingest: pages per second over generated text (PAGE_WORDS words per page, form-feed separated),
  against raw fixed-size text splitting of the same text (the work any ingester must do), and
  against the embedding model alone (llama-cpp-python) on the very same chunks: the ceiling any
  pipeline on this model and machine can reach. Rounds alternate the two; best of each;
- search: p50/p95 of the vector search itself at 10,000 chunks (our VectorStore.query, chromadb
  HNSW), against a brute-force numpy cosine search over the same vectors; the query's
  embedding is timed apart. The 10,000 vectors are mixtures of real MiniLM chunk vectors plus
  noise (embedding 10,000 chunks for real would take this machine most of an hour).

Targets on the reference machine: ingest >= 20 pages/s; search p95 <= 50 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))

MODELS = Path(os.environ.get("HEARTH_TEST_MODELS", REPO.parent / "shared" / "models"))
EMBEDDER = "all-MiniLM-L6-v2-Q8_0.gguf"
PAGE_WORDS = 300  # a printed book page; a dense single-spaced A4 page holds ~500
FILES, PAGES_PER_FILE, ROUNDS = 4, 6, 2
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


def direct_embedding_seconds(embedder, texts: list[str]) -> float:
    """llama-cpp-python alone, same threads and batches as the app: the ceiling for ingest."""
    t0 = time.perf_counter()
    for i in range(0, len(texts), 16):
        embedder.embed(texts[i : i + 16])
    return time.perf_counter() - t0


async def bench(workdir: Path) -> dict:
    import numpy as np
    from hearth.app import create_app
    from hearth.docs.chunking import chunk_sections, plain_split
    from hearth.docs.extract import extract
    from hearth.docs.ingest import chunk_budget
    from hearth.docs.vectors import chunk_metadata
    from hearth.engine.llama import LlamaEmbedder
    from hearth.settings import Settings

    pages, text = write_corpus(workdir / "corpus")
    app = create_app(Settings.load(env_file=None), "b" * 24)
    async with app.router.lifespan_context(app):
        docs = app.state.documents
        identity = await asyncio.to_thread(docs.identity)
        await docs.embedder.query(identity, "warm up")  # model load is not ingest time

        # -- ingest, against the model alone on the very same chunks ----------------------
        # Rounds alternate the two, so that a busy machine slows both alike; best of each.
        count = await asyncio.to_thread(docs.token_counter, identity)
        size = chunk_budget(app.state.settings.docs_chunk_tokens, identity.context_length)
        overlap = app.state.settings.docs_chunk_overlap
        t0 = time.perf_counter()
        texts = []
        for file in sorted((workdir / "corpus").iterdir()):
            texts += [c.text for c in chunk_sections(extract(file).sections, count, size, overlap)]
        prepare_s = time.perf_counter() - t0
        direct = await asyncio.to_thread(LlamaEmbedder, "direct", identity.path)
        await asyncio.to_thread(direct.embed, ["warm up"])
        ingest_runs, model_runs, embed_shares = [], [], []
        for round_ in range(ROUNDS):
            model_runs.append(await asyncio.to_thread(direct_embedding_seconds, direct, texts))
            library = docs.catalog.create_library(f"bench-{round_}")
            docs.embedder.stats.seconds = 0.0
            started = time.perf_counter()
            job = await docs.start_ingest(library.id, [str(workdir / "corpus")])
            await job.task
            ingest_runs.append(time.perf_counter() - started)
            assert job.status == "done" and job.pages_done == pages, job.to_dict()
            assert sum(r.chunks for r in job.results) == len(texts)
            embed_shares.append(docs.embedder.stats.seconds / ingest_runs[-1])
        direct.close()
        ingest_s, model_s = min(ingest_runs), min(model_runs)

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
        "rounds": ROUNDS,
        "ingest_s": round(ingest_s, 2),
        "pages_per_s": round(pages / ingest_s, 2),
        "baseline_split_pages_per_s": round(pages / split_s, 1),
        "embedding_share": round(max(embed_shares), 3),
        "prepare_pages_per_s": round(pages / prepare_s, 1),
        "model_only_pages_per_s": round(pages / model_s, 2),
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
        f"  extraction + chunking alone: {r['prepare_pages_per_s']} pages/s; the embedding "
        f"model alone on the same chunks: {r['model_only_pages_per_s']} pages/s "
        f"(ingest / model-only = {r['pages_per_s'] / r['model_only_pages_per_s']:.2f})"
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
