"""Put retrieved chunks into the prompt within the context budget. Pure: tokens are counted by
the chat engine's own `count_chat_tokens`, passed in.

Policy: the excerpts may take at most half of the budget (best-scoring first, so the
conversation keeps its thread); then the history is fitted around the question carrying them
(oldest turns leave first); if the question with its excerpts still does not fit, excerpts are
dropped, the lowest-scoring first, before the question is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from hearth.chat.context import fit_history
from hearth.docs.vectors import Hit
from hearth.engine.base import ChatMessage, ContextOverflow

INSTRUCTIONS = (
    "Answer the question using the numbered excerpts from the user's documents below. "
    "Cite the excerpts you use like [1]. If they do not contain the answer, say so."
)

H = TypeVar("H", bound=Hit)


def source_label(hit: Hit) -> str:
    where = hit.file
    if hit.page is not None:
        where += f", page {hit.page}"
    elif hit.heading:
        where += f", section “{hit.heading}”"
    return where


def with_excerpts(question: str, hits: Sequence[Hit]) -> str:
    """The user's question preceded by the excerpts; the question itself is unchanged."""
    if not hits:
        return question
    blocks = [f"[{i}] ({source_label(h)})\n{h.text.strip()}" for i, h in enumerate(hits, 1)]
    return f"{INSTRUCTIONS}\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"


def fit_with_excerpts(
    system: str | None,
    turns: Sequence[ChatMessage],
    hits: Sequence[H],
    count: Callable[[list[ChatMessage]], int],
    budget: int,
) -> tuple[list[ChatMessage], list[H]]:
    """The messages to send and the hits they carry (the ones to cite)."""
    if not turns or turns[-1].role != "user":
        raise ValueError("the last turn must be the user's question")
    question = turns[-1].content
    bare = count([ChatMessage("user", question)])
    used: list[H] = []
    for hit in hits:
        candidate = [*used, hit]
        if count([ChatMessage("user", with_excerpts(question, candidate))]) - bare > budget // 2:
            continue  # a smaller, lower-scoring excerpt may still fit
        used = candidate
    while True:
        asked = ChatMessage("user", with_excerpts(question, used))
        try:
            return fit_history(system, [*turns[:-1], asked], count, budget), used
        except ContextOverflow:
            if not used:
                raise
            used = used[:-1]
