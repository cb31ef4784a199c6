"""Answer history over the scripted engine: regenerate and edit keep the alternatives, the
choice is stored and is what the next answer sees, and the monitor counts every answer."""

from __future__ import annotations

import threading

import pytest

from tests.backend.api.sse_client import chat, sse


def _conversation(client) -> str:
    made = client.post("/api/conversations", json={"model": "fake-chat"})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _run(client, path: str, **body) -> list[tuple[str, dict]]:
    body.setdefault("params", {"max_tokens": 32})
    with client.stream("POST", path, json=body) as r:
        assert r.status_code == 200, r.read()
        return list(sse(r))


def _regenerate(client, cid: str) -> dict:
    events = _run(client, f"/api/conversations/{cid}/regenerate")
    return next(d for n, d in events if n == "done")["message"]


def _edit(client, cid: str, message_id: int, content: str) -> list[tuple[str, dict]]:
    return _run(client, f"/api/conversations/{cid}/messages/{message_id}/edit", content=content)


def _path(client, cid: str) -> list[tuple[str, str, int, int]]:
    rows = client.get(f"/api/conversations/{cid}/messages").json()
    return [(m["role"], m["content"], m["alternative"], m["alternatives"]) for m in rows]


def _select(client, cid: str, message_id: int):
    return client.post(f"/api/conversations/{cid}/messages/{message_id}/select")


def _history(call) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in call.messages if m.role != "system"]


def test_regenerate_keeps_the_old_answer_and_the_choice_is_what_follows(fake_hearth):
    factory = fake_hearth.factory
    factory.enqueue("Rye.")
    factory.enqueue("Spelt.")
    factory.enqueue("Because.")
    with fake_hearth.client() as client:
        cid = _conversation(client)
        first = chat(client, cid, "Which flour?")["done"]["message"]
        second = _regenerate(client, cid)

        rows = client.get(f"/api/conversations/{cid}/messages").json()
        assert [(m["content"], m["alternative"], m["alternatives"]) for m in rows] == [
            ("Which flour?", 1, 1),
            ("Spelt.", 2, 2),
        ]
        assert rows[1]["sibling_ids"] == [first["id"], second["id"]]
        assert rows[1]["parent_id"] == rows[0]["id"] == second["parent_id"]
        # The regenerated answer saw the question alone, not the answer it replaces.
        assert _history(factory.calls[1]) == [("user", "Which flour?")]

        chosen = _select(client, cid, first["id"])
        assert chosen.status_code == 200, chosen.text
        assert [(m["content"], m["alternative"]) for m in chosen.json()] == [
            ("Which flour?", 1),
            ("Rye.", 1),
        ]
    with fake_hearth.client() as client:  # a new client: the choice is stored
        assert _path(client, cid) == [("user", "Which flour?", 1, 1), ("assistant", "Rye.", 1, 2)]
        chat(client, cid, "Why?")
    assert _history(factory.calls[2]) == [
        ("user", "Which flour?"),
        ("assistant", "Rye."),
        ("user", "Why?"),
    ]


def test_an_edit_is_a_branch_with_its_own_answers_and_the_old_one_is_kept(fake_hearth):
    factory = fake_hearth.factory
    for text in ("Yes.", "An hour.", "Sure.", "Forty minutes."):
        factory.enqueue(text)
    with fake_hearth.client() as client:
        cid = _conversation(client)
        chat(client, cid, "Bake bread?")
        chat(client, cid, "How long?")
        original = client.get(f"/api/conversations/{cid}/messages").json()[0]

        events = _edit(client, cid, original["id"], "Bake cake?")
        start = events[0][1]
        assert start["user_message"]["content"] == "Bake cake?"
        assert start["user_message"]["parent_id"] is None
        assert _path(client, cid) == [
            ("user", "Bake cake?", 2, 2),
            ("assistant", "Sure.", 1, 1),
        ]
        # The edited question was answered from the start: nothing of the old branch.
        assert _history(factory.calls[2]) == [("user", "Bake cake?")]
        chat(client, cid, "How long?")

        back = _select(client, cid, original["id"]).json()
        assert [m["content"] for m in back] == ["Bake bread?", "Yes.", "How long?", "An hour."]
        assert (back[0]["alternative"], back[0]["sibling_ids"][0]) == (1, original["id"])
        forth = _select(client, cid, back[0]["sibling_ids"][1]).json()
        assert [m["content"] for m in forth] == [
            "Bake cake?",
            "Sure.",
            "How long?",
            "Forty minutes.",
        ]
        assert client.get(f"/api/conversations/{cid}").json()["title"] == "Bake bread?"


