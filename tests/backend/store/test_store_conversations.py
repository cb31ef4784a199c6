"""ConversationStore against a real SQLite file: CRUD, paging, search, messages, export."""

from __future__ import annotations

import json
import threading

import pytest
from hearth.errors import BadRequest, NotFound
from hearth.store.conversations import (
    AUTO_TITLE_CHARS,
    ConversationStore,
    auto_title,
    fts_query,
)
from sqlalchemy.engine import Engine


def _fts_consistent(engine: Engine) -> None:
    # rank=1 also checks the index against the message table it reads from.
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO message_fts (message_fts, rank) VALUES ('integrity-check', 1)"
        )
        conn.exec_driver_sql(
            "INSERT INTO conversation_fts (conversation_fts) VALUES ('integrity-check')"
        )


def test_create_get_update_delete(store: ConversationStore):
    created = store.create(title="  Trip\nplanning  ", system_prompt="Be brief.", model="smollm")
    assert len(created.id) == 32
    assert created.title == "Trip planning"
    assert created.created_at == created.updated_at
    assert created.created_at.tzinfo is not None

    fetched = store.get(created.id)
    assert fetched.to_dict() == created.to_dict()

    renamed = store.update(created.id, title="Japan in May")
    assert (renamed.title, renamed.system_prompt, renamed.model) == (
        "Japan in May",
        "Be brief.",
        "smollm",
    )
    assert renamed.updated_at > created.updated_at

    cleared = store.update(created.id, system_prompt=None)
    assert cleared.system_prompt is None
    assert cleared.title == "Japan in May"

    store.delete(created.id)
    with pytest.raises(NotFound):
        store.get(created.id)
    with pytest.raises(NotFound):
        store.delete(created.id)
    with pytest.raises(NotFound):
        store.update(created.id, title="x")


def test_to_dict_is_json_with_iso_utc_timestamps(store: ConversationStore):
    conversation = store.create()
    message = store.add_message(conversation.id, "user", "hi", meta={"citations": [1]})

    data = json.loads(json.dumps({"c": conversation.to_dict(), "m": message.to_dict()}))

    assert data["c"]["created_at"].endswith("Z")
    assert data["m"]["created_at"].endswith("Z")
    assert data["m"]["meta"] == {"citations": [1]}
    assert set(data["m"]) == {
        "id",
        "conversation_id",
        "parent_id",
        "role",
        "content",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "ttft_ms",
        "tokens_per_s",
        "finish_reason",
        "meta",
        "created_at",
    }


def test_list_pages_newest_updated_first(store: ConversationStore):
    ids = [store.create(title=f"chat {i}").id for i in range(7)]
    store.add_message(ids[2], "user", "bump")  # now the most recently updated

    first, total = store.list(offset=0, limit=3)
    second, _ = store.list(offset=3, limit=3)
    third, _ = store.list(offset=6, limit=3)

    assert total == 7
    assert [c.id for c in first] == [ids[2], ids[6], ids[5]]
    assert [c.id for c in second] == [ids[4], ids[3], ids[1]]
    assert [c.id for c in third] == [ids[0]]


@pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (0, 0), (0, 201)])
def test_list_refuses_bad_paging(store: ConversationStore, offset: int, limit: int):
    with pytest.raises(BadRequest):
        store.list(offset=offset, limit=limit)


def test_search_finds_titles_and_message_text(store: ConversationStore):
    bread = store.create(title="Sourdough")
    store.add_message(bread.id, "user", "How long should the dough rest?")
    trip = store.create(title="Trip")
    store.add_message(trip.id, "assistant", "Kyoto's temples are quieter in the early morning.")
    store.create(title="Empty")

    def found(query: str) -> list[str]:
        items, total = store.list(query=query)
        assert total == len(items)
        return sorted(c.title or "" for c in items)

    assert found("sourdough") == ["Sourdough"]
    assert found("DOUGH") == ["Sourdough"]
    assert found("temp") == ["Trip"]  # word prefix
    assert found("early morning") == ["Trip"]
    assert found("kyoto temples") == ["Trip"]
    assert found("dough kyoto") == []
    assert found("absent") == []
    assert found("  ") == ["Empty", "Sourdough", "Trip"]
    # FTS syntax typed by a user is searched for, not interpreted.
    assert found('"dough" OR NEAR(') == []
    assert found("rest?") == ["Sourdough"]


