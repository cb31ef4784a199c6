"""Split sections into chunks of at most N tokens with an overlap. Pure: tokens are counted by
the function it is given (the embedding model's own tokenizer in the app).

Text is cut at whitespace between "units" (a word with the whitespace before it), so a chunk is
an exact slice of the source text, never a detokenized approximation of it. The token count of
a chunk is the sum of its units' counts: exact for WordPiece models (BERT, MiniLM, nomic-bert),
whose tokenizer splits at whitespace first anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hearth.docs.extract import Section

# A unit longer than this (a URL, base64, a table without spaces) is cut into pieces, so that
# no single unit can outgrow a chunk.
MAX_UNIT_CHARS = 32
_UNIT = re.compile(r"\s*\S+")


@dataclass(frozen=True)
class Chunk:
    index: int  # position within its document, from 0
    text: str
    tokens: int
    page: int | None = None
    heading: str | None = None


def units(text: str) -> list[tuple[int, int]]:
    """(start, end) spans covering the text's words, each with its leading whitespace."""
    spans = []
    for match in _UNIT.finditer(text):
        start, end = match.span()
        word_start = end - len(match.group().lstrip())
        if end - word_start <= MAX_UNIT_CHARS:
            spans.append((start, end))
            continue
        spans.append((start, word_start + MAX_UNIT_CHARS))
        for cut in range(word_start + MAX_UNIT_CHARS, end, MAX_UNIT_CHARS):
            spans.append((cut, min(cut + MAX_UNIT_CHARS, end)))
    return spans


def windows(counts: Sequence[int], size: int, overlap: int) -> list[tuple[int, int]]:
    """Unit index ranges [i, j) of at most `size` tokens, each starting up to `overlap` tokens
    before the previous one ended. A single unit larger than `size` still gets its own window."""
    ranges = []
    i, n = 0, len(counts)
    while i < n:
        total, j = 0, i
        while j < n and (j == i or total + counts[j] <= size):
            total += counts[j]
            j += 1
        ranges.append((i, j))
        if j >= n:
            break
        back, k = 0, j
        while k > i + 1 and back + counts[k - 1] <= overlap:
            k -= 1
            back += counts[k]
        i = k
    return ranges


def chunk_sections(
    sections: Sequence[Section],
    count: Callable[[str], int],
    size: int,
    overlap: int,
) -> list[Chunk]:
    """Chunks of every section in order; a chunk never spans two pages or two headings."""
    if size < 1:
        raise ValueError("chunk size must be at least 1 token")
    overlap = max(0, min(overlap, size // 2))
    chunks: list[Chunk] = []
    for section in sections:
        text = section.text
        spans = units(text)
        counts = [count(text[a:b]) for a, b in spans]
        for i, j in windows(counts, size, overlap):
            body = text[spans[i][0] : spans[j - 1][1]].strip()
            if body:
                chunks.append(
                    Chunk(len(chunks), body, sum(counts[i:j]), section.page, section.heading)
                )
    return chunks


def plain_split(text: str, size_chars: int, overlap_chars: int) -> list[str]:
    """Fixed-size character windows: the baseline the ingest benchmark compares against."""
    step = max(1, size_chars - overlap_chars)
    return [text[i : i + size_chars] for i in range(0, max(1, len(text)), step)]
