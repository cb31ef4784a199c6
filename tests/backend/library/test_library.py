"""The models folder: scan, import, upload, delete; a failed import leaves nothing behind."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from hearth.errors import BadRequest, Conflict, HearthError, InvalidModel, NotFound
from hearth.library.library import ModelLibrary


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


@pytest.fixture
def library(models_dir: Path) -> ModelLibrary:
    return ModelLibrary(models_dir)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def chunks(data: bytes, size: int = 300) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_scan_lists_good_and_broken_models_and_ignores_the_rest(
    library, models_dir, stories_path, minilm_path, tiny_chat
):
    models_dir.mkdir()
    shutil.copy(stories_path, models_dir / "stories.gguf")
    shutil.copy(tiny_chat, models_dir / "chat.gguf")
    shutil.copy(minilm_path, models_dir / "minilm.gguf")
    (models_dir / "broken.gguf").write_bytes(b"not a model at all")
    (models_dir / "big.gguf.part").write_bytes(b"GGUF")
    (models_dir / "notes.txt").write_text("hi")
    (models_dir / ".hidden.gguf").write_bytes(b"GGUF")

    entries = {e.id: e for e in library.scan()}

    assert list(entries) == ["broken.gguf", "chat.gguf", "minilm.gguf", "stories.gguf"]
    broken = entries["broken.gguf"]
    assert not broken.ok and broken.info is None and broken.kind is None
    assert broken.error is not None and broken.error.code == "not_gguf"
    assert entries["chat.gguf"].kind == "chat"
    assert entries["minilm.gguf"].kind == "embedding"
    assert entries["stories.gguf"].info.context_length == 2048
    assert entries["stories.gguf"].size == stories_path.stat().st_size


def test_scan_rereads_a_file_that_changed(library, models_dir, tiny_chat):
    models_dir.mkdir()
    target = models_dir / "m.gguf"
    target.write_bytes(b"garbage")
    assert library.scan()[0].error.code == "not_gguf"
    shutil.copy(tiny_chat, target)
    assert library.scan()[0].ok


def test_import_copies_a_valid_model(library, models_dir, tiny_chat):
    entry = library.import_path(tiny_chat)
    assert entry.id == "tiny-chat.gguf" and entry.ok
    assert (models_dir / "tiny-chat.gguf").read_bytes() == tiny_chat.read_bytes()
    assert tiny_chat.exists()  # a copy, not a move
    assert names(models_dir) == ["tiny-chat.gguf"]
    assert library.get("tiny-chat.gguf").info.name == "Tiny Chat"


def test_import_refuses_a_duplicate_name(library, tiny_chat):
    library.import_path(tiny_chat)
    with pytest.raises(Conflict) as caught:
        library.import_path(tiny_chat)
    assert caught.value.code == "model_exists"


def test_a_failed_import_leaves_nothing_behind(library, models_dir, stories_path, tmp_path):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(stories_path.read_bytes()[:100_000])
    with pytest.raises(InvalidModel) as caught:
        library.import_path(cut)
    assert caught.value.code == "truncated"
    assert names(models_dir) == []


def test_import_checks_free_space_first(models_dir, tiny_chat):
    library = ModelLibrary(models_dir, disk_usage=lambda _: SimpleNamespace(free=1000))
    with pytest.raises(HearthError) as caught:
        library.import_path(tiny_chat)
    assert (caught.value.code, caught.value.status) == ("disk_full", 507)
    assert "Not enough disk space" in caught.value.message
    assert names(models_dir) == []


@pytest.mark.parametrize(
    ("make", "error"),
    [("missing", NotFound), ("folder", BadRequest), ("wrong_suffix", BadRequest)],
)
def test_import_refuses_what_is_not_a_gguf_file(library, tmp_path, tiny_chat, make, error):
    src = {
        "missing": tmp_path / "nope.gguf",
        "folder": tmp_path / "src",
        "wrong_suffix": tiny_chat.rename(tiny_chat.with_suffix(".bin")),
    }[make]
    with pytest.raises(error):
        library.import_path(src)


@pytest.mark.anyio
async def test_upload_streams_a_model_in(library, models_dir, tiny_chat_bytes):
    entry = await library.import_stream("uploaded.gguf", chunks(tiny_chat_bytes))
    assert entry.ok and entry.kind == "chat"
    assert (models_dir / "uploaded.gguf").read_bytes() == tiny_chat_bytes
    assert names(models_dir) == ["uploaded.gguf"]


@pytest.mark.anyio
async def test_an_invalid_upload_leaves_nothing_behind(library, models_dir):
    with pytest.raises(InvalidModel) as caught:
        await library.import_stream("junk.gguf", chunks(os.urandom(5000)))
    assert caught.value.code == "not_gguf"
    assert names(models_dir) == []


@pytest.mark.anyio
async def test_an_upload_cut_off_midway_leaves_nothing_behind(library, models_dir, tiny_chat_bytes):
    async def dropped() -> AsyncIterator[bytes]:
        yield tiny_chat_bytes[:500]
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await library.import_stream("partial.gguf", dropped())
    assert names(models_dir) == []


@pytest.mark.anyio
@pytest.mark.parametrize("filename", ["../escape.gguf", "model.exe", ""])
async def test_upload_refuses_unsafe_names_before_reading(library, models_dir, filename):
    async def never() -> AsyncIterator[bytes]:
        raise AssertionError("the body must not be read")
        yield b""

    with pytest.raises(BadRequest):
        await library.import_stream(filename, never())
    assert names(models_dir) == []


@pytest.mark.anyio
async def test_upload_refuses_an_existing_name(library, tiny_chat, tiny_chat_bytes):
    library.import_path(tiny_chat)
    with pytest.raises(Conflict):
        await library.import_stream("tiny-chat.gguf", chunks(tiny_chat_bytes))


def test_delete_removes_a_model(library, models_dir, tiny_chat):
    library.import_path(tiny_chat)
    library.delete("tiny-chat.gguf")
    assert names(models_dir) == []
    with pytest.raises(NotFound):
        library.delete("tiny-chat.gguf")
    with pytest.raises(NotFound):
        library.get("tiny-chat.gguf")
    assert library.find("tiny-chat.gguf") is None


def test_delete_refuses_paths_outside_the_folder(library, tmp_path):
    victim = tmp_path / "victim.gguf"
    victim.write_bytes(b"keep me")
    with pytest.raises(BadRequest):
        library.delete("../victim.gguf")
    assert victim.exists()


def test_stale_import_temp_files_are_cleaned_up(library, models_dir, tiny_chat):
    library.import_path(tiny_chat)
    (models_dir / ".import-1234abcd-big.gguf.part").write_bytes(b"half")
    (models_dir / "download.gguf.part").write_bytes(b"resumable")
    assert library.remove_stale_imports() == 1
    assert names(models_dir) == ["download.gguf.part", "tiny-chat.gguf"]
