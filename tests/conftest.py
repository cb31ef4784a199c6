"""Shared fixtures: real model files from ../shared/models and an isolated data dir per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# One variable finds the model fixtures; CI puts ../shared beside the clone.
MODELS_ENV = "HEARTH_TEST_MODELS"


def models_dir() -> Path:
    return Path(os.environ.get(MODELS_ENV) or REPO_ROOT.parent / "shared" / "models").resolve()


def _model(name: str) -> Path:
    path = models_dir() / name
    if not path.is_file():
        pytest.skip(f"model fixture {name} not found in {models_dir()} (set {MODELS_ENV})")
    return path


@pytest.fixture(scope="session")
def stories_path() -> Path:
    """stories260K: 1 MB llama, fast load/generate, no chat template."""
    return _model("stories260K.gguf")


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    """SmolLM2-135M-Instruct Q4_1: a real chat model with a ChatML template."""
    return _model("SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    """all-MiniLM-L6-v2 Q8_0: a BERT embedding model."""
    return _model("all-MiniLM-L6-v2-Q8_0.gguf")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """Point every Hearth setting at a fresh temporary data dir, so no test touches the user's."""
    data = tmp_path_factory.mktemp("hearth-data")
    monkeypatch.setenv("HEARTH_DATA_DIR", str(data))
    monkeypatch.delenv("HEARTH_MODELS_DIR", raising=False)
    monkeypatch.delenv("HEARTH_TOKEN", raising=False)
    monkeypatch.delenv("HEARTH_PORT", raising=False)
    yield
