"""Continuous batching: up to N sequences decode together in one llama.cpp context.

One thread owns the context. Each step it builds one `llama_batch` holding every answering
sequence's next token (each under its own sequence id) plus as much of any new prompt as fits,
decodes it once, and samples each sequence from its own row of logits. A sequence that ends (its
stop, its length, its cancel, its reader gone) frees its slot at once; the others go on.

Callers submit a `Seq` and get its `Stream`. They either iterate it on a thread of their own,
reading the sequence's own queue, or `forward` it: the decode thread then hands each event to the
caller's callback itself (the model manager's, which puts it on the event loop), with no thread in
between. Either way a slow reader never holds the others back.
"""

from __future__ import annotations

import codecs
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol

from hearth.engine.base import Event, Finish, Piece, SamplingParams, TokenLogprob
from hearth.engine.slots import CHUNK, common_prefix, pick_slot, reuse, step_plan
from hearth.engine.stops import StopMatcher
from hearth.errors import ModelLoadError

log = logging.getLogger(__name__)

_DONE = object()
# Pieces a sequence may have ready that its reader has not taken yet. The decode thread runs at
# most this far ahead of each reader, so a cancel seen by the reader stops within a token or two
# (a tiny model would otherwise finish the whole answer before the reader saw its first piece).
# Two, not one: the next step can run while the reader takes the last piece.
MAX_AHEAD = 2
# A sequence's text is put as a piece when its last piece went at least this long ago; until
# then the tokens' text is gathered, and goes with a later token's. A screen shows a new frame
# every 16.7 ms, so nobody sees the difference. Each piece costs a wakeup of the event loop, of
# the client and of the UI's rendering, and on a 2-core PC that is time taken from llama.cpp's
# own threads (docs/PARALLEL.md). The first piece goes at once, and so does every piece of a
# model slower than this.
COALESCE_S = 1 / 60


class Model(Protocol):
    """What the batcher needs of the loaded model (LlamaEngine provides it)."""

    def piece(self, token: int) -> bytes: ...

    def row_logits(self, row: int) -> Any: ...

    def sample_from(self, sampler: Any, logits: Any) -> int: ...

    def greedy(self, logits: Any) -> int: ...

    def logprob(self, logits: Any, token: int, n_top: int) -> TokenLogprob: ...

    def is_end(self, token: int) -> bool: ...


@dataclass(eq=False)
class Seq:
    """One answer being generated: its prompt, how to sample it, and where its events go."""

    tokens: list[int]
    params: SamplingParams
    stops: list[str]
    cancel: threading.Event
    # A llama_sampler chain, freed by the batcher when the sequence ends; None for plain greedy
    # decoding, which the batcher does itself (_sample).
    sampler: Any
    events: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    # Where the decode thread puts each event, and what it calls after the last: this
    # sequence's own queue (read by `Batcher.read`), or a forwarding reader's callbacks
    # (`Stream.forward`).
    out: Callable[[Any], None] = field(init=False)
    closed: Callable[[], None] = field(init=False)
    slot: int = -1
    done: int = 0  # prompt tokens evaluated (or found in the slot's cache)
    generated: int = 0
    next_token: int | None = None  # sampled, not yet decoded
    abandoned: bool = False  # the reader went away
    unread: int = 0  # pieces put and not yet taken (under the batcher's lock)
    kept: Any = None  # the last prompt token's logits, kept from an identical earlier prompt
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))
    matcher: StopMatcher = field(init=False)
    pending: list[TokenLogprob] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # text not yet put (Batcher._sample)
    sent_at: float = float("-inf")  # when a piece was last put

    def __post_init__(self) -> None:
        self.matcher = StopMatcher(self.stops)
        self.out = self.events.put
        self.closed = functools.partial(self.events.put, _DONE)

    @property
    def ended(self) -> bool:
        return self.cancel.is_set() or self.abandoned


