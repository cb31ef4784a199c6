"""Chunks: sized in the embedding model's tokens, overlapping, exact slices, located."""

from __future__ import annotations

import pytest
from hearth.docs.chunking import MAX_UNIT_CHARS, chunk_sections, units, windows
from hearth.docs.extract import Section
from hearth.docs.ingest import chunk_budget


def one_per_word(text: str) -> int:
    return 1


@pytest.mark.parametrize(
    ("counts", "size", "overlap", "expected"),
    [
        ([1] * 10, 4, 0, [(0, 4), (4, 8), (8, 10)]),
        ([1] * 10, 4, 1, [(0, 4), (3, 7), (6, 10)]),
        ([1] * 10, 4, 2, [(0, 4), (2, 6), (4, 8), (6, 10)]),
        ([1] * 3, 10, 2, [(0, 3)]),
        ([5, 1, 1], 4, 1, [(0, 1), (1, 3)]),  # a unit bigger than a chunk stands alone
        ([2, 2, 2, 2], 4, 3, [(0, 2), (1, 3), (2, 4)]),
        ([], 4, 1, []),
    ],
)
def test_windows(counts, size, overlap, expected):
    assert windows(counts, size, overlap) == expected


def test_windows_always_advance():
    # Overlap as big as the chunk must not loop forever.
    assert windows([1] * 6, 2, 2) == [(0, 2), (1, 3), (2, 4), (3, 5), (4, 6)]


def test_units_cover_the_words_and_cut_long_ones():
    text = "  alpha beta\n" + "x" * (MAX_UNIT_CHARS * 2 + 3) + " end"
    spans = units(text)
    pieces = [text[a:b] for a, b in spans]
    assert "".join(pieces) == text  # nothing lost, nothing repeated
    assert pieces[:2] == ["  alpha", " beta"]
    assert all(len(p.strip()) <= MAX_UNIT_CHARS for p in pieces)


def test_chunks_are_exact_slices_and_never_span_pages():
    sections = [
        Section("one two three four five six seven", page=1),
        Section("eight nine", page=2),
        Section("ten eleven twelve", heading="Later"),
    ]
    chunks = chunk_sections(sections, one_per_word, size=3, overlap=1)
    assert [(c.text, c.page, c.heading) for c in chunks] == [
        ("one two three", 1, None),
        ("three four five", 1, None),
        ("five six seven", 1, None),
        ("eight nine", 2, None),
        ("ten eleven twelve", None, "Later"),
    ]
    assert [c.index for c in chunks] == list(range(5))
    assert all(c.tokens <= 3 for c in chunks)


def test_overlap_is_capped_at_half_a_chunk():
    chunks = chunk_sections([Section(" ".join(map(str, range(20))))], one_per_word, 4, 100)
    starts = [c.text.split()[0] for c in chunks]
    assert starts == ["0", "2", "4", "6", "8", "10", "12", "14", "16"]


def test_chunk_size_is_capped_by_what_the_model_reads():
    assert chunk_budget(256, 512) == 256
    assert chunk_budget(2048, 512) == 512 - 16
    assert chunk_budget(2048, 8192) == 512 - 16  # llama.cpp's embed truncates at n_batch
    assert chunk_budget(2048, 128) == 128 - 16
    assert chunk_budget(100, None) == 100


def test_real_tokenizer_counts_match_the_model(minilm_path):
    """With MiniLM's own WordPiece tokenizer, a chunk's count is exactly its token count."""
    import llama_cpp
    from hearth.docs.tokens import LlamaTokenCounter

    counter = LlamaTokenCounter(minilm_path)
    try:
        text = (
            "Hearth keeps your documents on this machine. Unbelievably, tokenization of "
            "hyphenated-words, numbers like 3.14159 and café names is consistent.\n\n"
        ) * 12
        chunks = chunk_sections([Section(text)], counter.count, size=48, overlap=8)
        assert len(chunks) > 3
        whole = llama_cpp.Llama(model_path=str(minilm_path), vocab_only=True, verbose=False)
        try:
            for chunk in chunks:
                real = len(whole.tokenize(chunk.text.encode(), add_bos=False, special=False))
                assert chunk.tokens == real
                assert real <= 48
        finally:
            whole.close()
    finally:
        counter.close()
