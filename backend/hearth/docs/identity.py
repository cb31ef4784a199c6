"""Which embedding model builds and searches the vectors, identified by name and content hash.

The name alone is not enough (a file replaced under the same name is another model) and the
hash alone is not either (the user chose a model by its name, and the name is what the UI shows).
A library's vectors are only ever compared with vectors of the identical (name, sha256).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from hearth.errors import HearthError
from hearth.files import sha256_file, write_json_atomic

log = logging.getLogger(__name__)

_READ = 1024 * 1024


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    sha256: str
    path: Path
    context_length: int | None = None

    def same_as(self, name: str | None, sha256: str | None) -> bool:
        return self.name == name and self.sha256 == sha256

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "sha256": self.sha256}


class NoEmbeddingModel(HearthError):
    code = "no_embedding_model"
    status = 409


class ReindexRequired(HearthError):
    """A library built by another embedding model: its vectors must be rebuilt before use."""

    code = "reindex_required"
    status = 409


def reindex_message(library: str, built_by: str | None, current: str) -> str:
    return (
        f"The library {library!r} was indexed with the embedding model {built_by}, but the "
        f"embedding model is now {current}. Re-index the library to search it with {current} "
        "(vectors of two models cannot be compared)."
    )


class HashCache:
    """sha256 of files, remembered per (size, mtime) in a small JSON file."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._entries: dict[str, dict] | None = None

    def sha256(self, file: Path) -> str:
        stat = file.stat()
        key = str(file.resolve())
        stamp = [stat.st_size, stat.st_mtime_ns]
        with self._lock:
            entries = self._load()
            hit = entries.get(key)
            if hit and hit.get("stamp") == stamp:
                return str(hit["sha256"])
        digest = sha256_file(file)
        with self._lock:
            entries = self._load()
            entries[key] = {"stamp": stamp, "sha256": digest}
            self._save(entries)
        return digest

    def _load(self) -> dict[str, dict]:
        if self._entries is None:
            try:
                self._entries = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self._entries = {}
        return self._entries

    def _save(self, entries: dict[str, dict]) -> None:
        # Not durable: a lost cache only costs hashing the model again.
        write_json_atomic(self.path, entries, indent=None, durable=False)


def pick_embedding_model(names: list[str], configured: str | None) -> str | None:
    """The configured model if installed, else the first installed one by name. Pure."""
    if configured:
        for candidate in (configured, f"{configured}.gguf"):
            if candidate in names:
                return candidate
        return None
    return sorted(names, key=str.lower)[0] if names else None


def resolve_identity(library, configured: str | None, hashes: HashCache) -> ModelIdentity:
    """The embedding model documents are embedded with now; blocking (scans and hashes)."""
    entries = [e for e in library.scan() if e.kind == "embedding"]
    chosen = pick_embedding_model([e.id for e in entries], configured)
    if chosen is None:
        if configured:
            raise NoEmbeddingModel(
                f"The embedding model {configured!r} (HEARTH_DOCS_EMBEDDING_MODEL) is not "
                "installed. Install it, or unset the setting to use any installed one."
            )
        raise NoEmbeddingModel(
            "No embedding model is installed. Download one (the catalogue offers Nomic Embed "
            "Text) or import an embedding GGUF to search documents."
        )
    entry = next(e for e in entries if e.id == chosen)
    return ModelIdentity(
        name=entry.id,
        sha256=hashes.sha256(entry.path),
        path=entry.path,
        context_length=getattr(entry.info, "context_length", None),
    )


def task_prefixes(model_name: str) -> tuple[str, str]:
    """(document prefix, query prefix) that some embedding models were trained with. Pure."""
    name = model_name.lower()
    if "nomic-embed" in name:
        return "search_document: ", "search_query: "
    if "e5-" in name or name.startswith("e5"):
        return "passage: ", "query: "
    return "", ""
