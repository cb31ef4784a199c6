"""The vector store: one chromadb collection per library, in <data dir>/vectors.

- chromadb is imported on first use, never at app start (it takes over a second to import).
- Telemetry is off, and every collection is opened with `ExplicitVectorsOnly` as its embedding
  function. chromadb falls back to its default embedding function, which downloads an ONNX
  model, whenever a collection is opened without one (even with `embedding_function=None`)
  and text arrives without vectors; ours refuses instead, so that path can never reach the
  network.
- Each collection's metadata records the embedding model (name and sha256) that built it.

Every method is blocking and serialised by one lock: call it from a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearth import heavy
from hearth.errors import HearthError

log = logging.getLogger(__name__)

MODEL_KEY = "hearth_embedding_model"
SHA_KEY = "hearth_embedding_sha256"


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    library_id: str
    document_id: str
    file: str
    text: str
    score: float  # cosine similarity, 1 = same direction
    page: int | None = None
    heading: str | None = None

    def citation(self) -> dict[str, Any]:
        """The shape the UI renders as a clickable source (agreed with the frontend)."""
        out: dict[str, Any] = {"file": self.file}
        if self.page is not None:
            out["page"] = self.page
        if self.heading:
            out["heading"] = self.heading
        out.update(score=round(self.score, 4), chunk_id=self.chunk_id, library_id=self.library_id)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {**self.citation(), "document_id": self.document_id, "text": self.text}


def collection_name(library_id: str) -> str:
    return f"hearth-lib-{library_id}"


_EF_CLASS: list[Any] = []


def _explicit_ef_class():
    """Built on first use, so that defining it does not import chromadb."""
    if _EF_CLASS:
        return _EF_CLASS[0]
    with heavy.imports():
        from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
        from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class ExplicitVectorsOnly(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:
            raise HearthError(
                "Hearth computes embeddings itself and passes them to chromadb explicitly.",
                code="embedding_not_explicit",
            )

        @staticmethod
        def name() -> str:
            return "hearth-explicit-vectors"

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> ExplicitVectorsOnly:
            return ExplicitVectorsOnly()

        def get_config(self) -> dict[str, Any]:
            return {}

        def default_space(self):
            return "cosine"

    _EF_CLASS.append(ExplicitVectorsOnly)
    return ExplicitVectorsOnly


class VectorStore:
    def __init__(self, path: Path):
        self.path = path
        self._client: Any = None
        self._ef: Any = None
        self._lock = threading.RLock()

    @property
    def loaded(self) -> bool:
        return self._client is not None

    def _chroma(self) -> Any:
        if self._client is None:
            self.path.mkdir(parents=True, exist_ok=True)
            # The client imports its components by name as it builds them: all under the lock.
            with heavy.imports():
                import chromadb
                from chromadb.config import Settings as ChromaSettings

                self._client = chromadb.PersistentClient(
                    path=str(self.path),
                    settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
                )
                self._ef = _explicit_ef_class()()
            log.info("vector store at %s", self.path)
        return self._client

    def _get(self, library_id: str) -> Any | None:
        client = self._chroma()
        from chromadb.errors import NotFoundError

        try:
            return client.get_collection(collection_name(library_id), embedding_function=self._ef)
        except NotFoundError:
            return None

    def built_by(self, library_id: str) -> tuple[str, str] | None:
        """(model name, sha256) that built the library's vectors; None when it has none."""
        with self._lock:
            collection = self._get(library_id)
            if collection is None:
                return None
            meta = collection.metadata or {}
            return str(meta.get(MODEL_KEY)), str(meta.get(SHA_KEY))

    def ensure(self, library_id: str, model: str, sha256: str) -> None:
        """Create the library's collection for this model; refuse one built by another."""
        with self._lock:
            collection = self._get(library_id)
            if collection is not None:
                meta = collection.metadata or {}
                if (meta.get(MODEL_KEY), meta.get(SHA_KEY)) != (model, sha256):
                    from hearth.docs.identity import ReindexRequired

                    raise ReindexRequired(
                        f"The vectors of this library were built by {meta.get(MODEL_KEY)}; "
                        f"they cannot be mixed with vectors of {model}. Re-index it."
                    )
                return
            self._chroma().create_collection(
                collection_name(library_id),
                embedding_function=self._ef,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={MODEL_KEY: model, SHA_KEY: sha256},
            )

    def replace_document(
        self,
        library_id: str,
        document_id: str,
        ids: list[str],
        vectors: list[list[float]],
        texts: list[str],
        metadatas: list[dict[str, Any]],
    ) -> None:
        """Swap a document's chunks for new ones (its old chunks leave first)."""
        with self._lock:
            collection = self._get(library_id)
            if collection is None:
                raise HearthError("The library has no vector collection.", code="no_collection")
            collection.delete(where={"document_id": document_id})
            step = self._chroma().get_max_batch_size()
            for i in range(0, len(ids), step):
                collection.add(
                    ids=ids[i : i + step],
                    embeddings=vectors[i : i + step],
                    documents=texts[i : i + step],
                    metadatas=metadatas[i : i + step],
                )

    def delete_document(self, library_id: str, document_id: str) -> None:
        with self._lock:
            collection = self._get(library_id)
            if collection is not None:
                collection.delete(where={"document_id": document_id})

    def drop(self, library_id: str) -> None:
        """Delete the library's whole collection (library deleted, or re-index)."""
        with self._lock:
            client = self._chroma()
            from chromadb.errors import NotFoundError

            with contextlib.suppress(NotFoundError):
                client.delete_collection(collection_name(library_id))

    def library_ids(self) -> set[str]:
        """Ids of the libraries that have a collection here (to find leftovers)."""
        prefix = collection_name("")
        with self._lock:
            names = [c.name for c in self._chroma().list_collections()]
        return {n[len(prefix) :] for n in names if n.startswith(prefix)}

    def count(self, library_id: str) -> int:
        with self._lock:
            collection = self._get(library_id)
            return 0 if collection is None else int(collection.count())

    def query(
        self, library_id: str, vector: list[float], k: int, model: tuple[str, str]
    ) -> list[Hit]:
        """The k nearest chunks; `model` (name, sha256) must be the one that built them."""
        with self._lock:
            collection = self._get(library_id)
            if collection is None:
                return []
            meta = collection.metadata or {}
            if (meta.get(MODEL_KEY), meta.get(SHA_KEY)) != model:
                from hearth.docs.identity import ReindexRequired

                raise ReindexRequired(
                    f"The vectors of this library were built by {meta.get(MODEL_KEY)}; a query "
                    f"embedded by {model[0]} cannot be compared with them. Re-index it."
                )
            result = collection.query(
                query_embeddings=[vector],
                n_results=k,
                include=["documents", "metadatas", "distances"],
            )
        hits = []
        for chunk_id, text, meta, distance in zip(
            result["ids"][0],
            result["documents"][0],
            result["metadatas"][0],
            result["distances"][0],
            strict=True,
        ):
            hits.append(_hit(library_id, chunk_id, text, meta, 1.0 - float(distance)))
        return hits

    def get_chunk(self, library_id: str, chunk_id: str) -> Hit | None:
        with self._lock:
            collection = self._get(library_id)
            if collection is None:
                return None
            result = collection.get(ids=[chunk_id], include=["documents", "metadatas"])
        if not result["ids"]:
            return None
        return _hit(library_id, chunk_id, result["documents"][0], result["metadatas"][0], 1.0)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _hit(library_id: str, chunk_id: str, text: str | None, meta: Any, score: float) -> Hit:
    meta = dict(meta or {})
    page = meta.get("page")
    return Hit(
        chunk_id=chunk_id,
        library_id=library_id,
        document_id=str(meta.get("document_id", "")),
        file=str(meta.get("file", "")),
        text=text or "",
        score=score,
        page=int(page) if page is not None else None,
        heading=meta.get("heading") or None,
    )


def chunk_metadata(document_id: str, file: str, index: int, page, heading) -> dict[str, Any]:
    """Chunk metadata for chromadb, which refuses None values: absent keys mean unknown."""
    meta: dict[str, Any] = {"document_id": document_id, "file": file, "index": index}
    if page is not None:
        meta["page"] = int(page)
    if heading:
        meta["heading"] = heading[:500]
    return meta
