"""An embedding model is its name and its bytes; either changing makes it another model."""

from __future__ import annotations

import shutil

import pytest
from hearth.docs.identity import (
    HashCache,
    NoEmbeddingModel,
    pick_embedding_model,
    resolve_identity,
    task_prefixes,
)
from hearth.files import sha256_file
from hearth.library.library import ModelLibrary


@pytest.mark.parametrize(
    ("names", "configured", "expected"),
    [
        (["b.gguf", "A.gguf"], None, "A.gguf"),
        (["b.gguf", "a.gguf"], "b.gguf", "b.gguf"),
        (["b.gguf"], "b", "b.gguf"),
        (["b.gguf"], "c.gguf", None),
        ([], None, None),
    ],
)
def test_pick_embedding_model(names, configured, expected):
    assert pick_embedding_model(names, configured) == expected


@pytest.mark.parametrize(
    ("name", "prefixes"),
    [
        ("nomic-embed-text-v1.5.Q8_0.gguf", ("search_document: ", "search_query: ")),
        ("e5-small-v2.gguf", ("passage: ", "query: ")),
        ("all-MiniLM-L6-v2-Q8_0.gguf", ("", "")),
    ],
)
def test_task_prefixes(name, prefixes):
    assert task_prefixes(name) == prefixes


def test_hash_cache_rehashes_only_changed_files(tmp_path):
    target = tmp_path / "m.gguf"
    target.write_bytes(b"one")
    cache = HashCache(tmp_path / "hashes.json")
    first = cache.sha256(target)
    assert first == sha256_file(target)
    # A fresh cache reads the stored hash (same size and mtime: not recomputed).
    assert HashCache(tmp_path / "hashes.json").sha256(target) == first
    target.write_bytes(b"two!")
    assert cache.sha256(target) == sha256_file(target) != first


def test_renamed_or_altered_copies_are_other_models(tmp_path, minilm_path):
    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(minilm_path, models / "minilm.gguf")
    library = ModelLibrary(models)
    cache = HashCache(tmp_path / "hashes.json")
    original = resolve_identity(library, None, cache)
    assert original.name == "minilm.gguf" and original.context_length == 512

    shutil.copyfile(minilm_path, models / "renamed.gguf")
    renamed = resolve_identity(library, "renamed.gguf", cache)
    assert renamed.sha256 == original.sha256
    assert not renamed.same_as(original.name, original.sha256)

    # Same name, other bytes (a file replaced in place): another model too.
    data = bytearray((models / "minilm.gguf").read_bytes())
    data[-1] ^= 0xFF  # the last byte of the last tensor's data
    (models / "minilm.gguf").write_bytes(bytes(data))
    altered = resolve_identity(library, "minilm.gguf", cache)
    assert altered.name == original.name and altered.sha256 != original.sha256
    assert not altered.same_as(original.name, original.sha256)


def test_no_embedding_model_says_what_to_do(tmp_path, stories_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / stories_path.name).symlink_to(stories_path)  # a chat model only
    cache = HashCache(tmp_path / "hashes.json")
    with pytest.raises(NoEmbeddingModel, match="No embedding model is installed"):
        resolve_identity(ModelLibrary(models), None, cache)
    with pytest.raises(NoEmbeddingModel, match="HEARTH_DOCS_EMBEDDING_MODEL"):
        resolve_identity(ModelLibrary(models), "nomic.gguf", cache)
