"""Find the chunks nearest a question in one or more libraries, never across two models."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hearth.docs.embedder import Embedder
from hearth.docs.identity import ModelIdentity, ReindexRequired, reindex_message
from hearth.docs.records import DocLibrary
from hearth.docs.vectors import Hit, VectorStore
from hearth.errors import HearthError


@dataclass
class SearchResult:
    hits: list[Hit]
    model: ModelIdentity | None
    embed_ms: float | None  # the query's embedding, reported apart from the search itself
    search_ms: float
    candidates: int = 0  # hits before the minimum score was applied
    skipped: list[dict[str, str]] = field(default_factory=list)  # libraries left out, and why

    def to_dict(self) -> dict[str, Any]:
        return {
            "results": [h.to_dict() for h in self.hits],
            "embedding_model": self.model.to_dict() if self.model else None,
            "timings": {"embed_ms": self.embed_ms, "search_ms": self.search_ms},
            "candidates": self.candidates,
            "skipped": self.skipped,
        }


def merge_hits(per_library: Sequence[Sequence[Hit]], k: int, min_score: float) -> list[Hit]:
    """The k best hits over all libraries at or above min_score, best first. Pure."""
    merged = [h for hits in per_library for h in hits if h.score >= min_score]
    merged.sort(key=lambda h: (-h.score, h.chunk_id))
    return merged[:k]


class Retriever:
    def __init__(
        self,
        vectors: VectorStore,
        embedder: Embedder,
        identity: Callable[[], ModelIdentity],
    ):
        self.vectors = vectors
        self.embedder = embedder
        self.identity = identity

    async def search(
        self,
        libraries: Sequence[DocLibrary],
        query: str,
        k: int,
        min_score: float,
        *,
        strict: bool,
    ) -> SearchResult:
        """`strict`: a library built by another model is an error (search, ask); otherwise it
        is left out with its reason (chat keeps answering)."""
        usable: list[DocLibrary] = []
        skipped: list[dict[str, str]] = []
        built = [lib for lib in libraries if lib.embedding_model]
        if not built:
            return SearchResult([], None, None, 0.0, skipped=skipped)
        identity = await asyncio.to_thread(self.identity)
        for library in built:
            if identity.same_as(library.embedding_model, library.embedding_sha256):
                usable.append(library)
                continue
            problem = ReindexRequired(
                reindex_message(library.name, library.embedding_model, identity.name)
            )
            if strict:
                raise problem
            skipped.append({"library_id": library.id, **problem.to_dict()})
        if not usable:
            return SearchResult([], identity, None, 0.0, skipped=skipped)
        started = time.perf_counter()
        vector = await self.embedder.query(identity, query)
        embedded = time.perf_counter()
        per_library = []
        for library in usable:
            try:
                hits = await asyncio.to_thread(
                    self.vectors.query, library.id, vector, k, (identity.name, identity.sha256)
                )
            except HearthError as exc:
                if strict:
                    raise
                skipped.append({"library_id": library.id, **exc.to_dict()})
                continue
            per_library.append(hits)
        finished = time.perf_counter()
        candidates = sum(len(h) for h in per_library)
        return SearchResult(
            merge_hits(per_library, k, min_score),
            identity,
            round((embedded - started) * 1000, 2),
            round((finished - embedded) * 1000, 2),
            candidates,
            skipped,
        )
