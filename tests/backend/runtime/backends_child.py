"""Ask a fresh process which ggml backends it loaded (and what it generates with them).

ggml's backend registry is per process, so every question about which CPU variant loads is asked
of a new child. `prefix` runs the child under another program: `qemu-x86_64 -cpu Nehalem`, say,
to be a processor this machine is not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

CHILD = """
import json, sys
from hearth.runtime import ggml_backends
llama_cpp = ggml_backends.import_llama_cpp()
out = ggml_backends.loaded().to_dict()
if len(sys.argv) > 1:
    llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=128, n_threads=2, verbose=False)
    out["text"] = llm.create_completion("Once upon a time", max_tokens=8, temperature=0)[
        "choices"][0]["text"]
print(json.dumps(out))
"""


def child_env(variant: str | None, *paths: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HEARTH_CPU_VARIANT"}
    if variant is not None:
        env["HEARTH_CPU_VARIANT"] = variant
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (*paths, REPO / "backend"))
    return env


def loaded_in_child(
    variant: str | None,
    *args: str,
    prefix: Sequence[str] = (),
    paths: Sequence[Path] = (),
    timeout: float = 120,
) -> dict:
    """The child's `ggml_backends.loaded()`, plus "text": 8 greedy tokens of the model in args."""
    done = subprocess.run(
        [*prefix, sys.executable, "-c", CHILD, *args],
        capture_output=True,
        text=True,
        env=child_env(variant, *paths),
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])