def test_search_follows_edits_and_deletes(store: ConversationStore, engine: Engine):
    chat = store.create(title="Garden")
    message = store.add_message(chat.id, "user", "tomatoes")
    store.update_message(message.id, content="cucumbers")
    store.update(chat.id, title="Allotment")

    assert store.list(query="tomatoes")[1] == 0
    assert store.list(query="cucumbers")[1] == 1
    assert store.list(query="garden")[1] == 0
    assert store.list(query="allotment")[1] == 1

    store.delete(chat.id)
    assert store.list(query="cucumbers")[1] == 0
    assert store.list(query="allotment")[1] == 0
    _fts_consistent(engine)


def test_search_falls_back_to_like_without_the_index(engine: Engine):
    # What migration v3 leaves behind on a SQLite built without FTS5.
    with engine.begin() as conn:
        for trigger in ("message_fts_insert", "message_fts_delete", "message_fts_update"):
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
        for trigger in ("conversation_fts_insert", "conversation_fts_delete"):
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
        conn.exec_driver_sql("DROP TRIGGER conversation_fts_update")
        conn.exec_driver_sql("DROP TABLE message_fts")
        conn.exec_driver_sql("DROP TABLE conversation_fts")
    store = ConversationStore(engine)
    chat = store.create(title="Budget 100%")
    store.add_message(chat.id, "user", "rent_and_food")
    store.create(title="Other")

    assert [c.id for c in store.list(query="budget")[0]] == [chat.id]
    assert [c.id for c in store.list(query="100%")[0]] == [chat.id]
    assert [c.id for c in store.list(query="t_a")[0]] == [chat.id]
    assert store.list(query="1000")[1] == 0


def test_messages_keep_order_and_stats(store: ConversationStore):
    chat = store.create()
    store.add_message(chat.id, "system", "You are terse.")
    store.add_message(chat.id, "user", "Hi")
    reply = store.add_message(
        chat.id,
        "assistant",
        "Hello.",
        model="smollm",
        prompt_tokens=20,
        completion_tokens=3,
        ttft_ms=41.5,
        tokens_per_s=88.25,
        finish_reason="stop",
    )

    messages = store.messages(chat.id)
    assert [m.role for m in messages] == ["system", "user", "assistant"]
    assert messages[-1].to_dict() == reply.to_dict()
    assert (reply.prompt_tokens, reply.tokens_per_s, reply.finish_reason) == (20, 88.25, "stop")
    assert store.get(chat.id).updated_at == reply.created_at

    with pytest.raises(NotFound):
        store.messages("missing")
    with pytest.raises(NotFound):
        store.add_message("missing", "user", "hi")
    with pytest.raises(BadRequest):
        store.add_message(chat.id, "tool", "hi")
    with pytest.raises(BadRequest):
        store.add_message(chat.id, "assistant", "hi", finish_reason="done")


def test_update_message_changes_only_what_is_given(store: ConversationStore):
    chat = store.create()
    draft = store.add_message(chat.id, "assistant", "", model="smollm")

    done = store.update_message(
        draft.id, content="All done.", completion_tokens=3, finish_reason="stopped"
    )

    assert (done.content, done.model, done.completion_tokens) == ("All done.", "smollm", 3)
    assert store.get_message(draft.id).finish_reason == "stopped"
    assert store.update_message(draft.id, finish_reason=None).finish_reason is None
    with pytest.raises(BadRequest):
        store.update_message(draft.id, finish_reason="nope")
    with pytest.raises(NotFound):
        store.update_message(10_000, content="x")
    with pytest.raises(NotFound):
        store.get_message(10_000)


def test_first_user_message_titles_an_untitled_conversation(store: ConversationStore):
    chat = store.create()
    assert chat.title is None
    store.add_message(chat.id, "system", "System prompts do not name chats.")
    store.add_message(chat.id, "user", "Plan a three day trip to Lisbon\nwith kids")
    store.add_message(chat.id, "user", "Later messages do not rename it")
    assert store.get(chat.id).title == "Plan a three day trip to Lisbon with kids"

    named = store.create(title="Mine")
    store.add_message(named.id, "user", "Something else")
    assert store.get(named.id).title == "Mine"

    default = store.create(title="New chat")
    store.add_message(default.id, "user", "Replace the placeholder")
    assert store.get(default.id).title == "Replace the placeholder"


