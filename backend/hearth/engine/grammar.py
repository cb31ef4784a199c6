"""llama.cpp's GBNF helpers (llama-cpp-python's `llama_grammar`: the engine's own JSON-schema
converter, not a copy of it), for /v1's response_format and required tool calls."""

from __future__ import annotations

from types import ModuleType

from hearth import heavy


def llama_grammar() -> ModuleType:
    """The module, imported on first use under the heavy-import lock: llama_cpp may not be
    loaded yet, and a model load may be importing it on another thread (hearth/heavy.py)."""
    with heavy.imports():
        from llama_cpp import llama_grammar as module
    return module