class Batcher:
    def __init__(
        self,
        lib: Any,
        ctx: Any,
        batch: Any,
        model: Model,
        *,
        n_parallel: int,
        n_batch: int,
        n_ctx: int,
        free_sampler: Callable[[Any], None],
        exact_reuse: bool = True,
        coalesce_s: float = COALESCE_S,
    ):
        self._lib, self._ctx, self._batch = lib, ctx, batch
        self._model = model
        self._n_batch, self._n_ctx = n_batch, n_ctx
        self._free_sampler = free_sampler
        self._exact_reuse = exact_reuse
        self._coalesce_s = coalesce_s
        self._cached: dict[int, list[int]] = {s: [] for s in range(n_parallel)}
        # Per slot: how many leading cached tokens were computed as whole aligned prompt chunks,
        # each alone in its decode, exactly as a fresh evaluation computes them (slots.reuse).
        self._exact: dict[int, int] = {s: 0 for s in range(n_parallel)}
        # Per slot: (prompt length, its last token's logits), when the whole prompt was
        # evaluated exactly. The same prompt again (a regenerate, a script's repeated request)
        # then starts from them: nothing to evaluate, and the very logits a fresh run gets.
        self._kept: dict[int, tuple[int, Any]] = {}
        self.prompt_tokens = 0  # prompt tokens evaluated, for tests and the bench
        self._lru: list[int] = list(range(n_parallel))  # slot ids, least recently used first
        self._active: list[Seq] = []
        self._incoming: list[Seq] = []
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="hearth-decode", daemon=True)
        self._thread.start()

    # -- callers' side --------------------------------------------------------------------------

    def stream(self, make: Callable[[], Seq]) -> Stream:
        """The events of the sequence `make` builds; it is built and submitted only when the
        stream is first read or forwarded, so its errors (a bad prompt, an unloaded model)
        come from there."""
        return Stream(self, make)

    def submit(self, seq: Seq) -> None:
        with self._cond:
            if self._closing:
                self._release_sampler(seq)
                raise ModelLoadError("The model was unloaded.", code="model_unloaded")
            self._incoming.append(seq)
            self._cond.notify()

    def read(self, seq: Seq) -> Iterator[Event]:
        try:
            while True:
                item = seq.events.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, Piece):
                    self.taken(seq)
                yield item
        finally:
            seq.abandoned = True  # a reader that stops early ends its own sequence only
            with self._cond:
                self._cond.notify()

    def taken(self, seq: Seq) -> None:
        """The reader has taken one of the sequence's pieces: it may run ahead again."""
        with self._cond:
            seq.unread -= 1
            if seq.unread == MAX_AHEAD - 1:
                self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout=30)

    # -- the decode thread ----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._active or self._incoming or self._closing):
                    self._cond.wait()
                if self._closing:
                    break
                self._admit()
            try:
                if not self._step():
                    self._wait_for_readers()
            except Exception as exc:  # a failed decode: every running answer gets the error
                log.exception("decode step failed")
                self._fail_all(exc)
        self._fail_all(ModelLoadError("The model was unloaded.", code="model_unloaded"))
        with self._cond:
            for seq in self._incoming:
                self._end(seq, ModelLoadError("The model was unloaded.", code="model_unloaded"))
            self._incoming.clear()

    def _admit(self) -> None:
        busy = {s.slot for s in self._active}
        while self._incoming and len(busy) < len(self._cached):
            seq = self._incoming.pop(0)
            prefix = {
                s: common_prefix(t, seq.tokens) for s, t in self._cached.items() if s not in busy
            }
            gain = {s: self._gain(s, seq.tokens, shared) for s, shared in prefix.items()}
            slot = pick_slot(gain, prefix, busy, self._lru)
            kept = self._kept.pop(slot, None)
            if kept is not None and gain[slot] == len(seq.tokens):  # only a repeat saves it all
                self._ctx.kv_cache_seq_rm(slot, kept[0], -1)  # the last answer goes
                del self._cached[slot][kept[0] :]
                seq.slot, seq.done, seq.kept = slot, kept[0], kept[1]
                self._kept[slot] = kept
                self._use(slot, busy, seq)
                continue
            n_past = gain[slot]
            if not self._ctx.kv_cache_seq_rm(slot, n_past, -1):
                # A cache that cannot drop a tail (recurrent models) starts the slot afresh.
                self._ctx.kv_cache_seq_rm(slot, -1, -1)
                n_past = 0
            del self._cached[slot][n_past:]
            self._exact[slot] = n_past
            seq.slot, seq.done = slot, n_past
            self._use(slot, busy, seq)

    def _gain(self, slot: int, tokens: list[int], shared: int) -> int:
        """The prompt tokens the slot's cache saves evaluating: all of a repeated prompt whose
        logits it kept, else what `reuse` takes from it."""
        kept = self._kept.get(slot)
        if self._exact_reuse and kept is not None and shared == kept[0] == len(tokens):
            return len(tokens)
        exact = self._exact[slot] if self._exact_reuse else None
        return reuse(shared, len(tokens), exact)

    def _use(self, slot: int, busy: set[int], seq: Seq) -> None:
        self._lru.remove(slot)
        self._lru.append(slot)
        busy.add(slot)
        self._active.append(seq)

    def _ready(self, seq: Seq) -> bool:
        # Gathered text counts as a piece: the reader is never further behind than MAX_AHEAD.
        ahead = seq.unread + (1 if seq.held else 0)
        return seq.next_token is not None and ahead < MAX_AHEAD

    def _wait_for_readers(self) -> None:
        with self._cond:
            if not any(self._ready(s) or s.ended for s in self._active) and not self._closing:
                self._cond.wait(0.05)

    def _step(self) -> bool:
        """One decode of everything that can go on; False when every answer waits for its
        reader (nothing was decoded)."""
        for seq in [s for s in self._active if s.ended]:
            self._finish(seq, "stopped")
        for seq in [s for s in self._active if s.kept is not None]:
            kept, seq.kept = seq.kept, None
            self._sample(seq, kept=kept)
        if not self._active:
            return True
        answering = [s for s in self._active if self._ready(s)]
        replying = {id(s) for s in answering}
        filling = [s for s in self._active if s.next_token is None and s.done < len(s.tokens)]
        for seq in self._active:
            # Gathered text waits for the sequence's next token only when that comes soon: not
            # when the sequence waits for its reader, nor when a prompt shares the step.
            if seq.held and (filling or id(seq) not in replying):
                self._send(seq)
        plan = step_plan(
            [id(s) for s in answering],
            [(id(s), len(s.tokens) - s.done) for s in filling],
            self._n_batch,
        )
        if not answering and not plan:
            return False
        by_id = {id(s): s for s in filling}
        rows: list[tuple[int, Seq]] = []  # batch rows whose logits are sampled
        b = self._batch
        n = 0

        def put(token: int, seq: Seq, logits: bool) -> None:
            nonlocal n
            cache = self._cached[seq.slot]
            b.token[n], b.pos[n], b.n_seq_id[n] = token, len(cache), 1
            b.seq_id[n][0] = seq.slot
            b.logits[n] = logits
            cache.append(token)
            if logits:
                rows.append((n, seq))
            n += 1

        takes = dict(plan)
        # In slot order: llama.cpp decodes a run of consecutive sequence ids as one ubatch only
        # when the batch lists them in that order (slots.runs).
        for seq in sorted(self._active, key=attrgetter("slot")):
            if id(seq) in replying:
                assert seq.next_token is not None
                put(seq.next_token, seq, True)
                seq.next_token = None
            elif take := takes.get(id(seq)):
                end = seq.done + take
                for i in range(seq.done, end):
                    put(seq.tokens[i], seq, i == len(seq.tokens) - 1)
                seq.done = end
        b.n_tokens = n
        rc = self._lib.llama_decode(self._ctx.ctx, b)
        if rc != 0:
            raise ModelLoadError(f"llama_decode failed with code {rc}", code="decode_failed")
        self.prompt_tokens += n - len(answering)
        alone = len(plan) == 1 and n == plan[0][1]
        if alone and n == CHUNK:
            # A whole chunk, alone in its decode: what a fresh evaluation computes, bit for bit.
            seq = by_id[plan[0][0]]
            if self._exact[seq.slot] == seq.done - CHUNK:
                self._exact[seq.slot] = seq.done
        for row, seq in rows:
            # A prompt's last chunk alone in its decode, all before it exact: its logits are
            # what a fresh evaluation gives, worth keeping for the same prompt again.
            exact = self._exact[seq.slot] >= len(seq.tokens) - n
            if seq.generated == 0 and alone and self._exact_reuse and exact:
                self._kept[seq.slot] = (len(seq.tokens), self._model.row_logits(row).copy())
            self._sample(seq, row=row)
        return True

    def _send(self, seq: Seq, now: float | None = None) -> None:
        """Put the text gathered since the last piece as one piece, if there is any."""
        if seq.held:
            self._put(seq, Piece("".join(seq.held), tuple(seq.pending)))
            seq.held.clear()
            seq.pending.clear()
            seq.sent_at = time.monotonic() if now is None else now

    def _put(self, seq: Seq, piece: Piece) -> None:
        with self._cond:
            seq.unread += 1
        seq.out(piece)

    def _sample(self, seq: Seq, *, row: int = -1, kept: Any = None) -> None:
        """Sample from batch row `row` of the context's logits, or from `kept` logits."""
        lib, model = self._lib, self._model
        if seq.sampler is None:
            # Plain greedy: the first highest logit, which is what llama.cpp's greedy sampler
            # picks, without first copying the whole vocabulary into a candidates array (about
            # 65 µs of the decode thread's time per token with SmolLM2's 49,152 tokens).
            token = model.greedy(model.row_logits(row) if kept is None else kept)
        elif kept is None:
            token = lib.llama_sampler_sample(seq.sampler, self._ctx.ctx, row)
        else:
            token = model.sample_from(seq.sampler, kept)
        if model.is_end(token):
            self._finish(seq, "stop")
            return
        seq.generated += 1
        if seq.params.logprobs is not None:
            logits = model.row_logits(row) if kept is None else kept
            seq.pending.append(model.logprob(logits, token, seq.params.logprobs))
        text, hit = seq.matcher.feed(seq.decoder.decode(model.piece(token)))
        if text:
            seq.held.append(text)
            now = time.monotonic()
            if now - seq.sent_at >= self._coalesce_s:
                self._send(seq, now)
        if hit:  # the stop sequence's own tokens are not part of the answer
            self._finish(seq, "stop")
        elif seq.generated >= seq.params.max_tokens or self._window_full(seq):
            self._finish(seq, "length")
        else:
            seq.next_token = token

    def _window_full(self, seq: Seq) -> bool:
        return len(self._cached[seq.slot]) + 1 >= self._n_ctx

    def _finish(self, seq: Seq, reason: str) -> None:
        if reason != "stop":  # held back for a stop string that never came, or half a character
            tail = seq.matcher.flush() + seq.decoder.decode(b"", final=True)
            if tail:
                seq.held.append(tail)
        self._send(seq)
        self._active.remove(seq)
        self._end(seq, Finish(reason, len(seq.tokens), seq.generated))  # type: ignore[arg-type]

    def _end(self, seq: Seq, last: Finish | BaseException) -> None:
        self._release_sampler(seq)
        seq.out(last)
        seq.closed()

    def _release_sampler(self, seq: Seq) -> None:
        if seq.sampler is not None:  # plain greedy has no chain (_sample)
            self._free_sampler(seq.sampler)

    def _fail_all(self, exc: BaseException) -> None:
        # The KV cache is now in an unknown state: forget every prefix we thought we had.
        self._ctx.kv_cache_clear()
        for cache in self._cached.values():
            cache.clear()
        self._exact = dict.fromkeys(self._exact, 0)
        self._kept.clear()
        for seq in list(self._active):
            self._active.remove(seq)
            self._send(seq)  # what it had said stands; the error follows
            self._end(seq, exc)


