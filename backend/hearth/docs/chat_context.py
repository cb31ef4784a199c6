"""What a chat turn gets from the libraries attached to its conversation.

ChatService calls `prepare` before the turn and, on the generation thread, `fit` instead of
plain fit_history; the citations of the excerpts that made it into the prompt go into the
answer's `meta`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hearth.docs.prompt import fit_with_excerpts
from hearth.docs.vectors import Hit
from hearth.engine.base import ChatMessage


@dataclass
class PreparedDocs:
    library_ids: list[str]
    hits: list[Hit]
    notices: list[dict[str, Any]] = field(default_factory=list)
    used: list[Hit] = field(default_factory=list)

    def fit(
        self,
        system: str | None,
        turns: Sequence[ChatMessage],
        count: Callable[[list[ChatMessage]], int],
        budget: int,
    ) -> list[ChatMessage]:
        messages, self.used = fit_with_excerpts(system, turns, self.hits, count, budget)
        return messages

    def meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "citations": [h.citation() for h in self.used],
            "libraries": self.library_ids,
        }
        if self.notices:
            out["notices"] = self.notices
        return out
