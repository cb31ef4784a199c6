"""llama.cpp in-process: llama-cpp-python loads the model; our own lean loop generates.

Why a loop of our own: the high-level `Llama.create_chat_completion` does a lot of Python work per
token (numpy logits copies, stopping-criteria lists, per-token detokenize of the whole tail).
Driving llama.cpp's native sampler chain through the low-level bindings keeps each token to a few
ctypes calls, which is what lets the API keep pace with llama.cpp's own server.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from hearth.engine import llamalog
from hearth.engine.base import (
    ChatMessage,
    ContextOverflow,
    EngineInfo,
    Event,
    SamplingParams,
    TokenLogprob,
)
from hearth.engine.batcher import COALESCE_S, Batcher, Seq, Stream
from hearth.engine.logprobs import log_softmax, top_tokens
from hearth.engine.prompt import ChatTemplate
from hearth.errors import BadRequest, ModelLoadError
from hearth.runtime import ggml_backends

# llama.cpp's llama_token_data, for a candidate array numpy fills at once.
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])
RANDOM_SEED = 0xFFFFFFFF  # LLAMA_DEFAULT_SEED: llama.cpp draws a random seed
PENALTY_WINDOW = 64  # tokens the repetition penalties look back over


def default_threads() -> int:
    try:
        import psutil

        return max(1, psutil.cpu_count(logical=False) or os.cpu_count() or 1)
    except ImportError:  # pragma: no cover - psutil is a dependency
        return max(1, os.cpu_count() or 1)


def usable_threads(wanted: int | None) -> int:
    """The threads to run on: the wish, but never more than this machine's logical CPUs. More
    threads than CPUs only makes llama.cpp's threads wait on each other: 1024 on 2 cores turns
    a second's answer into minutes."""
    if not wanted:
        return default_threads()
    return max(1, min(wanted, os.cpu_count() or wanted))


# The n_ctx a chat model's first, throwaway context is built with: llama-cpp-python's default
# n_batch, so its batch (min(n_ctx, n_batch)) stays the size it would have been.
FIRST_CONTEXT = 512


def _load_llama(path: Path, **kwargs):
    llama_cpp = ggml_backends.import_llama_cpp()
    llamalog.install(bool(kwargs.get("verbose")))
    llamalog.mark()
    try:
        with llamalog.LOAD_LOCK:
            return llama_cpp.Llama(model_path=str(path), **kwargs)
    except (ValueError, RuntimeError, OSError) as exc:
        code, message = llamalog.classify_load_failure(llamalog.since_mark() + str(exc))
        raise ModelLoadError(
            f"{message} ({path.name})", code=code, status=llamalog.LOAD_FAILURE_STATUS.get(code)
        ) from exc


def replace_context(llm, **fields):
    """A context of llm's model in place of the one llama-cpp-python built, with `fields` set
    on a copy of its parameters (its Llama takes no n_seq_max, and leaves flash attention off).
    The old context goes first, so its memory is free for the new one. A context llama.cpp
    cannot make (ValueError) closes the model too, for the caller to say why."""
    internals = importlib.import_module("llama_cpp._internals")
    params = type(llm.context_params).from_buffer_copy(llm.context_params)
    for name, value in fields.items():
        setattr(params, name, value)
    llm._ctx.close()
    try:
        with llamalog.LOAD_LOCK:
            ctx = internals.LlamaContext(model=llm._model, params=params, verbose=llm.verbose)
    except ValueError:
        llm.close()
        raise
    llm._ctx = ctx  # closed with the model, before it
    return ctx


def _context(llm, n_ctx_seq: int, n_seq: int):
    """The engine's context, in place of the one llama-cpp-python built.

    Flash attention is llama.cpp's "auto", as llama-server's default: on wherever the device
    running the layers has the kernel. llama-cpp-python leaves it off, and on the CPU that costs
    about 8 % of SmolLM2's decode speed (docs/PARALLEL.md, "One stream against llama-server").

    With `n_seq` > 1 it holds `n_seq` sequences of `n_ctx_seq` cells each. The KV cache is split
    per sequence (kv_unified off, as `llama-server -np N` does): each answer attends only to its
    own cells, and one sequence can never fill another's window."""
    lib = ggml_backends.import_llama_cpp()
    fields: dict = {"flash_attn_type": lib.LLAMA_FLASH_ATTN_TYPE_AUTO, "n_ctx": n_ctx_seq * n_seq}
    if n_seq > 1:
        fields.update(n_seq_max=n_seq, kv_unified=False)
    try:
        return replace_context(llm, **fields)
    except ValueError as exc:
        wanted = (
            f"{n_seq} parallel answers of {n_ctx_seq} tokens each"
            if n_seq > 1
            else f"a context of {n_ctx_seq} tokens"
        )
        raise ModelLoadError(
            f"Not enough memory for {wanted}; lower the parallel answers or the context in "
            "Settings.",
            code="out_of_memory",
            status=llamalog.LOAD_FAILURE_STATUS["out_of_memory"],
        ) from exc


