"""Which KV-cache sequence a new prompt goes to, and which tokens one decode step carries. Pure.

Each of the context's N sequences (slots) keeps the tokens it last held, so a follow-up prompt
(the same conversation plus one turn) lands on the slot that already holds its prefix, as
llama-server's slot similarity does.

Reuse is exact: a prompt is always evaluated in chunks of CHUNK tokens aligned to position 0,
each chunk in a decode of its own, and only whole chunks computed that way are reused. A cached
token computed in another batch shape (one at a time, as an answer is generated; or inside a
bigger chunk) went through other kernels, and a close call, such as SmolLM2's first word for
"What is the capital of France?" (0.13 nats), would then come out differently warm than cold.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def runs(slots: Iterable[int]) -> int:
    """How many runs of consecutive ids `slots` make. With a KV cache split per sequence,
    llama.cpp computes one step's batch as one ubatch per run of consecutive sequence ids, in
    the order the batch lists them (llama_batch_allocr::split_equal accepts only the next id):
    slots 0, 1, 2 decode together, slots 0 and 2 one after the other, each a matrix-vector pass
    over the whole model (a step of 4 answers took 33 ms split in two, 23 ms whole)."""
    ordered = sorted(set(slots))
    return sum(1 for i, s in enumerate(ordered) if i == 0 or s != ordered[i - 1] + 1)


def pick_slot(
    gain: Mapping[int, int],
    prefix: Mapping[int, int],
    busy: Collection[int],
    lru: Sequence[int],
) -> int:
    """The free slot for a new prompt, among `gain`'s (free slot: prompt tokens its cache
    saves evaluating). Most saved first. Among equals, the one that keeps the busy slots in the
    fewest runs of consecutive ids (`runs`: the answers then decode as one batch); then the
    longest shared `prefix` (a short follow-up goes back to its own slot); then the one used
    longest ago (`lru`: slot ids, oldest first), so a slot holding another conversation's prefix
    is kept for as long as possible."""
    age = {slot: i for i, slot in enumerate(lru)}
    return max(gain, key=lambda s: (gain[s], -runs([*busy, s]), prefix[s], -age.get(s, -1)))


# Tokens per prompt chunk. Smaller reuses more of a follow-up's prefix (at most CHUNK - 1 tokens
# of it are evaluated again); bigger evaluates long prompts in fewer, more efficient decodes.
CHUNK = 64


def reuse(shared: int, n_tokens: int, exact: int | None, chunk: int = CHUNK) -> int:
    """How many of the prompt's `n_tokens` to take from the slot's cache, of the `shared`
    prefix (`common_prefix`): only as far as `exact` (the cached tokens computed as whole
    aligned prompt chunks), and in whole chunks. The last prompt token is always evaluated
    again, in the chunk a fresh evaluation would put it in: its logits are what the first answer
    token is sampled from. `exact` None: all of the shared prefix (HEARTH_EXACT_PROMPT_CACHE
    off; faster follow-ups, answers that may differ from a cold cache's on a close call)."""
    n = min(shared, n_tokens - 1)
    if exact is None:
        return n
    n = min(n, exact)
    return n - n % chunk


def step_plan(
    generating: Sequence[int],
    prefilling: Sequence[tuple[int, int]],
    budget: int,
    chunk: int = CHUNK,
) -> list[tuple[int, int]]:
    """One decode step: every generating sequence's next token first (one each: a long prompt
    never stalls the streams already answering), then one prompt chunk per prefilling sequence,
    in arrival order, while the batch has room for a whole chunk. `prefilling` is (sequence,
    tokens left); returns (sequence, prompt tokens taken) for those that get a chunk."""
    room = budget - len(generating)
    plan: list[tuple[int, int]] = []
    for seq, left in prefilling:
        take = min(left, chunk)
        if take > room:
            break
        plan.append((seq, take))
        room -= take
    return plan