def test_export_is_the_active_path(fake_hearth):
    fake_hearth.factory.enqueue("Rye.")
    fake_hearth.factory.enqueue("Spelt.")
    with fake_hearth.client() as client:
        cid = _conversation(client)
        chat(client, cid, "Which flour?")
        _regenerate(client, cid)
        exported = client.get(f"/api/conversations/{cid}/export", params={"format": "json"})
        markdown = client.get(f"/api/conversations/{cid}/export").text
    assert [m["content"] for m in exported.json()["messages"]] == ["Which flour?", "Spelt."]
    assert "Spelt." in markdown and "Rye." not in markdown


@pytest.mark.parametrize(
    ("message_id", "status"),
    [("0", 422), ("-1", 422), (str(2**63), 422), ("x", 422), (str(2**63 - 1), 404), ("999", 404)],
)
def test_select_validates_its_ids(fake_hearth, message_id, status):
    with fake_hearth.client() as client:
        cid = _conversation(client)
        chat(client, cid, "Hi")
        response = _select(client, cid, message_id)
        assert response.status_code == status, response.text
        assert _select(client, "missing", 1).status_code == 404


def test_select_refuses_another_conversations_message_and_a_running_answer(fake_hearth):
    gate = threading.Event()
    with fake_hearth.client() as client:
        cid, other = _conversation(client), _conversation(client)
        foreign = chat(client, other, "Elsewhere")["done"]["message"]["id"]
        assert _select(client, cid, foreign).status_code == 404

        first = chat(client, cid, "Hi")["done"]["message"]["id"]
        script = fake_hearth.factory.enqueue("Hel", "lo", gate=gate, gate_at=1)
        body = {"params": {"max_tokens": 32}}
        refused = None
        with client.stream("POST", f"/api/conversations/{cid}/regenerate", json=body) as r:
            for name, _ in sse(r):
                # Asked once, at the first piece, while the gate holds the answer. A second
                # piece comes after the gate opened: asking then could meet the answer done.
                if name == "delta" and refused is None:
                    assert script.reached.wait(10)
                    refused = _select(client, cid, first)
                    gate.set()
        assert refused is not None
        assert refused.status_code == 409
        assert refused.json()["code"] == "conflict"


def test_the_monitor_counts_every_answer_generated(fake_hearth):
    """The monitor said "3 answers" after 9: regenerate and edit deleted the answers they
    replaced, and answers without a speed were left out."""
    factory = fake_hearth.factory
    factory.enqueue("One")  # a one-token answer has no tokens/s
    with fake_hearth.client() as client:
        cid = _conversation(client)
        chat(client, cid, "First")  # 1
        _regenerate(client, cid)  # 2
        _regenerate(client, cid)  # 3
        chat(client, cid, "Second")  # 4
        question = client.get(f"/api/conversations/{cid}/messages").json()[2]["id"]
        _edit(client, cid, question, "Second, edited")  # 5
        _regenerate(client, cid)  # 6
        other = _conversation(client)
        for text in ("a", "b", "c"):  # 7, 8, 9
            chat(client, other, text)

        history = client.get("/api/metrics/answers", params={"limit": 60}).json()
        assert history["total"] == 9
        assert len(history["answers"]) == 9
        ids = [a["message_id"] for a in history["answers"]]
        assert ids == sorted(ids)
        assert history["answers"][0]["tokens_per_s"] is None

        window = client.get("/api/metrics/answers", params={"limit": 4}).json()
        assert (window["total"], len(window["answers"])) == (9, 4)
        assert [a["message_id"] for a in window["answers"]] == ids[-4:]
