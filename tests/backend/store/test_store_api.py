"""The conversation routes, through a real app with create_app's own error mapping."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hearth.api.conversations import router
from hearth.app import install_error_handlers
from hearth.docs.service import DocumentService
from hearth.engine.manager import ModelManager
from hearth.library.library import ModelLibrary
from hearth.settings import Settings
from hearth.store.conversations import ConversationStore
from sqlalchemy.engine import Engine

from tests.backend.fake_engine import FakeFactory


@pytest.fixture
def docs(tmp_path: Path, engine: Engine) -> Iterator[DocumentService]:
    """The real documents service on the same file: deleting a chat also removes its files."""
    settings = Settings.load(None, HEARTH_DATA_DIR=str(tmp_path / "data"))
    manager = ModelManager(FakeFactory(models=("fake-chat",)))
    yield DocumentService(settings, engine, manager, ModelLibrary(tmp_path / "models"))
    manager.close()


@pytest.fixture
def client(store: ConversationStore, docs: DocumentService) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.state.conversations = store
    app.state.documents = docs
    app.include_router(router)
    with TestClient(app) as client:
        yield client


def test_create_get_list(client: TestClient):
    created = client.post("/api/conversations", json={"title": "Hello", "model": "smollm"})
    assert created.status_code == 201
    body = created.json()
    assert (body["title"], body["model"], body["system_prompt"]) == ("Hello", "smollm", None)

    assert client.get(f"/api/conversations/{body['id']}").json() == body
    assert client.post("/api/conversations", json={}).status_code == 201

    page = client.get("/api/conversations", params={"limit": 1}).json()
    assert page["total"] == 2
    assert (page["offset"], page["limit"], len(page["items"])) == (0, 1, 1)
    assert page["items"][0]["title"] is None  # the newest, untitled


def test_list_search_and_paging(client: TestClient, store: ConversationStore):
    chat = store.create(title="Bread")
    store.add_message(chat.id, "user", "rye or spelt?")
    store.create(title="Other")

    found = client.get("/api/conversations", params={"q": "spelt"}).json()
    assert [c["id"] for c in found["items"]] == [chat.id]
    assert found["total"] == 1
    second = client.get("/api/conversations", params={"offset": 1, "limit": 1}).json()
    assert [c["id"] for c in second["items"]] == [chat.id]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"q": "x" * 201}])
def test_list_rejects_out_of_bounds_query(client: TestClient, params: dict[str, object]):
    assert client.get("/api/conversations", params=params).status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x" * 201},
        {"system_prompt": "x" * 20_001},
        {"unknown": 1},
        {"title": 5},
    ],
)
def test_create_rejects_bad_bodies(client: TestClient, body: dict[str, object]):
    assert client.post("/api/conversations", json=body).status_code == 422


def test_patch_changes_only_sent_fields_and_null_clears(client: TestClient):
    chat = client.post(
        "/api/conversations", json={"title": "A", "system_prompt": "Be kind.", "model": "m1"}
    ).json()
    url = f"/api/conversations/{chat['id']}"

    renamed = client.patch(url, json={"title": "B"}).json()
    assert (renamed["title"], renamed["system_prompt"], renamed["model"]) == ("B", "Be kind.", "m1")

    cleared = client.patch(url, json={"system_prompt": None}).json()
    assert (cleared["title"], cleared["system_prompt"]) == ("B", None)

    missing = client.patch("/api/conversations/nope", json={"title": "x"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_delete_takes_the_files_attached_in_the_chat(
    client: TestClient, store: ConversationStore, docs: DocumentService
):
    chat, other = store.create().id, store.create().id
    own = docs.catalog.own_library(chat, create=True)
    shared = docs.catalog.create_library("Shared")
    assert own is not None
    for library_id in (own.id, shared.id):
        (docs.uploads_dir / library_id).mkdir(parents=True)
        (docs.uploads_dir / library_id / "notes.md").write_text("# Notes\n")
    stray = docs.uploads_dir / ("e" * 32)  # a crash's leftover: swept by the next purge
    stray.mkdir()

    assert client.delete(f"/api/conversations/{other}").status_code == 204  # owns nothing
    assert stray.exists()
    assert client.delete(f"/api/conversations/{chat}").status_code == 204
    assert docs.catalog.library_ids() == {shared.id}
    assert not (docs.uploads_dir / own.id).exists() and not stray.exists()
    assert (docs.uploads_dir / shared.id / "notes.md").is_file()


def test_a_failed_cleanup_never_blocks_the_delete(
    client: TestClient, store: ConversationStore, docs: DocumentService, caplog
):
    chat = store.create().id
    own = docs.catalog.own_library(chat, create=True)
    assert own is not None
    # The vector store cannot open: a file stands where its folder should be.
    docs.vectors.path.parent.mkdir(parents=True, exist_ok=True)
    docs.vectors.path.write_text("not a folder")
    with caplog.at_level(logging.ERROR, logger="hearth.docs.service"):
        assert client.delete(f"/api/conversations/{chat}").status_code == 204
    assert client.get(f"/api/conversations/{chat}").status_code == 404
    assert docs.catalog.library_ids() == set()
    assert "could not remove the vectors or files" in caplog.text


def test_delete(client: TestClient, store: ConversationStore):
    chat = store.create()
    store.add_message(chat.id, "user", "hi")

    response = client.delete(f"/api/conversations/{chat.id}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/conversations/{chat.id}").status_code == 404
    assert client.delete(f"/api/conversations/{chat.id}").json() == {
        "code": "not_found",
        "message": f"conversation {chat.id} not found",
    }


def test_messages(client: TestClient, store: ConversationStore):
    chat = store.create()
    store.add_message(chat.id, "user", "hi")
    store.add_message(chat.id, "assistant", "hello", tokens_per_s=50.0, finish_reason="stop")

    messages = client.get(f"/api/conversations/{chat.id}/messages").json()

    assert [(m["role"], m["content"]) for m in messages] == [("user", "hi"), ("assistant", "hello")]
    assert messages[1]["tokens_per_s"] == 50.0
    assert client.get("/api/conversations/nope/messages").status_code == 404


@pytest.mark.parametrize(
    ("fmt", "content_type", "filename"),
    [
        ("markdown", "text/markdown; charset=utf-8", "weekend-plans.md"),
        ("json", "application/json; charset=utf-8", "weekend-plans.json"),
    ],
)
def test_export(
    client: TestClient, store: ConversationStore, fmt: str, content_type: str, filename: str
):
    chat = store.create(title="Weekend plans")
    store.add_message(chat.id, "user", "Hike or museum?")

    response = client.get(f"/api/conversations/{chat.id}/export", params={"format": fmt})

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert "Hike or museum?" in response.text


def test_export_defaults_to_markdown_and_rejects_other_formats(
    client: TestClient, store: ConversationStore
):
    chat = store.create(title="x")
    url = f"/api/conversations/{chat.id}/export"
    assert client.get(url).headers["content-type"].startswith("text/markdown")
    assert client.get(url, params={"format": "pdf"}).status_code == 422
    assert client.get("/api/conversations/nope/export").status_code == 404
