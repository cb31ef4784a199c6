"""Search results' snippets: the matching piece of a message, words marked, from FTS5 on a real
SQLite file and from the LIKE fallback; never markup, wildcards taken literally."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hearth.api.conversations import router
from hearth.app import install_error_handlers
from hearth.store.conversations import ConversationStore
from hearth.store.snippets import around, parts_from_marked
from sqlalchemy.engine import Engine


def _marked(parts: list[dict]) -> str:
    """Parts back to one line, matches in [brackets], for readable assertions."""
    return "".join(f"[{p['text']}]" if p["match"] else p["text"] for p in parts)


def _drop_fts(engine: Engine) -> None:
    # What migration v3 leaves behind on a SQLite built without FTS5.
    with engine.begin() as conn:
        for name in (
            "message_fts_insert",
            "message_fts_delete",
            "message_fts_update",
            "conversation_fts_insert",
            "conversation_fts_delete",
            "conversation_fts_update",
        ):
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        conn.exec_driver_sql("DROP TABLE message_fts")
        conn.exec_driver_sql("DROP TABLE conversation_fts")


def test_fts_snippet_marks_the_words_of_the_best_message(store: ConversationStore):
    trip = store.create(title="Trip")
    store.add_message(trip.id, "user", "Where should we stay in Kyoto?")
    store.add_message(
        trip.id,
        "assistant",
        "Kyoto's temples are quieter in the early morning, before the tour buses arrive and\n"
        "the gardens fill up with people taking photographs of the moss and the maples.",
    )
    bread = store.create(title="Kyoto bread")  # found by its title alone
    store.create(title="Empty")

    items, _ = store.list(query="temples morning")
    found = store.snippets([c.id for c in items], "temples morning")
    assert list(found) == [trip.id]
    text = _marked(found[trip.id])
    assert "[temples]" in text and "[morning]" in text
    assert "\n" not in text and text.endswith("…")

    items, _ = store.list(query="kyo")
    found = store.snippets([c.id for c in items], "kyo")
    assert bread.id not in found  # no message matched: the title says why
    assert _marked(found[trip.id]).count("[Kyoto") == 1  # word prefix, one message


def test_fts_snippet_ignores_conversations_not_asked_for(store: ConversationStore):
    a = store.create()
    store.add_message(a.id, "user", "sourdough starter")
    b = store.create()
    store.add_message(b.id, "user", "sourdough loaf")
    assert list(store.snippets([b.id], "sourdough")) == [b.id]
    assert store.snippets([], "sourdough") == {}


@pytest.mark.parametrize("query", ["100%", "t_a", "a\\b"])
def test_like_fallback_takes_wildcards_literally(engine: Engine, query: str):
    _drop_fts(engine)
    store = ConversationStore(engine)
    hit = store.create()
    store.add_message(hit.id, "user", "Budget: 100% of rent_and_food, path a\\b here")
    miss = store.create()
    store.add_message(miss.id, "user", "1000 tXa ab")
    items, _ = store.list(query=query)
    assert [c.id for c in items] == [hit.id]
    found = store.snippets([hit.id, miss.id], query)
    assert list(found) == [hit.id]
    assert f"[{query}]" in _marked(found[hit.id])


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("plain", [{"text": "plain", "match": False}]),
        (
            "\x02Paris\x03 again",
            [{"text": "Paris", "match": True}, {"text": " again", "match": False}],
        ),
        ("a \x02b\x03\n\n c \x02d\x03", ["a ", "b", " c ", "d"]),
        ("<b>not markup</b> \x02x\x03", ["<b>not markup</b> ", "x"]),
    ],
)
def test_parts_from_marked(marked, expected):
    parts = parts_from_marked(marked)
    if expected and isinstance(expected[0], str):
        assert [p["text"] for p in parts] == expected
        assert [p["match"] for p in parts] == [i % 2 == 1 for i in range(len(expected))]
    else:
        assert parts == expected


@pytest.mark.parametrize(
    ("content", "query", "expected"),
    [
        ("short text with Match in it", "match", "short text with [Match] in it"),
        ("nothing here", "absent", ""),
        (
            "one two three four five six seven eight nine ten KEY eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen",
            "key",
            "…six seven eight nine ten [KEY] eleven twelve thirteen…",
        ),
    ],
)
def test_around(content, query, expected):
    assert _marked(around(content, query, context=30)) == expected


def test_the_list_route_returns_snippets_only_for_a_search(store: ConversationStore):
    app = FastAPI()
    install_error_handlers(app)
    app.state.conversations = store
    app.include_router(router)
    chat = store.create(title="Bread")
    store.add_message(chat.id, "user", "rye or spelt for the loaf?")
    with TestClient(app) as client:
        plain = client.get("/api/conversations").json()["items"][0]
        assert "snippet" not in plain
        item = client.get("/api/conversations", params={"q": "spelt"}).json()["items"][0]
        assert item["snippet"] == [
            {"text": "rye or ", "match": False},
            {"text": "spelt", "match": True},
            {"text": " for the loaf?", "match": False},
        ]
        titled = client.get("/api/conversations", params={"q": "bread"}).json()["items"][0]
        assert titled["snippet"] is None
