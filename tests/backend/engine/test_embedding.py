"""Hearth's embedder (several texts per llama_decode, pooled by llama.cpp) against
llama-cpp-python's own `Llama.embed`, driven directly in the same run on the same model."""

from __future__ import annotations

import numpy as np
import pytest
from hearth.engine.embedding import LlamaEmbedder, pack, truncate
from hearth.engine.llama import _load_llama


@pytest.mark.parametrize(
    ("lengths", "budget", "max_seqs", "groups"),
    [
        ([], 512, 16, []),
        ([10], 512, 16, [(0, 1)]),
        ([200, 200, 200], 512, 16, [(0, 2), (2, 3)]),
        ([256, 256, 1], 512, 16, [(0, 2), (2, 3)]),
        ([5] * 5, 512, 2, [(0, 2), (2, 4), (4, 5)]),
        ([600, 10], 512, 16, [(0, 1), (1, 2)]),  # too long: alone (the caller truncated it)
        ([10, 600], 512, 16, [(0, 1), (1, 2)]),
        ([512], 512, 16, [(0, 1)]),
    ],
)
def test_pack_keeps_order_and_fits_each_decode(lengths, budget, max_seqs, groups):
    assert pack(lengths, budget, max_seqs) == groups


@pytest.mark.parametrize(
    ("tokens", "window", "keeps_last", "expected"),
    [
        ([1, 2, 3], 5, True, [1, 2, 3]),
        ([1, 2, 3, 4, 5, 6], 4, True, [1, 2, 3, 6]),  # [SEP] kept at the cut
        ([1, 2, 3, 4, 5, 6], 4, False, [1, 2, 3, 4]),
        ([1, 2, 3], 1, True, [1]),
    ],
)
def test_truncate_keeps_what_the_model_can_read(tokens, window, keeps_last, expected):
    assert truncate(tokens, window, keeps_last) == expected


TEXTS = [
    "The cat sits on the mat.",
    "A kitten is resting on a rug.",
    "Quarterly revenue grew in every region, led by wholesale orders of garden furniture.",
    "Water the basil twice a week, in the morning. " * 12,  # ~130 tokens
    "Stock prices",
    "The Ellery lighthouse was rebuilt in 1893 after a winter storm destroyed its lantern. " * 14,
]


@pytest.fixture(scope="module")
def reference(minilm_path):
    """llama-cpp-python's Llama.embed, which Hearth used before: one text per decode."""
    llm = _load_llama(
        minilm_path, embedding=True, n_ctx=0, n_threads=2, n_gpu_layers=0, verbose=False
    )
    yield np.array(llm.embed(TEXTS, normalize=True), dtype=np.float64), llm
    llm.close()


def cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_batched_vectors_equal_llama_cpp_python_s(minilm_path, reference):
    expected, llm = reference
    # Flash attention off, as Llama.embed runs, which also packs texts into a decode as ours
    # does: the same vectors (seen here: 1 - cos at most 4e-16).
    embedder = LlamaEmbedder("minilm", minilm_path, n_threads=2, flash_attn=False)
    try:
        vectors, n_tokens = embedder.embed(TEXTS)
        # Several texts per decode: 6 texts, ~600 tokens, at least two decodes.
        assert embedder.decoded_tokens == n_tokens
        assert n_tokens == sum(len(llm.tokenize(t.encode())) for t in TEXTS)
        assert np.all(cosines(vectors, expected) > 1 - 1e-5)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        # Each text alone gives its vector in the batch, up to the summation order of another
        # batch shape (seen here: 1 - cos at most 1e-5).
        alone = [embedder.embed([t])[0][0] for t in TEXTS]
        assert np.all(cosines(alone, vectors) > 1 - 1e-4)
    finally:
        embedder.close()


def test_flash_attention_moves_vectors_only_by_rounding(minilm_path, reference):
    expected, _ = reference
    # The default (flash attention as llama-server decides: on for the CPU) computes attention
    # in F16: 1 - cos up to 1.6e-4 from F32 here; a bug (a wrong pooling, a sequence attending
    # to another) moves it by far more.
    embedder = LlamaEmbedder("minilm", minilm_path, n_threads=2)
    try:
        vectors, _ = embedder.embed(TEXTS)
        assert np.all(cosines(vectors, expected) > 1 - 2e-3)
        # Meaning survives: the cat is nearer the kitten than the stock prices.
        sims = cosines([vectors[0]] * 2, [vectors[1], vectors[4]])
        assert sims[0] > sims[1]
    finally:
        embedder.close()


def test_a_long_text_is_cut_to_the_window(minilm_path):
    embedder = LlamaEmbedder("minilm", minilm_path, n_threads=2, flash_attn=False)
    try:
        long = "word " * 2000
        assert len(embedder.tokenize(long)) == embedder.window == 512
        vectors, n_tokens = embedder.embed([long, "short"])
        assert len(vectors) == 2 and n_tokens == 512 + len(embedder.tokenize("short"))
        assert embedder.embed([]) == ([], 0)
    finally:
        embedder.close()
