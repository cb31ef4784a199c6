"""Our embedding function: text to vectors through ModelManager.embed (llama.cpp, in process).

chromadb never embeds anything itself: Hearth computes every vector here and passes it
explicitly. The counters are what the tests and /api/documents/status read to prove that an
unchanged file costs no embedding.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from hearth.docs.identity import ModelIdentity, task_prefixes
from hearth.errors import HearthError

BATCH = 16  # texts per call: small enough for progress and cancel to stay responsive


@dataclass
class EmbedStats:
    calls: int = 0
    texts: int = 0
    tokens: int = 0
    seconds: float = 0.0  # wall time spent waiting for vectors (queue included)

    def to_dict(self) -> dict[str, float]:
        return {
            "calls": self.calls,
            "texts": self.texts,
            "tokens": self.tokens,
            "seconds": round(self.seconds, 3),
        }


class Embedder:
    def __init__(self, models):
        self.models = models  # ModelManager
        self.stats = EmbedStats()

    async def documents(self, identity: ModelIdentity, texts: Sequence[str]) -> list[list[float]]:
        """Vectors of up to one batch of chunk texts."""
        prefix = task_prefixes(identity.name)[0]
        return await self._embed(identity, [prefix + t for t in texts])

    async def query(self, identity: ModelIdentity, text: str) -> list[float]:
        prefix = task_prefixes(identity.name)[1]
        return (await self._embed(identity, [prefix + text]))[0]

    async def _embed(self, identity: ModelIdentity, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        started = time.perf_counter()
        model_id, vectors, n_tokens = await self.models.embed(identity.name, texts)
        self.stats.seconds += time.perf_counter() - started
        if model_id != identity.name or len(vectors) != len(texts):
            # Never store or compare vectors of a model other than the one asked for.
            raise HearthError(
                f"Asked {identity.name} for {len(texts)} embeddings; got {len(vectors)} "
                f"from {model_id}.",
                code="embedding_failed",
            )
        self.stats.calls += 1
        self.stats.texts += len(texts)
        self.stats.tokens += n_tokens
        return vectors
