"""Retrieved excerpts go into the prompt within the budget, best first, history trimmed first."""

from __future__ import annotations

import pytest
from hearth.docs.chat_context import PreparedDocs
from hearth.docs.prompt import fit_with_excerpts, source_label, with_excerpts
from hearth.docs.retrieval import merge_hits
from hearth.docs.vectors import Hit
from hearth.engine.base import ChatMessage, ContextOverflow


def words(messages: list[ChatMessage]) -> int:
    """A stand-in tokenizer: one token per word plus four per message (template overhead)."""
    return sum(len(m.content.split()) + 4 for m in messages)


def hit(n: int, n_words: int, score: float, page: int | None = None) -> Hit:
    return Hit(
        chunk_id=f"d:{n}",
        library_id="lib",
        document_id="d",
        file=f"f{n}.pdf",
        text=" ".join([f"w{n}"] * n_words),
        score=score,
        page=page,
    )


def test_excerpts_precede_the_question_with_their_sources():
    text = with_excerpts("Where?", [hit(1, 2, 0.9, page=3), hit(2, 1, 0.5)])
    assert "[1] (f1.pdf, page 3)\nw1 w1" in text
    assert "[2] (f2.pdf)\nw2" in text
    assert text.endswith("Question: Where?")
    assert with_excerpts("Where?", []) == "Where?"


def test_everything_fits():
    turns = [
        ChatMessage("user", "old"),
        ChatMessage("assistant", "reply"),
        ChatMessage("user", "q"),
    ]
    hits = [hit(1, 10, 0.9), hit(2, 10, 0.8)]
    messages, used = fit_with_excerpts("sys", turns, hits, words, budget=500)
    assert used == hits
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[-1].content == with_excerpts("q", hits)


def test_excerpts_take_at_most_half_the_budget_skipping_big_ones():
    hits = [hit(1, 30, 0.9), hit(2, 80, 0.8), hit(3, 30, 0.7)]
    _, used = fit_with_excerpts(None, [ChatMessage("user", "q")], hits, words, budget=200)
    assert [h.chunk_id for h in used] == ["d:1", "d:3"]  # the 80-word one would pass half


def size(question: str, hits: list[Hit]) -> int:
    return words([ChatMessage("user", with_excerpts(question, hits))])


def test_history_leaves_before_excerpts():
    old = [ChatMessage("user", "a " * 60), ChatMessage("assistant", "b " * 60)]
    hits = [hit(1, 40, 0.9)]
    budget = 2 * size("q", hits)  # the excerpt is within half, but not with the history
    messages, used = fit_with_excerpts(None, [*old, ChatMessage("user", "q")], hits, words, budget)
    assert used == hits
    assert [m.role for m in messages] == ["user"]


def test_excerpts_leave_before_the_question_is_refused():
    hits = [hit(1, 20, 0.9), hit(2, 20, 0.8)]
    question = "q " * 200
    bare = size(question, [])
    both, one = size(question, hits) - bare, size(question, hits[:1]) - bare
    assert bare + one - 1 >= 2 * both  # both excerpts pass the half-budget test...
    # ...but the question with both does not fit; with the best one it does.
    messages, used = fit_with_excerpts(
        None, [ChatMessage("user", question)], hits, words, bare + one
    )
    assert used == [hits[0]]
    assert words(messages) <= bare + one
    messages, used = fit_with_excerpts(
        None, [ChatMessage("user", question)], hits, words, bare + one - 1
    )
    assert used == []
    with pytest.raises(ContextOverflow):
        fit_with_excerpts(None, [ChatMessage("user", question)], hits, words, bare - 1)


def test_meta_cites_only_what_reached_the_prompt():
    docs = PreparedDocs(["lib"], [hit(1, 10, 0.9, page=2), hit(2, 500, 0.8)])
    docs.fit(None, [ChatMessage("user", "q")], words, budget=100)
    assert docs.meta() == {
        "citations": [
            {"file": "f1.pdf", "page": 2, "score": 0.9, "chunk_id": "d:1", "library_id": "lib"}
        ],
        "libraries": ["lib"],
    }


def test_citation_shape_agreed_with_the_ui():
    with_heading = Hit("d:0", "lib", "d", "notes.md", "t", 0.51234, heading="Setup")
    assert with_heading.citation() == {
        "file": "notes.md",
        "heading": "Setup",
        "score": 0.5123,
        "chunk_id": "d:0",
        "library_id": "lib",
    }
    assert source_label(with_heading) == "notes.md, section “Setup”"


def test_merge_keeps_the_best_over_libraries_above_the_minimum():
    a = [hit(1, 1, 0.9), hit(2, 1, 0.3)]
    b = [hit(3, 1, 0.95), hit(4, 1, 0.1)]
    assert [h.chunk_id for h in merge_hits([a, b], 3, 0.2)] == ["d:3", "d:1", "d:2"]
    assert [h.chunk_id for h in merge_hits([a, b], 1, 0.0)] == ["d:3"]
    assert merge_hits([a, b], 5, 0.99) == []