class LlamaEngine:
    """A chat (or completion) model loaded in this process."""

    def __init__(
        self,
        model_id: str,
        path: Path,
        *,
        n_ctx: int,
        n_gpu_layers: int = 0,
        n_threads: int | None = None,
        n_parallel: int = 1,
        exact_reuse: bool = True,
        coalesce_s: float = COALESCE_S,
        verbose: bool = False,
    ):
        threads = usable_threads(n_threads)
        self.n_parallel = max(1, n_parallel)
        self.model_id = model_id
        self.path = path
        self._gpu_layers_requested = n_gpu_layers
        self.offload_plan: dict | None = None  # the planner's decision, set by the factory
        self._llm = _load_llama(
            path,
            # The context Llama builds is replaced at once (_context): made no larger than one
            # batch, so a load allocates the whole KV cache once, not twice (a 4096-token
            # context of SmolLM2 took 50 ms to build on the CPU; on a GPU it is VRAM as well).
            # Llama's batch is min(n_ctx, n_batch), so this leaves it as it was.
            n_ctx=min(n_ctx, FIRST_CONTEXT),
            n_gpu_layers=n_gpu_layers,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=verbose,
        )
        llama_cpp = ggml_backends.import_llama_cpp()
        self._lib = llama_cpp
        self.n_threads = threads
        # Internals of the pinned llama-cpp-python: the model, context and batch it already built.
        self._model = self._llm._model
        self._ctx = _context(self._llm, n_ctx, self.n_parallel)
        self._batch = self._llm._batch
        self._vocab = llama_cpp.llama_model_get_vocab(self._model.model)
        self._n_vocab = int(llama_cpp.llama_vocab_n_tokens(self._vocab))
        # Each sequence's own window: the context is N of them side by side.
        self.n_ctx = int(llama_cpp.llama_n_ctx_seq(self._ctx.ctx))
        self._pieces: dict[int, bytes] = {}
        self._ends: dict[int, bool] = {}
        # One row of logits as a ctypes type, made once: building it per token (numpy's
        # as_array) was the decode thread's largest cost after llama_decode itself.
        self._row_type = ctypes.c_float * self._n_vocab
        self._piece_buf = ctypes.create_string_buffer(256)
        meta = self._llm.metadata
        self.template = ChatTemplate(
            meta.get("tokenizer.chat_template"),
            bos_token=self._token_text(self._model.token_bos()),
            eos_token=self._token_text(self._model.token_eos()),
        )
        self.n_layers = int(llama_cpp.llama_model_n_layer(self._model.model))
        self.supports_offload = bool(llama_cpp.llama_supports_gpu_offload())
        self._batcher = Batcher(
            llama_cpp,
            self._ctx,
            self._batch.batch,
            self,
            n_parallel=self.n_parallel,
            n_batch=self._llm.n_batch,
            n_ctx=self.n_ctx,
            free_sampler=llama_cpp.llama_sampler_free,
            exact_reuse=exact_reuse,
            coalesce_s=coalesce_s,
        )

    # -- prompt ---------------------------------------------------------------------------------

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._model.token_get_text(token)

    def _tokenize_chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[dict] | None = None
    ) -> tuple[list[int], list[str]]:
        prompt, stops, added_special = self.template.render(messages, tools)
        tokens = self._model.tokenize(prompt.encode("utf-8"), not added_special, True)
        return tokens, stops

    def count_chat_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return len(self._tokenize_chat(messages)[0])

    # -- generation -----------------------------------------------------------------------------

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: SamplingParams,
        cancel: threading.Event,
        tools: Sequence[dict] | None = None,
    ) -> Iterator[Event]:
        tokens, stops = self._tokenize_chat(messages, tools)
        return self._generate(tokens, params, [*stops, *params.stop], cancel)

    def stream_complete(
        self, prompt: str, params: SamplingParams, cancel: threading.Event
    ) -> Iterator[Event]:
        tokens = self._model.tokenize(prompt.encode("utf-8"), True, False)
        return self._generate(tokens, params, list(params.stop), cancel)

    def _generate(
        self, tokens: list[int], params: SamplingParams, stops: list[str], cancel: threading.Event
    ) -> Stream:
        def make() -> Seq:
            if not tokens:
                raise BadRequest("The prompt is empty.")
            if len(tokens) >= self.n_ctx:
                raise ContextOverflow(
                    f"The prompt is {len(tokens)} tokens; this model's context holds {self.n_ctx}."
                )
            sampler = self._make_sampler(params)  # a bad grammar is refused before it queues
            return Seq(tokens, params, stops, cancel, sampler)

        return self._batcher.stream(make)

    # -- what the batcher asks of the model (on its decode thread) ------------------------------

    def piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            n = self._lib.llama_token_to_piece(self._vocab, token, self._piece_buf, 256, 0, False)
            piece = self._piece_buf.raw[: max(n, 0)]
            self._pieces[token] = piece
        return piece

    def is_end(self, token: int) -> bool:
        end = self._ends.get(token)
        if end is None:
            end = self._ends[token] = bool(self._lib.llama_vocab_is_eog(self._vocab, token))
        return end

    def row_logits(self, row: int) -> np.ndarray:
        """The logits of batch row `row`: a view, valid until the next decode."""
        raw = self._lib.llama_get_logits_ith(self._ctx.ctx, row)
        if not raw:  # llama.cpp has no logits for that row (and has logged why)
            raise ModelLoadError(f"llama.cpp gave no logits for row {row}", code="decode_failed")
        row_data = self._row_type.from_address(ctypes.addressof(raw.contents))
        return np.frombuffer(row_data, dtype=np.float32)  # type: ignore[call-overload]

    def sample_from(self, sampler, logits: np.ndarray) -> int:
        """What `llama_sampler_sample` does with a row of the context's logits, done with kept
        logits instead: every candidate in token order, the chain applied, the choice
        accepted (the penalties and the grammar see it)."""
        lib = self._lib
        cur = np.empty(self._n_vocab, dtype=_TOKEN_DATA)
        cur["id"] = np.arange(self._n_vocab, dtype=np.int32)
        cur["logit"] = logits
        cur["p"] = 0.0
        data = lib.llama_token_data_array(
            data=cur.ctypes.data_as(ctypes.POINTER(lib.llama_token_data)),
            size=self._n_vocab,
            selected=-1,
            sorted=False,
        )
        lib.llama_sampler_apply(sampler, ctypes.byref(data))
        token = int(data.data[data.selected].id)
        lib.llama_sampler_accept(sampler, token)
        return token

    def greedy(self, logits: np.ndarray) -> int:
        """np.argmax gives the first of equal highest logits, as llama.cpp's greedy sampler."""
        return int(np.argmax(logits))

    def logprob(self, logits: np.ndarray, token: int, n_top: int) -> TokenLogprob:
        """From the logits the token was sampled from."""
        lp = log_softmax(logits)

        def named(t: int) -> tuple[str, bytes]:
            piece = self.piece(t)
            return piece.decode("utf-8", errors="replace"), piece

        alternatives = tuple((*named(t), p) for t, p in top_tokens(lp, n_top))
        return TokenLogprob(*named(token), float(lp[token]), alternatives)

    def _make_sampler(self, params: SamplingParams):
        """The llama_sampler chain for `params`; None for plain greedy decoding (no grammar, no
        penalties), which the batcher does without one."""
        lib = self._lib
        penalised = (params.repeat_penalty, params.frequency_penalty, params.presence_penalty)
        if params.temperature <= 0 and not params.grammar and penalised == (1.0, 0.0, 0.0):
            return None
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())

        def add(sampler) -> None:
            lib.llama_sampler_chain_add(chain, sampler)

        if params.grammar:
            # First: every later sampler then chooses among what the grammar allows.
            grammar = lib.llama_sampler_init_grammar(
                self._vocab, params.grammar.encode("utf-8"), b"root"
            )
            if not grammar:
                lib.llama_sampler_free(chain)
                raise BadRequest(
                    "The grammar is not valid GBNF (llama.cpp's log says where).",
                    code="bad_grammar",
                )
            add(grammar)

        if penalised != (1.0, 0.0, 0.0):
            add(lib.llama_sampler_init_penalties(self._n_vocab, PENALTY_WINDOW, *penalised))
        if params.temperature <= 0:
            add(lib.llama_sampler_init_greedy())
            return chain
        if params.top_k > 0:
            add(lib.llama_sampler_init_top_k(params.top_k))
        add(lib.llama_sampler_init_top_p(params.top_p, 1))
        if params.min_p > 0:
            add(lib.llama_sampler_init_min_p(params.min_p, 1))
        add(lib.llama_sampler_init_temp(params.temperature))
        add(lib.llama_sampler_init_dist(RANDOM_SEED if params.seed is None else params.seed))
        return chain

    # -- info -----------------------------------------------------------------------------------

    def gpu_layers_offloaded(self) -> int:
        if not self.supports_offload or self._gpu_layers_requested == 0:
            return 0
        total = self.n_layers + 1  # llama.cpp counts the output layer too
        requested = self._gpu_layers_requested
        return total if requested < 0 else min(requested, total)

    def info(self) -> EngineInfo:
        return EngineInfo(
            backend="llama.cpp",
            model=self.model_id,
            n_ctx=self.n_ctx,
            details={
                "path": str(self.path),
                "n_threads": self.n_threads,
                "n_layers": self.n_layers,
                "gpu_layers_requested": self._gpu_layers_requested,
                "gpu_layers_offloaded": self.gpu_layers_offloaded(),
                "supports_gpu_offload": self.supports_offload,
                "has_chat_template": self.template.has_template,
                "offload_plan": self.offload_plan,
            },
        )

    def close(self) -> None:
        self._batcher.close()  # the decode thread stops before the context goes
        self._llm.close()
