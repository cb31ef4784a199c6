"""The documents feature as one service on app.state: libraries, ingest jobs, search, ask,
files attached in a chat, and the retrieval step of chats whose conversation has libraries.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hearth import netguard
from hearth.docs.catalog import DocCatalog
from hearth.docs.chat_context import PreparedDocs
from hearth.docs.embedder import Embedder
from hearth.docs.extract import MAX_FILE_BYTES
from hearth.docs.identity import (
    HashCache,
    ModelIdentity,
    NoEmbeddingModel,
    ReindexRequired,
    reindex_message,
    resolve_identity,
)
from hearth.docs.ingest import Ingestor
from hearth.docs.jobs import IngestJob, JobQueue
from hearth.docs.leftovers import leftover_ids
from hearth.docs.prompt import fit_with_excerpts
from hearth.docs.records import DocLibrary
from hearth.docs.retrieval import Retriever, SearchResult
from hearth.docs.vectors import Hit, VectorStore
from hearth.engine.base import ChatEngine, ChatMessage, Event, SamplingParams
from hearth.engine.generation import Generation, prompt_budget
from hearth.engine.manager import ModelManager, Queued
from hearth.errors import BadRequest, HearthError, NotFound
from hearth.events import Event as SSEvent
from hearth.library.filenames import check_plain_filename

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from hearth.library.library import ModelLibrary
    from hearth.settings import Settings

log = logging.getLogger(__name__)


class DocumentService:
    def __init__(
        self, settings: Settings, engine: Engine, models: ModelManager, library: ModelLibrary
    ):
        self.settings = settings
        self.models = models
        self.model_library = library  # where the embedding GGUFs are
        self.catalog = DocCatalog(engine)
        self.vectors = VectorStore(settings.data_dir / "vectors")
        self.uploads_dir = settings.data_dir / "documents"
        self.embedder = Embedder(models)
        self.hashes = HashCache(settings.data_dir / "embedding-model-hashes.json")
        self._counters: dict[tuple[str, str], Any] = {}
        self._counters_lock = threading.Lock()
        self.ingestor = Ingestor(
            self.catalog,
            self.vectors,
            self.embedder,
            self.identity,
            self.token_counter,
            settings.docs_chunk_tokens,
            settings.docs_chunk_overlap,
        )
        self.retriever = Retriever(self.vectors, self.embedder, self.identity)
        self.jobs = JobQueue(self.ingestor.run)

    # -- the embedding model -----------------------------------------------------------------

    def identity(self) -> ModelIdentity:
        """The embedding model in use now (blocking: scans the models folder, hashes once)."""
        return resolve_identity(self.model_library, self.settings.docs_embedding_model, self.hashes)

    def token_counter(self, identity: ModelIdentity) -> Callable[[str], int]:
        """The count function of the model's own tokenizer, loaded once per model."""
        from hearth.docs.tokens import LlamaTokenCounter

        key = (identity.name, identity.sha256)
        with self._counters_lock:
            counter = self._counters.get(key)
            if counter is None:
                for old in self._counters.values():
                    old.close()
                self._counters.clear()
                counter = self._counters[key] = LlamaTokenCounter(identity.path)
        return counter.count

    def status(self) -> dict[str, Any]:
        try:
            current: dict[str, Any] | None = self.identity().to_dict()
            problem = None
        except NoEmbeddingModel as exc:
            current, problem = None, exc.to_dict()
        return {
            "embedding_model": current,
            "embedding_problem": problem,
            "embedder": self.embedder.stats.to_dict(),
            "vector_store_loaded": self.vectors.loaded,
            "network_guard": netguard.installed(),
            "settings": {
                "top_k": self.settings.docs_top_k,
                "min_score": self.settings.docs_min_score,
                "chunk_tokens": self.settings.docs_chunk_tokens,
                "chunk_overlap": self.settings.docs_chunk_overlap,
            },
        }

    # -- libraries -----------------------------------------------------------------------------

    def describe(self, libraries: list[DocLibrary]) -> list[dict[str, Any]]:
        """Libraries with their counts and whether they can be searched with today's model."""
        stats = self.catalog.stats()
        try:
            current: ModelIdentity | None = self.identity()
        except NoEmbeddingModel:
            current = None
        out = []
        for library in libraries:
            counts = stats.get(
                library.id, {"documents": 0, "indexed": 0, "failed": 0, "pending": 0, "chunks": 0}
            )
            state, message = "ready", None
            if current is None:
                state, message = "no_embedding_model", "No embedding model is installed."
            elif library.embedding_model and not current.same_as(
                library.embedding_model, library.embedding_sha256
            ):
                state = "reindex_required"
                message = reindex_message(library.name, library.embedding_model, current.name)
            elif counts["chunks"] == 0:
                state = "empty"
            jobs = self.jobs.active(library.id)
            out.append(
                {
                    **library.to_dict(),
                    **counts,
                    "state": state,
                    "state_message": message,
                    "active_job": jobs[0].to_dict(results=False) if jobs else None,
                }
            )
        return out

    async def delete_library(self, library_id: str) -> None:
        await asyncio.to_thread(self.catalog.library, library_id)
        await self.jobs.cancel_library(library_id)
        await asyncio.to_thread(self.vectors.drop, library_id)
        await asyncio.to_thread(self.catalog.delete_library, library_id)
        folder = self.uploads_dir / library_id
        await asyncio.to_thread(shutil.rmtree, folder, True)

    async def delete_document(self, library_id: str, document_id: str) -> dict[str, Any]:
        document = await asyncio.to_thread(self.catalog.document, library_id, document_id)
        await asyncio.to_thread(self.vectors.delete_document, library_id, document_id)
        await asyncio.to_thread(self.catalog.delete_document, library_id, document_id)
        uploaded = Path(document.path)
        if uploaded.parent == self.uploads_dir / library_id:
            await asyncio.to_thread(uploaded.unlink, True)
        return document.to_dict()

    # -- ingest --------------------------------------------------------------------------------

    async def start_ingest(self, library_id: str, paths: list[str]) -> IngestJob:
        clean = [_local_path(p) for p in paths]
        await self._check_model(library_id)
        return self.jobs.submit(IngestJob(library_id, "ingest", clean))

    async def _check_model(self, library_id: str) -> None:
        """Refuse at once (the job would too) when there is no model or it is not the one
        that built the library: new vectors must never join vectors of another model."""
        library = await asyncio.to_thread(self.catalog.library, library_id)
        current = await asyncio.to_thread(self.identity)
        if library.embedding_model and not current.same_as(
            library.embedding_model, library.embedding_sha256
        ):
            raise ReindexRequired(
                reindex_message(library.name, library.embedding_model, current.name)
            )

    async def start_reindex(self, library_id: str) -> IngestJob:
        await asyncio.to_thread(self.catalog.library, library_id)
        await asyncio.to_thread(self.identity)  # no model: say so now, not inside the job
        return self.jobs.submit(IngestJob(library_id, "reindex", []))

    async def upload(self, library_id: str, filename: str, body: AsyncIterable[bytes]) -> IngestJob:
        """Store an uploaded file in the library's folder, then ingest it."""
        name = upload_name(filename)
        await self._check_model(library_id)
        folder = self.uploads_dir / library_id
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".upload-{os.getpid()}-{id(body)}"
        size = 0
        try:
            with tmp.open("wb") as fh:
                async for block in body:
                    size += len(block)
                    if size > MAX_FILE_BYTES:
                        raise HearthError(
                            f"The file is larger than {MAX_FILE_BYTES // 2**20} MiB.",
                            code="body_too_large",
                            status=413,
                        )
                    await asyncio.to_thread(fh.write, block)
            os.replace(tmp, folder / name)
        finally:
            tmp.unlink(missing_ok=True)
        return self.jobs.submit(IngestJob(library_id, "ingest", [str(folder / name)]))

    # -- files attached in a chat --------------------------------------------------------------

    async def attach_file(
        self, conversation_id: str, filename: str, body: AsyncIterable[bytes]
    ) -> IngestJob:
        """Store a file in the conversation's own library (made on the first one), then ingest."""
        # A bad name, an unknown chat or no embedding model: refused before the library is
        # made, which would be left empty.
        upload_name(filename)
        library = await asyncio.to_thread(self.catalog.own_library, conversation_id)
        if library is None:
            await asyncio.to_thread(self.identity)
            library = await asyncio.to_thread(
                self.catalog.own_library, conversation_id, create=True
            )
        assert library is not None
        return await self.upload(library.id, filename, body)

    async def attachments(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's own library (None before a first file), its files, running jobs."""
        library = await asyncio.to_thread(self.catalog.own_library, conversation_id)
        if library is None:
            return {"library": None, "documents": [], "jobs": []}
        described = (await asyncio.to_thread(self.describe, [library]))[0]
        documents = await asyncio.to_thread(self.catalog.documents, library.id)
        return {
            "library": described,
            "documents": [d.to_dict() for d in documents],
            "jobs": [j.to_dict(results=False) for j in self.jobs.active(library.id)],
        }

    async def release_conversation(self, conversation_id: str) -> list[str]:
        """Before a conversation is deleted: the ids of its own libraries, their ingest stopped.

        Never raises: the conversation's delete must not depend on the documents' cleanup.
        """
        try:
            ids = await asyncio.to_thread(self.catalog.owned_by, conversation_id)
            for library_id in ids:
                await self.jobs.cancel_library(library_id)
            return ids
        except Exception:
            log.exception("could not stop the ingest of conversation %s's files", conversation_id)
            return []

    async def purge(self, library_ids: list[str]) -> None:
        """After their rows went with the conversation: the vectors and stored copies, and
        whatever an earlier purge left. Never raises; a leftover goes at the next purge, and
        stored copies at the next start."""
        if not library_ids:
            return
        try:
            await asyncio.to_thread(self._purge, library_ids)
        except Exception:
            log.exception("could not remove the vectors or files of libraries %s", library_ids)

    def _purge(self, library_ids: list[str]) -> None:
        for library_id in library_ids:
            self.vectors.drop(library_id)
            shutil.rmtree(self.uploads_dir / library_id, ignore_errors=True)
        self.sweep_leftovers(vectors=True)

    def sweep_leftovers(self, *, vectors: bool) -> None:
        """Remove stored uploads (and, with `vectors`, collections) of libraries no longer
        in the catalog. Blocking; `vectors` opens chromadb, which app start avoids."""
        known = self.catalog.library_ids()
        if self.uploads_dir.is_dir():
            folders = [p.name for p in self.uploads_dir.iterdir() if p.is_dir()]
            for library_id in leftover_ids(folders, known):
                log.info("removing the stored files of deleted library %s", library_id)
                shutil.rmtree(self.uploads_dir / library_id, ignore_errors=True)
        if vectors:
            for library_id in leftover_ids(self.vectors.library_ids(), known):
                log.info("removing the vectors of deleted library %s", library_id)
                self.vectors.drop(library_id)

    # -- search and ask ------------------------------------------------------------------------

    async def search(
        self, library_id: str, query: str, k: int | None, min_score: float | None
    ) -> SearchResult:
        library = await asyncio.to_thread(self.catalog.library, library_id)
        return await self.retriever.search(
            [library],
            query,
            k or self.settings.docs_top_k,
            self.settings.docs_min_score if min_score is None else min_score,
            strict=True,
        )

    async def chunk(self, library_id: str, chunk_id: str) -> dict[str, Any]:
        await asyncio.to_thread(self.catalog.library, library_id)
        hit = await asyncio.to_thread(self.vectors.get_chunk, library_id, chunk_id)
        if hit is None:
            raise NotFound(f"chunk {chunk_id} not found", code="chunk_not_found")
        out = hit.to_dict()
        out.pop("score")
        try:
            document = await asyncio.to_thread(self.catalog.document, library_id, hit.document_id)
            out["path"] = document.path
        except NotFound:
            out["path"] = None
        return out

    async def ask(
        self,
        library_id: str,
        question: str,
        params: SamplingParams,
        model: str | None,
        k: int | None,
        min_score: float | None,
        cancel: threading.Event,
    ) -> AsyncIterator[SSEvent]:
        """Retrieve first (errors are plain HTTP errors), then stream the answer as events."""
        found = await self.search(library_id, question, k, min_score)
        return self._answer(found, question, params, model, cancel)

    async def _answer(
        self,
        found: SearchResult,
        question: str,
        params: SamplingParams,
        model: str | None,
        cancel: threading.Event,
    ) -> AsyncIterator[SSEvent]:
        used: list[Hit] = []
        system = self.settings.system_prompt or None

        def job(engine: ChatEngine, cancel: threading.Event) -> Iterator[Event]:
            budget = prompt_budget(engine.n_ctx, params.max_tokens)
            turns = [ChatMessage("user", question)]
            messages, chosen = fit_with_excerpts(
                system, turns, found.hits, engine.count_chat_tokens, budget
            )
            used.extend(chosen)
            return engine.stream_chat(messages, params, cancel)

        generation = Generation(self.models, model, job, cancel)
        announced = False
        timings = {"embed_ms": found.embed_ms, "search_ms": found.search_ms}
        try:
            async for event in generation.events():
                if isinstance(event, Queued):
                    yield "queued", {"position": event.position}
                    continue
                if not announced:
                    announced = True
                    citations = [h.citation() for h in used]
                    yield "citations", {"citations": citations, "timings": timings}
                yield "delta", {"content": event.text}
        except HearthError as exc:
            yield "error", exc.to_dict()
            return
        if not announced and generation.finished:  # an empty answer still names its sources
            yield "citations", {"citations": [h.citation() for h in used], "timings": timings}
        finish = generation.finish
        yield (
            "done",
            {
                "content": generation.text,
                "citations": [h.citation() for h in used],
                "finish_reason": finish.reason,
                "model": generation.model_id or model,
                "prompt_tokens": finish.prompt_tokens,
                "completion_tokens": finish.completion_tokens,
                "timings": timings,
            },
        )

    # -- conversations -------------------------------------------------------------------------

    async def prepare(self, conversation_id: str, turns: list[ChatMessage]) -> PreparedDocs | None:
        """The chat hook: excerpts for the newest question from the attached libraries.

        Never raises: a library that cannot be searched becomes a notice and the chat goes on.
        """
        try:
            libraries = await asyncio.to_thread(self.catalog.attached, conversation_id)
        except HearthError:
            return None
        if not libraries or not turns or turns[-1].role != "user":
            return None
        ids = [lib.id for lib in libraries]
        try:
            found = await self.retriever.search(
                libraries,
                turns[-1].content,
                self.settings.docs_top_k,
                self.settings.docs_min_score,
                strict=False,
            )
        except HearthError as exc:
            return PreparedDocs(ids, [], [exc.to_dict()])
        except Exception as exc:
            log.exception("retrieval for chat failed")
            return PreparedDocs(ids, [], [{"code": "retrieval_failed", "message": str(exc)}])
        return PreparedDocs(ids, found.hits, found.skipped)

    async def aclose(self) -> None:
        await self.jobs.aclose()
        with self._counters_lock:
            for counter in self._counters.values():
                counter.close()
            self._counters.clear()
        await asyncio.to_thread(self.vectors.close)


def _local_path(raw: str) -> str:
    """Local paths only, absolute after ~ expansion: a relative one would depend on our cwd."""
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise BadRequest(f"{raw!r} is not an absolute path.", code="relative_path")
    return str(path.resolve(strict=False))


# Below every common file system's limit of 255 bytes, with room for a suffix of our own.
MAX_STORED_NAME_BYTES = 200


def upload_name(filename: str) -> str:
    """The name an upload is kept under: the route allows only plain names
    (hearth.api.params.PlainFileName); one too long in bytes for a file system is shortened,
    keeping its extension. Pure."""
    name = check_plain_filename(filename)
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 16:
        stem, dot, suffix = name, "", ""
    while len(f"{stem}{dot}{suffix}".encode()) > MAX_STORED_NAME_BYTES:
        stem = stem[:-1]
    return f"{stem.rstrip(' .')}{dot}{suffix}"
