"""build/synthetic_gguf.py: a llama GGUF of a chosen shape with random weights (the GPU proof's
model) that llama.cpp loads and decodes, with stories260K's tokenizer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def synthetic():
    sys.path.insert(0, str(REPO / "build"))
    try:
        import synthetic_gguf
    finally:
        sys.path.remove(str(REPO / "build"))
    return synthetic_gguf


def test_a_tiny_synthetic_model_loads_and_decodes(synthetic, stories_path, tmp_path):
    from hearth.library.gguf import read_gguf_info
    from hearth.runtime import ggml_backends

    path = synthetic.write(tmp_path / "tiny.gguf", stories_path, synthetic.TINY)
    info = read_gguf_info(path)
    assert info.architecture == "llama" and info.block_count == synthetic.TINY.n_layer
    assert info.embedding_length == synthetic.TINY.n_embd
    llama_cpp = ggml_backends.import_llama_cpp()
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=128, n_threads=2, verbose=False)
    try:
        tokens = llm.tokenize(b"Once upon a time")
        assert tokens == llama_cpp.Llama(
            model_path=str(stories_path), n_ctx=128, vocab_only=True, verbose=False
        ).tokenize(b"Once upon a time")  # the same tokenizer
        out = llm.create_completion("Once upon a time", max_tokens=8, temperature=0)
        assert out["usage"]["completion_tokens"] >= 1
    finally:
        llm.close()


def test_the_proof_model_is_a_billion_parameters(synthetic):
    assert 0.9e9 < synthetic.ONE_B.params < 1.1e9
