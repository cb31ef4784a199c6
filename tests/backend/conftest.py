"""Backend fixtures: a models folder of real fixtures, and a real server process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backend.server_process import HearthProcess


@pytest.fixture
def models_folder(tmp_path: Path, stories_path: Path, smollm_path: Path) -> Path:
    """A models folder holding the two generation fixtures (symlinked, never copied)."""
    folder = tmp_path / "models"
    folder.mkdir()
    for source in (stories_path, smollm_path):
        (folder / source.name).symlink_to(source)
    return folder


@pytest.fixture
def hearth_server(tmp_path: Path, models_folder: Path):
    """A running backend with SmolLM2 and stories260K installed."""
    server = HearthProcess(tmp_path / "data", models_folder).start()
    yield server
    server.stop()
