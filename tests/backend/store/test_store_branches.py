"""Answer history: alternatives kept as a tree, the active path, and the migration to it."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from hearth.errors import NotFound
from hearth.store.branches import active_path, last_id, lineage
from hearth.store.conversations import ConversationStore
from hearth.store.db import close_database, open_database
from hearth.store.migrations import MIGRATIONS
from hearth.store.models import Message
from sqlalchemy.engine import Engine

# -- the pure tree functions ---------------------------------------------------------------


def _rows(*rows: tuple[int, int | None, bool]) -> list[Message]:
    return [
        Message(id=i, conversation_id="c", role="user", content=f"m{i}", parent_id=p, active=a)
        for i, p, a in rows
    ]


@pytest.mark.parametrize(
    ("rows", "path", "siblings"),
    [
        ([], [], []),
        # One line, as every conversation was before alternatives.
        ([(1, None, True), (2, 1, True), (3, 2, True)], [1, 2, 3], [(1,), (2,), (3,)]),
        # A regenerated answer (4) beside the first (2); the first is shown again.
        ([(1, None, True), (2, 1, True), (4, 1, False)], [1, 2], [(1,), (2, 4)]),
        ([(1, None, True), (2, 1, False), (4, 1, True)], [1, 4], [(1,), (2, 4)]),
        # An edited first question (3) is a second root, with its own answer (5).
        (
            [(1, None, False), (2, 1, True), (3, None, True), (5, 3, True)],
            [3, 5],
            [(1, 3), (5,)],
        ),
        # Rows in any order; a group with nothing marked shows its newest.
        ([(7, 1, False), (1, None, True), (6, 1, False)], [1, 7], [(1,), (6, 7)]),
    ],
)
def test_active_path(rows, path, siblings):
    steps = active_path(_rows(*rows))
    assert [s.message.id for s in steps] == path
    assert [s.sibling_ids for s in steps] == siblings
    assert last_id(_rows(*rows)) == (path[-1] if path else None)


def test_a_step_says_which_alternative_it_is():
    (root, answer) = active_path(_rows((1, None, True), (2, 1, False), (4, 1, True), (9, 1, False)))
    assert (answer.alternative, len(answer.sibling_ids)) == (2, 3)
    shown = answer.to_dict()
    assert (shown["id"], shown["parent_id"], shown["sibling_ids"]) == (4, 1, [2, 4, 9])
    assert (shown["alternative"], shown["alternatives"]) == (2, 3)
    assert (root.to_dict()["alternative"], root.to_dict()["alternatives"]) == (1, 1)


def test_lineage_follows_parents_whatever_is_shown():
    rows = _rows((1, None, True), (2, 1, False), (3, 2, True), (4, 1, True))
    assert [m.id for m in lineage(rows, 3)] == [1, 2, 3]
    assert [m.id for m in lineage(rows, 4)] == [1, 4]
    assert lineage(rows, 99) == []


# -- the store -----------------------------------------------------------------------------


def _ids(store: ConversationStore, chat: str) -> list[int | None]:
    return [m.id for m in store.messages(chat)]


def test_regenerate_keeps_the_old_answer_as_an_alternative(store: ConversationStore):
    chat = store.create().id
    question = store.add_message(chat, "user", "Rye or spelt?")
    first = store.add_message(chat, "assistant", "Rye.")
    second = store.add_message(chat, "assistant", "Spelt.", parent_id=question.id)

    steps = store.path(chat)
    assert [s.message.id for s in steps] == [question.id, second.id]
    assert steps[1].sibling_ids == (first.id, second.id)
    assert steps[1].alternative == 2
    # Both are stored; the old one is back when chosen, and the choice is kept.
    store.select(chat, first.id)
    assert _ids(store, chat) == [question.id, first.id]
    assert _ids(ConversationStore(store._engine), chat) == [question.id, first.id]
    # The next turn follows the shown answer.
    follow_up = store.add_message(chat, "user", "Why?")
    assert follow_up.parent_id == first.id
    assert _ids(store, chat) == [question.id, first.id, follow_up.id]


def test_an_edit_is_a_branch_that_keeps_the_old_one_with_its_answers(store: ConversationStore):
    chat = store.create().id
    q1 = store.add_message(chat, "user", "Bake bread?")
    a1 = store.add_message(chat, "assistant", "Yes.")
    q2 = store.add_message(chat, "user", "How long?")
    a2 = store.add_message(chat, "assistant", "An hour.")

    edited = store.add_message(chat, "user", "Bake cake?", parent_id=None)
    cake = store.add_message(chat, "assistant", "Sure.", parent_id=edited.id)

    steps = store.path(chat)
    assert [s.message.id for s in steps] == [edited.id, cake.id]
    assert steps[0].sibling_ids == (q1.id, edited.id)
    # Back to the original question: its whole branch as it was left.
    after = store.select(chat, q1.id)
    assert [s.message.id for s in after] == [q1.id, a1.id, q2.id, a2.id]
    assert store.get(chat).title == "Bake bread?"  # the first question named it; an edit does not


def test_select_leaves_the_choices_inside_each_branch(store: ConversationStore):
    chat = store.create().id
    q = store.add_message(chat, "user", "q")
    a = store.add_message(chat, "assistant", "a")
    b = store.add_message(chat, "assistant", "b", parent_id=q.id)
    q_edit = store.add_message(chat, "user", "q'", parent_id=None)
    store.select(chat, q.id)
    assert _ids(store, chat) == [q.id, b.id]  # b was the shown answer of that branch
    store.select(chat, a.id)
    store.select(chat, q_edit.id)
    store.select(chat, q.id)
    assert _ids(store, chat) == [q.id, a.id]
    assert store.select(chat, a.id) == store.path(chat)  # choosing the shown one changes nothing


def test_unknown_or_foreign_ids_are_not_found(store: ConversationStore):
    chat = store.create().id
    other = store.create().id
    foreign = store.add_message(other, "user", "elsewhere")
    for call in (
        lambda: store.select(chat, foreign.id or 0),
        lambda: store.select(chat, 10**12),
        lambda: store.select("missing", foreign.id or 0),
        lambda: store.add_message(chat, "assistant", "x", parent_id=foreign.id),
        lambda: store.lineage(chat, foreign.id or 0),
    ):
        with pytest.raises(NotFound):
            call()
    assert store.messages(chat) == []


def test_deleting_a_conversation_deletes_every_branch(store: ConversationStore, engine: Engine):
    chat = store.create().id
    kept = store.create().id
    q = store.add_message(chat, "user", "q")
    store.add_message(chat, "assistant", "a")
    store.add_message(chat, "assistant", "b", parent_id=q.id)
    store.add_message(chat, "user", "q'", parent_id=None)
    # A long line too: deleting it is one statement, not a cascade a thousand levels deep.
    # Written in one transaction (1,200 commits would take seconds of fsync).
    parent = store.add_message(chat, "user", "line").id
    with engine.begin() as conn:
        for i in range(1200):
            parent = conn.exec_driver_sql(
                "INSERT INTO message (conversation_id, parent_id, role, content, created_at) "
                "VALUES (?, ?, 'user', ?, '2024-03-01T10:00:00.000000Z')",
                (chat, parent, f"line {i}"),
            ).lastrowid
    assert len(store.messages(chat)) == 1202  # q', then the line
    store.add_message(kept, "user", "stay")

    store.delete(chat)

    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM message").scalar() == 1
        assert conn.exec_driver_sql("SELECT count(*) FROM message_fts").scalar() == 1


def test_one_shown_alternative_per_group_is_enforced_by_the_schema(
    store: ConversationStore, engine: Engine
):
    chat = store.create().id
    q = store.add_message(chat, "user", "q")
    store.add_message(chat, "assistant", "a")
    late = store.add_message(chat, "assistant", "b", parent_id=q.id)
    with pytest.raises(Exception, match="UNIQUE"), engine.begin() as conn:
        conn.exec_driver_sql("UPDATE message SET active = 1 WHERE parent_id = ?", (q.id,))
    # A lone message with followers cannot be deleted out from under them either.
    with pytest.raises(Exception, match="FOREIGN KEY"), engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM message WHERE id = ?", (q.id,))
    assert _ids(store, chat) == [q.id, late.id]


# -- migrating files written before alternatives existed -------------------------------------


def _v4_file(path: Path) -> None:
    """A file as Hearth wrote it at schema v4, built by the released steps themselves."""
    path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for version, step in MIGRATIONS:
            if version <= 4:
                step(conn)
        conn.execute("PRAGMA user_version = 4")
        conn.execute(
            "INSERT INTO conversation VALUES ('a', 'Bread', NULL, 'smollm', "
            "'2024-03-01T10:00:00.000000Z', '2024-03-01T10:00:00.000000Z'), "
            "('b', 'Trip', NULL, NULL, "
            "'2024-03-01T10:00:00.000000Z', '2024-03-01T10:00:00.000000Z')"
        )
        # Two conversations written in turns, so that ids interleave.
        rows = [
            ("a", "system", "Be terse."),
            ("a", "user", "Rye?"),
            ("b", "user", "Lisbon?"),
            ("a", "assistant", "Yes."),
            ("b", "assistant", "In May."),
            ("a", "user", "Spelt?"),
        ]
        for conversation, role, content in rows:
            conn.execute(
                "INSERT INTO message (conversation_id, role, content, created_at, tokens_per_s)"
                " VALUES (?, ?, ?, '2024-03-01T10:00:00.000000Z', 12.5)",
                (conversation, role, content),
            )


def test_a_v4_file_migrates_to_one_line_per_conversation(db_path: Path):
    _v4_file(db_path)
    engine = open_database(db_path)
    try:
        store = ConversationStore(engine)
        a = store.path("a")
        assert [(s.message.id, s.message.parent_id, s.message.role) for s in a] == [
            (1, None, "system"),
            (2, 1, "user"),
            (4, 2, "assistant"),
            (6, 4, "user"),
        ]
        assert all(s.sibling_ids == (s.message.id,) and s.message.active for s in a)
        assert [(m.id, m.parent_id, m.content) for m in store.messages("b")] == [
            (3, None, "Lisbon?"),
            (5, 3, "In May."),
        ]
        assert all(s.message.tokens_per_s == 12.5 for s in a)  # nothing else changed
        # Old conversations carry on, and branch, like new ones.
        answer = store.add_message("a", "assistant", "Yes, spelt.")
        assert answer.parent_id == 6
        again = store.add_message("a", "assistant", "No.", parent_id=6)
        assert store.path("a")[-1].sibling_ids == (answer.id, again.id)
    finally:
        close_database(engine)
