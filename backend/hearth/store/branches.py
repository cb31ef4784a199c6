"""Answer history as a tree: which messages a conversation shows, and their alternatives.

Every message follows a parent (None for a first message). Messages with the same parent are
alternatives: a regenerated answer beside the old one, an edited question beside the original,
each with its own following messages. One alternative of each group is `active`; the active
path starts at the active first message and follows the active child down. These functions are
pure, over the rows of one conversation; the store reads and writes the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from hearth.store.models import Message


class Node(Protocol):
    """What the tree needs of a message: a Message, or a row of just these columns."""

    @property
    def id(self) -> int | None: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def active(self) -> bool: ...


N = TypeVar("N", bound=Node)


@dataclass(frozen=True)
class Step:
    """A message on the active path, with the alternatives it was chosen from (itself included)."""

    message: Message
    sibling_ids: tuple[int, ...]

    @property
    def alternative(self) -> int:
        """1-based position among the alternatives, oldest first: the "2" of "2/3"."""
        return self.sibling_ids.index(self.message.id or 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.message.to_dict(),
            "sibling_ids": list(self.sibling_ids),
            "alternative": self.alternative,
            "alternatives": len(self.sibling_ids),
        }


def children(messages: Iterable[N]) -> dict[int | None, list[N]]:
    """Each parent id (None: the first messages) to its children, oldest first."""
    groups: dict[int | None, list[N]] = defaultdict(list)
    for message in sorted(messages, key=lambda m: m.id or 0):
        groups[message.parent_id].append(message)
    return groups


def shown(group: Sequence[N]) -> N:
    """The active alternative of a group; the newest if none is marked (never written so)."""
    return next((m for m in group if m.active), group[-1])


def active_path(messages: Iterable[Message]) -> list[Step]:
    """The messages the conversation shows, first to last, each with its alternatives."""
    groups = children(messages)
    path: list[Step] = []
    parent: int | None = None
    # A child's id is always above its parent's (it was inserted later), so this ends.
    while group := groups.get(parent):
        message = shown(group)
        path.append(Step(message, tuple(m.id or 0 for m in group)))
        parent = message.id
    return path


def last_id(nodes: Iterable[Node]) -> int | None:
    """The id of the active path's last message, which a new message follows by default."""
    groups = children(nodes)
    last: int | None = None
    while group := groups.get(last):
        last = shown(group).id
    return last


def lineage(messages: Iterable[Message], message_id: int) -> list[Message]:
    """The message and those it follows, first to last: the history an answer to it sees."""
    by_id = {m.id: m for m in messages}
    chain: list[Message] = []
    current = by_id.get(message_id)
    while current is not None:
        chain.append(current)
        current = by_id.get(current.parent_id) if current.parent_id is not None else None
    return chain[::-1]
