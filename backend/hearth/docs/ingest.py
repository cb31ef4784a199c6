"""What an ingest job does: find the files, skip unchanged ones, extract, chunk, embed, store.

Per file, in this order: hash; skip if indexed with the same hash; extract (a bad file gets
its reason and the batch goes on); chunk; embed in batches (progress, cancel); swap the
document's chunks in the vector store; record the document. A cancelled or crashed file
leaves its previous state untouched, and its row `pending` if it is new, so the next run does it.

The reading half of a file (hash, extract, chunk: no writes) runs one file ahead, while the
file before it embeds, so the embedding model never waits for a PDF parser between files.
Everything that writes stays in file order.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hearth.docs.catalog import DocCatalog
from hearth.docs.chunking import Chunk, chunk_sections
from hearth.docs.embedder import BATCH, Embedder
from hearth.docs.extract import SUPPORTED, Extracted, Unusable, extract, kind_for
from hearth.docs.identity import ModelIdentity, ReindexRequired, reindex_message
from hearth.docs.jobs import FileResult, IngestJob
from hearth.docs.records import DocDocument, DocLibrary
from hearth.docs.vectors import VectorStore, chunk_metadata
from hearth.files import file_kind, sha256_file

log = logging.getLogger(__name__)

# The embedder (hearth.engine.embedding) truncates each input to the model's trained window,
# 512 for BERT; chunks stay below it with room for [CLS]/[SEP] and a task prefix, so none is cut.
EMBED_INPUT_TOKENS = 512
_RESERVED_TOKENS = 16


@dataclass(frozen=True)
class Target:
    path: Path
    explicit: bool  # chosen by hand (sniffed if of an unknown type) vs found in a folder


@dataclass
class Prepared:
    """A file read, not yet written anywhere: what the ahead-of-time half found."""

    target: Target
    known: DocDocument | None
    sha: str | None = None
    size: int | None = None
    problem: Unusable | None = None
    extracted: Extracted | None = None
    chunks: list[Chunk] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        known = self.known
        return bool(known and known.status == "indexed" and known.sha256 == self.sha)


def chunk_budget(configured: int, context_length: int | None) -> int:
    """Tokens per chunk: the setting, capped by what the embedding model really reads. Pure."""
    window = min(context_length or EMBED_INPUT_TOKENS, EMBED_INPUT_TOKENS)
    return max(16, min(configured, window - _RESERVED_TOKENS))


def plan(
    paths: list[Path], known: list[DocDocument]
) -> tuple[list[Target], list[DocDocument], list[FileResult]]:
    """Files to ingest, known documents that vanished, and files skipped, for the given paths.

    No paths means "check everything already in the library". Blocking (walks folders).
    """
    by_path = {d.path: d for d in known}
    targets: list[Target] = []
    removed: list[DocDocument] = []
    skipped: list[FileResult] = []
    seen: set[str] = set()

    def add(target: Target) -> None:
        key = str(target.path)
        if key not in seen:
            seen.add(key)
            targets.append(target)

    if not paths:
        for document in known:
            path = Path(document.path)
            if file_kind(path) == "file":
                add(Target(path, True))
            else:
                removed.append(document)
        return targets, removed, skipped
    for path in paths:
        kind = file_kind(path)
        if kind == "dir":
            for file in _walk(path):
                if kind_for(file) is not None:
                    add(Target(file, False))
                else:
                    skipped.append(
                        FileResult(
                            str(file),
                            file.name,
                            "skipped",
                            "unsupported_type",
                            f"{file.suffix or 'This file type'} is not a supported document "
                            f"type ({', '.join(sorted(SUPPORTED))}).",
                        )
                    )
            prefix = str(path).rstrip(os.sep) + os.sep
            removed += [d for p, d in by_path.items() if p.startswith(prefix) and p not in seen]
        elif kind == "file":
            add(Target(path, True))
        elif str(path) in by_path:
            removed.append(by_path[str(path)])
        else:
            skipped.append(
                FileResult(str(path), path.name, "failed", "not_found", "No such file or folder.")
            )
    return targets, removed, skipped


def _walk(folder: Path) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [Path(root) / n for n in sorted(names) if not n.startswith((".", "~$"))]
    return files


class Ingestor:
    def __init__(
        self,
        catalog: DocCatalog,
        vectors: VectorStore,
        embedder: Embedder,
        identity: Callable[[], ModelIdentity],
        counter: Callable[[ModelIdentity], Callable[[str], int]],
        chunk_tokens: int,
        chunk_overlap: int,
    ):
        self.catalog = catalog
        self.vectors = vectors
        self.embedder = embedder
        self.identity = identity  # blocking: resolve the current embedding model
        self.counter = counter  # blocking: token counter of a model
        self.chunk_tokens = chunk_tokens
        self.chunk_overlap = chunk_overlap

    async def run(self, job: IngestJob) -> None:
        identity = await asyncio.to_thread(self.identity)
        library = await asyncio.to_thread(self.catalog.library, job.library_id)
        if job.kind == "reindex":
            await asyncio.to_thread(self._reset, library, identity)
            documents = await asyncio.to_thread(self.catalog.documents, library.id)
            targets, removed, skipped = await asyncio.to_thread(plan, [], documents)
        else:
            if library.embedding_model and not identity.same_as(
                library.embedding_model, library.embedding_sha256
            ):
                raise ReindexRequired(
                    reindex_message(library.name, library.embedding_model, identity.name)
                )
            known = await asyncio.to_thread(self.catalog.documents, library.id)
            targets, removed, skipped = await asyncio.to_thread(
                plan, [Path(p) for p in job.paths], known
            )
        await asyncio.to_thread(self.vectors.ensure, library.id, identity.name, identity.sha256)
        if not library.embedding_model:
            await asyncio.to_thread(
                self.catalog.set_identity, library.id, identity.name, identity.sha256
            )
        count = await asyncio.to_thread(self.counter, identity)
        job.files_total = len(targets) + len(removed) + len(skipped)
        job.progress()
        for skip in skipped:
            job.add_result(skip)
        for document in removed:
            await asyncio.to_thread(self._remove, document)
            job.add_result(
                FileResult(document.path, document.name, "removed", document_id=document.id)
            )
        size_tokens = chunk_budget(self.chunk_tokens, identity.context_length)

        def prepare(target: Target) -> asyncio.Task[Prepared]:
            return asyncio.create_task(self._prepare(library, count, size_tokens, target))

        ahead = prepare(targets[0]) if targets else None
        try:
            for i, target in enumerate(targets):
                if job.cancel_requested:
                    return
                job.current = str(target.path)
                job.progress()
                assert ahead is not None
                prepared = await ahead
                ahead = prepare(targets[i + 1]) if i + 1 < len(targets) else None
                done = await self._index(job, library, identity, prepared)
                if done is None:  # cancelled mid-file
                    return
                job.add_result(done)
        finally:
            if ahead is not None:  # read for nothing: cancelled, or a file before it crashed
                _discard(ahead)

    def _reset(self, library: DocLibrary, identity: ModelIdentity) -> None:
        """Re-index: drop every vector of the old model before a single new one is written."""
        self.vectors.drop(library.id)
        self.catalog.mark_all_pending(library.id)
        self.catalog.set_identity(library.id, identity.name, identity.sha256)

    def _remove(self, document: DocDocument) -> None:
        self.vectors.delete_document(document.library_id, document.id)
        self.catalog.delete_document(document.library_id, document.id)

    async def _prepare(
        self,
        library: DocLibrary,
        count: Callable[[str], int],
        size_tokens: int,
        target: Target,
    ) -> Prepared:
        """Hash, extract and chunk one file; reads only, so it may run ahead of file order."""
        path = target.path
        known = await asyncio.to_thread(self.catalog.document_at, library.id, str(path))
        prepared = Prepared(target, known)
        try:
            prepared.sha, prepared.size = await asyncio.to_thread(_hash, path)
        except OSError as exc:
            prepared.problem = Unusable(
                "unreadable", f"The file cannot be read: {exc.strerror or exc}."
            )
            return prepared
        if prepared.unchanged:
            return prepared
        try:
            prepared.extracted = await asyncio.to_thread(extract, path)
            prepared.chunks = await asyncio.to_thread(
                chunk_sections,
                prepared.extracted.sections,
                count,
                size_tokens,
                self.chunk_overlap,
            )
        except Unusable as problem:
            prepared.problem = problem
        return prepared

    async def _index(
        self,
        job: IngestJob,
        library: DocLibrary,
        identity: ModelIdentity,
        prepared: Prepared,
    ) -> FileResult | None:
        """Embed and store one prepared file, or record why not; None when cancelled."""
        key = str(prepared.target.path)
        known = prepared.known
        name = known.name if known else prepared.target.path.name
        sha, size = prepared.sha, prepared.size
        if prepared.problem is not None:
            return await self._failed(library, key, name, known, sha, size, prepared.problem)
        if prepared.unchanged:
            assert known is not None
            return FileResult(
                key,
                name,
                "unchanged",
                chunks=known.chunks,
                pages=known.pages or 0,
                document_id=known.id,
            )
        extracted, chunks = prepared.extracted, prepared.chunks
        assert extracted is not None
        if known is None:
            known = await asyncio.to_thread(
                self.catalog.save_document,
                library.id,
                key,
                name=name,
                status="pending",
                size=size,
                kind=extracted.kind,
            )
        vectors: list[list[float]] = []
        for start in range(0, len(chunks), BATCH):
            if job.cancel_requested:
                return None
            batch = chunks[start : start + BATCH]
            vectors += await self.embedder.documents(identity, [c.text for c in batch])
            job.embedded += len(batch)
            job.progress(file_chunks_done=len(vectors), file_chunks_total=len(chunks))
        document_id = known.id
        await asyncio.to_thread(
            self.vectors.replace_document,
            library.id,
            document_id,
            [f"{document_id}:{c.index}" for c in chunks],
            vectors,
            [c.text for c in chunks],
            [chunk_metadata(document_id, name, c.index, c.page, c.heading) for c in chunks],
        )
        await asyncio.to_thread(
            self.catalog.save_document,
            library.id,
            key,
            name=name,
            kind=extracted.kind,
            size=size,
            sha256=sha,
            status="indexed",
            reason_code=None,
            reason=None,
            pages=extracted.pages,
            chunks=len(chunks),
        )
        return FileResult(
            key, name, "indexed", chunks=len(chunks), pages=extracted.pages, document_id=document_id
        )

    async def _failed(
        self,
        library: DocLibrary,
        key: str,
        name: str,
        known: DocDocument | None,
        sha: str | None,
        size: int | None,
        problem: Unusable,
    ) -> FileResult:
        if known is not None:
            # Its old chunks describe content the file no longer has.
            await asyncio.to_thread(self.vectors.delete_document, library.id, known.id)
        document = await asyncio.to_thread(
            self.catalog.save_document,
            library.id,
            key,
            name=name,
            sha256=sha,
            size=size,
            status="failed",
            reason_code=problem.code,
            reason=problem.message,
            chunks=0,
            pages=None,
        )
        return FileResult(
            key, name, "failed", problem.code, problem.message, document_id=document.id
        )


def _discard(task: asyncio.Task) -> None:
    """Drop a task unread, without asyncio logging an exception that nobody retrieved."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()


def _hash(path: Path) -> tuple[str, int]:
    return sha256_file(path), path.stat().st_size