@pytest.mark.parametrize(
    ("content", "title"),
    [
        ("short", "short"),
        ("  spaced \n\t out  ", "spaced out"),
        ("", "New chat"),
        (
            "Explain the difference between a process and a thread, with examples in Python",
            "Explain the difference between a process and a thread, with…",
        ),
        ("x" * 100, "x" * AUTO_TITLE_CHARS + "…"),
    ],
)
def test_auto_title(content: str, title: str):
    assert auto_title(content) == title
    assert len(auto_title(content)) <= AUTO_TITLE_CHARS + 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dough", '"dough"*'),
        ("early morning", '"early"* "morning"*'),
        ('a "b" OR c*', '"a"* "b"* "OR"* "c"*'),
        ("café_crème", '"café"* "crème"*'),
        ("?!", None),
    ],
)
def test_fts_query(query: str, expected: str | None):
    assert fts_query(query) == expected


def test_deleting_a_conversation_cascades_to_its_messages(store: ConversationStore, engine: Engine):
    chat = store.create()
    kept = store.create()
    message = store.add_message(chat.id, "user", "bye")
    store.add_message(kept.id, "user", "stay")

    store.delete(chat.id)

    with pytest.raises(NotFound):
        store.get_message(message.id)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM message").scalar() == 1
    _fts_consistent(engine)


def test_export_markdown(store: ConversationStore):
    chat = store.create(title="Trip: Japan/Korea!", system_prompt="Be brief.", model="smollm")
    store.add_message(chat.id, "user", "Best month?")
    store.add_message(chat.id, "assistant", "**May**, before the rains.\n", model="smollm")

    content_type, filename, text = store.export(chat.id, "markdown")

    assert content_type == "text/markdown; charset=utf-8"
    assert filename == "trip-japan-korea.md"
    assert text.startswith("# Trip: Japan/Korea!\n")
    assert "- Model: smollm" in text
    assert "## System prompt\n\nBe brief.\n" in text
    assert "## User\n\nBest month?\n\n## Assistant (smollm)\n\n**May**, before the rains.\n" in text
    assert text.index("## User") < text.index("## Assistant")


def test_export_json_round_trips(store: ConversationStore):
    chat = store.create(title="Ünïcode ✓")
    store.add_message(chat.id, "user", "naïve café", meta={"a": [1, 2]})

    content_type, filename, text = store.export(chat.id, "json")

    assert content_type == "application/json; charset=utf-8"
    assert filename == "n-code.json"
    document = json.loads(text)
    assert document["format"] == "hearth.conversation"
    assert document["version"] == 1
    assert document["conversation"] == store.get(chat.id).to_dict()
    assert document["messages"] == [m.to_dict() for m in store.messages(chat.id)]
    assert "naïve café" in text  # readable, not \u-escaped


def test_export_filename_falls_back_to_the_id(store: ConversationStore):
    chat = store.create(title="日本")
    assert store.export(chat.id, "markdown")[1] == f"conversation-{chat.id[:8]}.md"
    with pytest.raises(BadRequest):
        store.export(chat.id, "pdf")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        store.export("missing", "json")


def test_concurrent_writers_do_not_hit_database_is_locked(store: ConversationStore):
    threads_n, per_thread = 6, 15
    shared = store.create()
    barrier = threading.Barrier(threads_n + 1, timeout=30)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            own = store.create(title=f"writer {n}")
            barrier.wait()
            for i in range(per_thread):
                store.add_message(shared.id, "user", f"{n}-{i}")
                store.add_message(own.id, "assistant", f"{n}-{i}")
                store.update(own.id, model=f"m{i}")
        except BaseException as e:
            errors.append(e)

    def read() -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                store.list(query="writer")
                store.messages(shared.id)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(threads_n)]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(store.messages(shared.id)) == threads_n * per_thread
    assert store.list()[1] == threads_n + 1
