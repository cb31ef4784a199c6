"""Runtime upgrade fixtures, built from the helpers in wheels.py."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.runtime.wheels import (
    Wheel,
    WheelIndex,
    built_wheel,
    repack_installed,
    wheel_of,
)


@pytest.fixture(scope="session")
def real_wheel(tmp_path_factory) -> Wheel:
    """A real llama-cpp-python wheel (CPU build): the one this environment was set up with, else
    the installed distribution repacked."""
    try:
        importlib.metadata.distribution("llama_cpp_python")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("llama-cpp-python is not installed")
    cached = built_wheel()
    path = cached or repack_installed(tmp_path_factory.mktemp("repacked"))
    return wheel_of(path)


@pytest.fixture
def wheel_index(tmp_path: Path) -> Iterator[WheelIndex]:
    index = WheelIndex(tmp_path / "index").start()
    yield index
    index.stop()


@pytest.fixture
def probe_models(tmp_path: Path, stories_path: Path) -> Path:
    """A models folder holding only stories260K: the fastest real model to probe with."""
    folder = tmp_path / "probe-models"
    folder.mkdir()
    (folder / stories_path.name).symlink_to(stories_path)
    return folder
