"""Token counts from the embedding model's own tokenizer (llama.cpp, vocabulary only).

Chunks are sized in the tokens the embedding model will really see. Loading with
`vocab_only=True` reads just the tokenizer from the GGUF (no weights), and counts are cached
per unit: words repeat so much in real text that most lookups never reach llama.cpp. Measured
on this machine (bench/bench_docs.py): chunking costs a few per cent of ingest time; the
embedding itself is the cost.
"""

from __future__ import annotations

import threading
from pathlib import Path

from hearth.engine import llamalog
from hearth.runtime import ggml_backends

_CACHE_LIMIT = 200_000


class LlamaTokenCounter:
    """Counts tokens of short strings; thread-safe; blocking (call it off the event loop)."""

    def __init__(self, path: Path):
        llama_cpp = ggml_backends.import_llama_cpp()
        llamalog.install(False)
        with llamalog.LOAD_LOCK:
            self._llama = llama_cpp.Llama(
                model_path=str(path), vocab_only=True, verbose=False, n_ctx=8, n_batch=8
            )
        self._cache: dict[str, int] = {}
        self._lock = threading.Lock()

    def count(self, text: str) -> int:
        # Any leading whitespace counts as one space: the same for WordPiece (which drops it)
        # and close for BPE (where a newline and a space are different tokens).
        word = text.lstrip()
        key = " " + word if len(word) != len(text) else word
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        with self._lock:
            n = len(self._llama.tokenize(key.encode("utf-8"), add_bos=False, special=False))
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = n
        return n

    def close(self) -> None:
        with self._lock:
            self._llama.close()
