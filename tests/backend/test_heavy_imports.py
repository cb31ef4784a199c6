"""numpy, llama_cpp and chromadb load after /health, each first import under one lock.

CI once saw "cannot import name 'NDArray' from partially initialized module 'numpy._typing'":
an ingest thread (chromadb) and a model load imported numpy at the same moment. Each case runs
tests/backend/heavy_probe.py in a fresh interpreter, where an audit hook sees every import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backend.docs.helpers import models_with_embedder
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def probe(tmp_path: Path, models: Path, corpus: Path, mode: str) -> dict:
    data = tmp_path / "data"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.backend.heavy_probe",
            *map(str, (data, models, corpus)),
            mode,
        ],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "backend")]),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    # Empty with exit code 0: the probe's stdout was pointed at /dev/null mid-run (two model
    # loads at once, before llamalog.LOAD_LOCK).
    assert run.stdout.strip(), "the probe printed nothing: its stdout was lost"
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture
def models(tmp_path: Path, stories_path: Path, minilm_path: Path) -> Path:
    return models_with_embedder(tmp_path / "models", minilm_path, stories_path)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(3):
        (folder / f"note{i}.md").write_text(f"# Note {i}\nThe lighthouse keeper wrote entry {i}.\n")
    return folder


def test_a_model_load_and_an_ingest_at_once_import_under_the_lock(tmp_path, models, corpus):
    out = probe(tmp_path, models, corpus, "race")
    assert out["at_health"] == []  # nothing heavy before the server is up
    assert out["completion_status"] == 200
    assert out["ingest_status"] == "done"
    assert out["unguarded"] == []


def test_the_warm_up_imports_numpy_off_the_event_loop(tmp_path, models, corpus):
    out = probe(tmp_path, models, corpus, "idle")
    assert out["at_health"] == []
    assert out["first_numpy_thread"] == "hearth-warm-up"
    assert out["unguarded"] == []


# In a fresh interpreter: the first import of numpy under imports(), then a full collection.
_SETTLE = """
import gc, json
from hearth import heavy
before = gc.get_freeze_count()
with heavy.imports():
    import numpy, sqlalchemy, pydantic, fastapi  # what a heavy import and startup leave
frozen = gc.get_freeze_count() - before
unfrozen = len(gc.get_objects())
print(json.dumps({"frozen": frozen, "unfrozen": unfrozen}))
"""


def test_what_heavy_imports_leave_is_out_of_full_collections():
    # A full collection walks every object that is not frozen, holding the GIL: with the
    # imports' objects frozen, it walks only what was made since (a few hundred, not ~10^5).
    run = subprocess.run(
        [sys.executable, "-c", _SETTLE],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "backend")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    counts = json.loads(run.stdout.strip().splitlines()[-1])
    assert counts["frozen"] > 50_000
    assert counts["unfrozen"] < counts["frozen"] / 100
