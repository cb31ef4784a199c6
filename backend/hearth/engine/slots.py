"""Which KV-cache sequence a new prompt goes to, and which tokens one decode step carries. Pure.

Each of the context's N sequences (slots) keeps the tokens it last held, so a follow-up prompt
(the same conversation plus one turn) lands on the slot that already holds its prefix and only
the new tokens are evaluated, as llama-server's slot similarity does.
"""

from __future__ import annotations

from collections.abc import Sequence


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def pick_slot(free: dict[int, Sequence[int]], tokens: Sequence[int], lru: Sequence[int]) -> int:
    """The free slot sharing the longest prefix with `tokens`; among equals (none sharing
    anything, say) the one used longest ago (`lru`: slot ids, oldest first), so a slot holding
    another conversation's prefix is kept for as long as possible."""
    age = {slot: i for i, slot in enumerate(lru)}
    return max(free, key=lambda s: (common_prefix(free[s], tokens), -age.get(s, -1)))


def reuse(cached: Sequence[int], tokens: Sequence[int]) -> int:
    """How many of the prompt's tokens the slot's cache already holds. The last prompt token is
    always evaluated again: its logits are what the first answer token is sampled from."""
    n = common_prefix(cached, tokens)
    return min(n, len(tokens) - 1)


def step_plan(
    generating: Sequence[int], prefilling: Sequence[tuple[int, int]], budget: int
) -> list[tuple[int, int]]:
    """One decode step: every generating sequence's next token first (one each: a long prompt
    never stalls the streams already answering), then prompt chunks in arrival order while the
    batch has room. `prefilling` is (sequence, tokens left); returns (sequence, prompt tokens
    taken) for the prefilling ones that get a share."""
    room = budget - len(generating)
    plan: list[tuple[int, int]] = []
    for seq, left in prefilling:
        if room <= 0:
            break
        take = min(left, room)
        plan.append((seq, take))
        room -= take
    return plan
