"""Files attached in one chat: the conversation's own library in the catalog, the v6 step that
adds it, the leftover sweep, and the fast API refusals (the real ingest is in
test_chat_files_api.py)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from hearth.docs.catalog import OWN_LIBRARY_NAME, DocCatalog
from hearth.docs.leftovers import leftover_ids
from hearth.errors import BadRequest, NotFound
from hearth.store.conversations import ConversationStore
from hearth.store.db import close_database, database_path, open_database
from hearth.store.migrations import MIGRATIONS
from sqlalchemy.engine import Engine


@pytest.fixture
def engine(tmp_path: Path):
    engine = open_database(database_path(tmp_path / "data"))
    yield engine
    close_database(engine)


def test_a_chats_own_library_is_made_once_and_only_its_chat_sees_it(engine: Engine):
    store, catalog = ConversationStore(engine), DocCatalog(engine)
    chat, other = store.create(title="Trip").id, store.create(title="Bread").id
    shared = catalog.create_library("Recipes")
    assert catalog.own_library(chat) is None  # looking makes nothing

    own = catalog.own_library(chat, create=True)
    assert own is not None
    assert (own.name, own.conversation_id) == (OWN_LIBRARY_NAME, chat)
    again = catalog.own_library(chat, create=True)
    assert again is not None and again.id == own.id
    # Every chat's own library has the same name; shared names stay unique among themselves.
    theirs = catalog.own_library(other, create=True)
    assert theirs is not None and theirs.id != own.id
    assert catalog.create_library(OWN_LIBRARY_NAME).conversation_id is None

    assert [lib.name for lib in catalog.libraries()] == [OWN_LIBRARY_NAME, "Recipes"]
    assert all(lib.conversation_id is None for lib in catalog.libraries())
    assert len(catalog.libraries(owned=True)) == 4

    # Attached without being ticked, listed first, and kept whatever the ticks say.
    assert [lib.id for lib in catalog.attached(chat)] == [own.id]
    catalog.attach(chat, [shared.id])
    assert [lib.id for lib in catalog.attached(chat)] == [own.id, shared.id]
    catalog.attach(chat, [own.id])
    assert [lib.id for lib in catalog.attached(chat)] == [own.id]
    with pytest.raises(BadRequest) as refused:
        catalog.attach(chat, [theirs.id])
    assert refused.value.code == "library_of_another_chat"
    assert [lib.id for lib in catalog.attached(chat)] == [own.id]  # the refusal changed nothing


def test_deleting_a_conversation_takes_its_own_library_and_documents_only(engine: Engine):
    store, catalog = ConversationStore(engine), DocCatalog(engine)
    chat = store.create().id
    shared = catalog.create_library("Recipes")
    own = catalog.own_library(chat, create=True)
    assert own is not None
    catalog.save_document(own.id, "/data/documents/x/notes.pdf", name="notes.pdf", status="indexed")
    catalog.attach(chat, [shared.id])
    assert catalog.owned_by(chat) == [own.id]

    store.delete(chat)
    assert catalog.owned_by(chat) == []
    assert catalog.library_ids() == {shared.id}
    with pytest.raises(NotFound):
        catalog.documents(own.id)
    with pytest.raises(NotFound):
        catalog.own_library(chat, create=True)


def test_a_v5_file_migrates_with_every_library_shared(tmp_path: Path):
    path = database_path(tmp_path / "data")
    path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for version, step in MIGRATIONS:
            if version <= 5:
                step(conn)
        conn.execute("PRAGMA user_version = 5")
        now = "2025-01-02T03:04:05.000000Z"
        conn.execute("INSERT INTO conversation VALUES ('c', 'Trip', NULL, NULL, ?, ?)", (now, now))
        conn.execute(
            "INSERT INTO doc_library VALUES ('lib', 'Papers', 'minilm', 'abc', ?, ?)", (now, now)
        )
        conn.execute(
            "INSERT INTO doc_document (id, library_id, path, name, status, chunks, updated_at)"
            " VALUES ('d', 'lib', '/home/me/a.pdf', 'a.pdf', 'indexed', 3, ?)",
            (now,),
        )
        conn.execute("INSERT INTO conversation_library VALUES ('c', 'lib')")

    engine = open_database(path)
    try:
        catalog = DocCatalog(engine)
        (library,) = catalog.libraries()
        assert library.to_dict()["conversation_id"] is None
        assert (library.name, library.embedding_model, library.embedding_sha256) == (
            "Papers",
            "minilm",
            "abc",
        )
        assert [(d.name, d.chunks) for d in catalog.documents("lib")] == [("a.pdf", 3)]
        assert [lib.id for lib in catalog.attached("c")] == ["lib"]
        ConversationStore(engine).delete("c")  # a shared library outlives the chat
        assert catalog.library_ids() == {"lib"}
    finally:
        close_database(engine)


ID_A, ID_B = "a" * 32, "0123456789abcdef" * 2


@pytest.mark.parametrize(
    ("present", "known", "leftover"),
    [
        ([], set(), []),
        ([ID_A, ID_B], {ID_A}, [ID_B]),
        ([ID_A, ID_B, ID_A], set(), [ID_B, ID_A]),
        ([ID_A], {ID_A}, []),
        # Not a library id: never ours to remove.
        ([".upload-1-2", "notes", ID_A.upper(), ID_A + "0", "hearth-lib-" + ID_A], set(), []),
    ],
)
def test_leftover_ids(present: list[str], known: set[str], leftover: list[str]):
    assert leftover_ids(present, known) == leftover


def test_attaching_without_an_embedding_model_makes_no_library(fake_hearth):
    with fake_hearth.client() as client:
        cid = client.post("/api/conversations", json={}).json()["id"]
        r = client.post(
            "/api/documents/attach",
            params={"conversation_id": cid, "filename": "notes.md"},
            content=b"# Notes\n",
        )
        assert (r.status_code, r.json()["code"]) == (409, "no_embedding_model"), r.text
        assert client.get(f"/api/conversations/{cid}/attachments").json() == {
            "library": None,
            "documents": [],
            "jobs": [],
        }
        assert client.get("/api/libraries", params={"owned": True}).json() == []
        r = client.post(
            "/api/documents/attach",
            params={"conversation_id": "nope", "filename": "notes.md"},
            content=b"x",
        )
        assert r.status_code == 404, r.text
        r = client.post(
            "/api/documents/attach",
            params={"conversation_id": cid, "filename": "../up.md"},
            content=b"x",
        )
        assert (r.status_code, r.json()["code"]) == (422, "bad_filename")
        assert client.delete(f"/api/conversations/{cid}").status_code == 204