class Stream:
    """One sequence's events, as an iterator (blocking: read it on a thread of its own), or
    forwarded by the decode thread as they come (`forward`)."""

    def __init__(self, batcher: Batcher, make: Callable[[], Seq]):
        self._batcher = batcher
        self._make = make
        self._seq: Seq | None = None
        self._reading: Iterator[Event] | None = None

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> Event:
        if self._reading is None:
            self._reading = self._batcher.read(self._start())
        return next(self._reading)

    def _start(
        self, out: Callable[[Any], None] | None = None, closed: Callable[[], None] | None = None
    ) -> Seq:
        """Build the sequence (its errors surface here) and submit it, with the decode thread
        putting its events on its own queue or, when given, calling `out` and `closed`."""
        self._seq = seq = self._make()
        if out is not None and closed is not None:
            seq.out, seq.closed = out, closed
        self._batcher.submit(seq)
        return seq

    def close(self) -> None:
        """Stop reading early: the sequence ends at the next step, as when the reader drops it."""
        if self._reading is not None:
            self._reading.close()  # type: ignore[attr-defined]

    def forward(
        self, send: Callable[[Event | BaseException], None], done: Callable[[], None]
    ) -> None:
        """Submit the sequence with the decode thread calling `send` with each event (its
        pieces, then the Finish or the error) and `done` after the last. Both run on the decode
        thread, so they must be quick and must not raise. The reader calls `taken` for each
        Piece it takes, which keeps the decode thread at most MAX_AHEAD pieces ahead of it (a
        cancel then comes in time); the sequence's `cancel` ends it early."""
        self._start(send, done)

    def taken(self) -> None:
        assert self._seq is not None, "taken before the stream started"
        self._batcher.taken(self._seq)
