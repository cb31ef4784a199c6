"""Fit a conversation into the context window by dropping its oldest turns."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hearth.engine.base import ChatMessage, ContextOverflow


def fit_history(
    system: str | None,
    turns: Sequence[ChatMessage],
    count: Callable[[list[ChatMessage]], int],
    budget: int,
) -> list[ChatMessage]:
    """Keep the system prompt and the newest user turn; drop the oldest turns until it fits.

    `turns` ends with the newest user message. A user turn and the answer to it leave together,
    so the model never sees an answer without its question.
    """
    head = [ChatMessage("system", system)] if system else []
    kept = list(turns)
    while True:
        messages = head + kept
        used = count(messages)
        if used <= budget:
            return messages
        if len(kept) <= 1:
            raise ContextOverflow(
                f"The message needs {used} tokens but only {budget} fit after reserving room for "
                "the answer. Shorten it, lower max_tokens, or raise the context size."
            )
        drop = 2 if kept[0].role == "user" and len(kept) > 2 and kept[1].role == "assistant" else 1
        kept = kept[drop:]
