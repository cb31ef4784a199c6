"""`hearth docs` in a terminal: create, add with progress and reasons, search, ask."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.backend.docs.helpers import SMOL, models_with_embedder
from tests.backend.server_process import REPO

pytestmark = pytest.mark.slow


def hearth(data, models, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HEARTH_DATA_DIR": str(data),
        "HEARTH_MODELS_DIR": str(models),
        "PYTHONPATH": str(REPO / "backend"),
    }
    return subprocess.run(
        [sys.executable, "-m", "hearth", "docs", *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=data,
    )


def test_docs_cli_round_trip(tmp_path, minilm_path, smollm_path):
    models = models_with_embedder(tmp_path / "models", minilm_path, smollm_path)
    data = tmp_path / "data"
    data.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "tides.md").write_text("# Tides\nHigh tide at Port Ellery is at six o'clock.\n")
    (notes / "empty.txt").write_text("")

    done = hearth(data, models, "create", "Harbour")
    assert done.returncode == 0, done.stderr
    done = hearth(data, models, "add", "harbour", str(notes))
    assert done.returncode == 0, done.stderr
    assert "done in" in done.stderr and "1 indexed, 1 failed" in done.stderr
    assert "empty.txt: The file is empty." in done.stdout
    done = hearth(data, models, "list")
    assert "Harbour" in done.stdout and "ready" in done.stdout
    done = hearth(data, models, "search", "Harbour", "When is high tide?")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[1] tides.md (Tides)")
    done = hearth(
        data, models, "ask", "Harbour", "When is high tide?", "--model", SMOL, "--max-tokens", "16"
    )
    assert done.returncode == 0, done.stderr
    assert "[1] tides.md (Tides)" in done.stdout
    done = hearth(data, models, "add", "Nowhere", str(notes))
    assert done.returncode == 1 and "no library named 'Nowhere'" in done.stderr
