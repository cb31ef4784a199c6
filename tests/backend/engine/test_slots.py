"""Which slot a new prompt takes (slots.pick_slot), and how llama.cpp splits a step (runs)."""

from __future__ import annotations

import pytest
from hearth.engine.slots import pick_slot, runs


@pytest.mark.parametrize(
    ("slots", "expected"),
    [([], 0), ([2], 1), ([0, 1, 2], 1), ([2, 0, 1], 1), ([0, 2], 2), ([0, 1, 3, 5, 6], 3)],
)
def test_runs_of_consecutive_ids(slots, expected):
    assert runs(slots) == expected


def test_the_slot_that_saves_most_wins_even_apart_from_the_busy_ones():
    # Slot 0 holds 128 of the prompt's tokens; 2 sits beside the busy 3 but saves nothing.
    gain, prefix = {0: 128, 2: 0}, {0: 130, 2: 0}
    assert pick_slot(gain, prefix, busy={3}, lru=[2, 0, 1, 3]) == 0


def test_among_equal_savings_the_slot_beside_the_busy_ones_wins():
    # Slot 0 shares a few first tokens (too few to reuse) and was used longest ago; slot 1 is
    # beside the busy slot 2, so the two answers decode as one batch.
    gain, prefix = {0: 0, 1: 0}, {0: 6, 1: 1}
    assert pick_slot(gain, prefix, busy={2}, lru=[0, 1, 2]) == 1


def test_then_the_longest_shared_prefix_then_the_oldest():
    gain = {0: 0, 1: 0, 2: 0}
    assert pick_slot(gain, {0: 1, 1: 5, 2: 1}, busy=set(), lru=[0, 2, 1]) == 1
    assert pick_slot(gain, {0: 1, 1: 1, 2: 1}, busy=set(), lru=[2, 0, 1]) == 2
