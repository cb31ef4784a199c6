"""Fixtures for the frozen backend: skipped, with the reason, when dist/hearth-backend is absent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.frozen import EXECUTABLE, FrozenBackend, missing_reason


@pytest.fixture(scope="session")
def frozen_exe() -> Path:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    return EXECUTABLE


@pytest.fixture
def start_frozen(frozen_exe: Path, tmp_path: Path) -> Iterator:
    """Start frozen backends on fresh data dirs under tmp_path; all are stopped afterwards."""
    started: list[FrozenBackend] = []

    def start(name: str = "data", timeout: float = 120, **kwargs) -> FrozenBackend:
        backend = FrozenBackend(tmp_path / name, **kwargs)
        started.append(backend)
        return backend.start(timeout)

    yield start
    for backend in started:
        backend.stop()
