"""Embeddings in process: our own batch loop over llama.cpp, the pooling done by llama.cpp.

Why not llama-cpp-python's `Llama.embed`: it runs with flash attention off (on this CPU
backend that path is 2.5 times slower), tokenizes every text
twice when the caller wants a token count, and hands back Python lists built float by float.
Here each text is tokenized once, several texts share one `llama_decode` (each under its own
sequence id, as `llama-server` batches its slots), llama.cpp pools every sequence, and numpy
normalises the rows. docs/INGEST.md has the measurements behind the sizes below.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# Imported with this module, under heavy.imports(): numpy would load ctypeslib lazily, on the
# first use, in the decode thread.
from numpy.ctypeslib import as_array

from hearth.engine import llamalog
from hearth.engine.llama import _load_llama, replace_context, usable_threads
from hearth.errors import BadRequest, HearthError, ModelLoadError
from hearth.runtime import ggml_backends

# Tokens per llama_decode. Every sequence of a batch attends over the whole batch (masked), so
# on a CPU more sequences per decode soon cost more in attention than they save in matmul
# overhead: 512 (two ~250-token chunks) measured best on 2 cores, 2048 17 % slower.
DECODE_TOKENS = 512
MAX_SEQS = 16  # sequences per decode: many short texts (queries) still share one decode


def pack(lengths: Sequence[int], budget: int, max_seqs: int) -> list[tuple[int, int]]:
    """Consecutive index ranges [i, j) whose token counts fit one decode. Pure.

    Order is kept (the vectors come back in input order); a length above `budget` still gets
    its own range, for the caller to have truncated it first.
    """
    groups: list[tuple[int, int]] = []
    start, used = 0, 0
    for i, n in enumerate(lengths):
        if i > start and (used + n > budget or i - start >= max_seqs):
            groups.append((start, i))
            start, used = i, 0
        used += n
    if start < len(lengths):
        groups.append((start, len(lengths)))
    return groups


def truncate(tokens: list[int], window: int, keeps_last: bool) -> list[int]:
    """The tokens the model can read, at most `window`. Pure.

    BERT-style models end every input with [SEP]; a cut keeps it, so that a long text is read
    as its beginning, well formed, and never refused (a search query may be any length).
    """
    if len(tokens) <= window:
        return tokens
    if keeps_last and window > 1:
        return tokens[: window - 1] + tokens[-1:]
    return tokens[:window]


class LlamaEmbedder:
    """An embedding model (BERT-style GGUF) loaded beside the chat model, on the CPU."""

    def __init__(
        self,
        model_id: str,
        path: Path,
        *,
        n_threads: int | None = None,
        decode_tokens: int = DECODE_TOKENS,
        max_seqs: int = MAX_SEQS,
        flash_attn: bool = True,
        verbose: bool = False,
    ):
        threads = usable_threads(n_threads)
        self.model_id = model_id
        self.n_threads = threads
        lib = ggml_backends.import_llama_cpp()
        self._lib = lib
        # n_ctx=0: the model's trained window (512 for BERT); its context is swapped below.
        self._llm = _load_llama(
            path,
            embedding=True,
            n_ctx=0,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=0,
            verbose=verbose,
        )
        self._model = self._llm._model
        self.window = int(self._llm._model.n_ctx_train()) or int(self._llm.n_ctx())
        # Non-causal attention: llama.cpp needs every sequence inside one ubatch.
        self.decode_tokens = max(decode_tokens, self.window)
        self.max_seqs = max(1, max_seqs)
        self._ctx = self._context(flash_attn)
        self.n_embd = int(lib.llama_model_n_embd(self._model.model))
        vocab = lib.llama_model_get_vocab(self._model.model)
        self._keeps_last = bool(
            lib.llama_vocab_get_add_eos(vocab) or lib.llama_vocab_get_add_sep(vocab)
        )
        self._batch = lib.llama_batch_init(self.decode_tokens, 0, self.max_seqs)
        self._lock = threading.Lock()
        # What llama_decode itself costs, for the bench's profile of ingest (docs/INGEST.md).
        self.decode_seconds = 0.0
        self.decoded_tokens = 0

    def _context(self, flash_attn: bool):
        """Our context in place of the one llama-cpp-python made: several sequences, pooled,
        flash attention as llama-server decides."""
        lib = self._lib
        pooling = int(lib.llama_pooling_type(self._llm._ctx.ctx))
        if pooling == lib.LLAMA_POOLING_TYPE_RANK:
            self._llm.close()
            raise ModelLoadError(
                "This model is a reranker, not an embedding model.", code="not_embedding_model"
            )
        fields = {
            "n_ctx": self.decode_tokens,
            "n_batch": self.decode_tokens,
            "n_ubatch": self.decode_tokens,
            "n_seq_max": self.max_seqs,
            "kv_unified": True,  # a causal embedder's KV cache: one pool, cleared per batch
            # Auto, as llama-server decides: on for the CPU. Its F16 attention moves vectors by
            # up to 1.6e-4 in cosine from the F32 path (docs/INGEST.md); off exists to prove the
            # rest of the loop exact.
            "flash_attn_type": lib.LLAMA_FLASH_ATTN_TYPE_AUTO
            if flash_attn
            else lib.LLAMA_FLASH_ATTN_TYPE_DISABLED,
        }
        if pooling == lib.LLAMA_POOLING_TYPE_NONE:
            # A model without a pooling of its own: one vector per text is what callers need.
            fields["pooling_type"] = lib.LLAMA_POOLING_TYPE_MEAN
        llamalog.mark()
        try:
            return replace_context(self._llm, **fields)
        except ValueError as exc:
            code, message = llamalog.classify_load_failure(llamalog.since_mark() + str(exc))
            raise ModelLoadError(
                message, code=code, status=llamalog.LOAD_FAILURE_STATUS.get(code)
            ) from exc

    def tokenize(self, text: str) -> list[int]:
        tokens = self._model.tokenize(text.encode("utf-8"), True, False)
        return truncate(tokens, self.window, self._keeps_last)

    def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], int]:
        """L2-normalised vectors of `texts`, and the tokens the model read."""
        if not texts:
            return [], 0
        with self._lock:
            tokens = [self.tokenize(t) for t in texts]
            if not all(tokens):
                raise BadRequest("An empty text has no embedding with this model.")
            out = np.empty((len(tokens), self.n_embd), dtype=np.float32)
            for start, end in pack([len(t) for t in tokens], self.decode_tokens, self.max_seqs):
                self._decode(tokens[start:end], out[start:end])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(norms > 0, norms, 1.0)  # as Llama.embed(normalize=True): 0 stays 0
        return out.tolist(), sum(len(t) for t in tokens)

    def _decode(self, group: list[list[int]], out: np.ndarray) -> None:
        lib, batch, ctx = self._lib, self._batch, self._ctx.ctx
        n = sum(len(t) for t in group)
        token = as_array(batch.token, shape=(n,))
        pos = as_array(batch.pos, shape=(n,))
        k = 0
        for seq, toks in enumerate(group):
            m = len(toks)
            token[k : k + m] = toks
            pos[k : k + m] = np.arange(m, dtype=np.int32)
            for i in range(k, k + m):
                batch.seq_id[i][0] = seq
            k += m
        as_array(batch.n_seq_id, shape=(n,))[:] = 1
        # Every token an output: llama.cpp pools the outputs, and warns otherwise.
        as_array(batch.logits, shape=(n,))[:] = 1
        batch.n_tokens = n
        memory = lib.llama_get_memory(ctx)
        if memory:  # BERT keeps no KV cache; a causal embedder's holds the last batch
            lib.llama_memory_clear(memory, True)
        started = time.perf_counter()
        rc = lib.llama_decode(ctx, batch)
        self.decode_seconds += time.perf_counter() - started
        self.decoded_tokens += n
        if rc != 0:
            raise HearthError(
                f"llama_decode failed ({rc}) on {len(group)} texts, {n} tokens.",
                code="embedding_failed",
            )
        for seq in range(len(group)):
            row = lib.llama_get_embeddings_seq(ctx, seq)
            if not row:
                raise HearthError("llama.cpp pooled no embedding.", code="embedding_failed")
            out[seq] = as_array(row, shape=(self.n_embd,))

    def close(self) -> None:
        with self._lock:
            if self._batch is not None:
                self._lib.llama_batch_free(self._batch)
                self._batch = None
            self._ctx.close()
            self._llm.close()
