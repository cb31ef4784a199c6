"""stories260K loaded for a test module: the engine tests' one way to load it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from hearth.engine.llama import LlamaEngine


@contextlib.contextmanager
def stories_engine(request: pytest.FixtureRequest, **options: Any) -> Iterator[LlamaEngine]:
    """`options` over a 512-token window on 2 threads; the stories_path fixture skips, saying
    why, where the model is absent."""
    path = request.getfixturevalue("stories_path")
    engine = LlamaEngine("stories260K.gguf", path, **{"n_ctx": 512, "n_threads": 2, **options})
    try:
        yield engine
    finally:
        engine.close()
