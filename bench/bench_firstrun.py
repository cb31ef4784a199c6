"""First launch of the installed app, offline: frozen spawn to the first streamed token.

    PYTHONPATH=backend .venv/bin/python bench/bench_firstrun.py [--runs N]

What a person does after the double-click, less Electron's own window (its binary cannot be
downloaded here): the frozen backend starts on a fresh data dir with the starter model the
installer carried (HEARTH_STARTER_DIR, as `resources/backend/starter/`), with every
non-loopback connection refused (HEARTH_NETWORK_GUARD=1) and an unreachable package index. The
UI's first requests follow: the models list (the carried model installed at start), a new chat,
a message, its first streamed token. Each phase is timed from the spawn. Target: first token
<= 60 s. Baseline in the same run: the same chat on the same backend once warm (second start,
model installed), so a slow machine shows up in both. Skips, saying why, without a build.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from bench_coldstart import EXE, REPO, _env, healthy

STARTER = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODELS = Path(os.environ.get("HEARTH_TEST_MODELS", REPO.parent / "shared" / "models"))
TARGET_S = 60.0


def _dead_index() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/simple"


def first_token(data: Path, carried: Path, workdir: Path) -> dict[str, float]:
    """Seconds from spawn to each step of a first chat, on `data` (fresh, or kept)."""
    env = _env(
        data,
        {
            "HEARTH_STARTER_DIR": str(carried),
            "HEARTH_NETWORK_GUARD": "1",
            "HEARTH_PACKAGE_INDEX": _dead_index(),
        },
    )
    marks: dict[str, float] = {}
    with (
        (workdir / "stderr").open("a") as stderr,
        healthy([str(EXE), "serve"], env, workdir, stderr) as (port, started),
    ):
        marks["health"] = time.perf_counter() - started
        headers = {"Authorization": f"Bearer {env['HEARTH_TOKEN']}"}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=120
        ) as client:
            models = client.get("/api/models").json()["models"]
            assert [m["id"] for m in models] == [STARTER], models
            marks["model_listed"] = time.perf_counter() - started
            conversation = client.post("/api/conversations", json={"model": STARTER}).json()
            body = {"content": "Say hello.", "params": {"temperature": 0, "max_tokens": 8}}
            url = f"/api/conversations/{conversation['id']}/messages"
            with client.stream("POST", url, json=body) as r:
                for line in r.iter_lines():
                    if line.startswith("event: delta"):
                        marks["first_token"] = time.perf_counter() - started
                        break
    assert "first_token" in marks, "no token came"
    return marks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not EXE.is_file():
        print(f"SKIP: {EXE.relative_to(REPO)} is not built (build/build-backend --fast)")
        return 0
    if not (MODELS / STARTER).is_file():
        print(f"SKIP: {STARTER} not in {MODELS} (set HEARTH_TEST_MODELS)")
        return 0
    first, warm = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="hearth-firstrun-") as tmp:
            root = Path(tmp)
            carried = root / "starter"  # a real file, as the installer writes it
            carried.mkdir()
            shutil.copyfile(MODELS / STARTER, carried / STARTER)
            first.append(first_token(root / "data", carried, root))
            warm.append(first_token(root / "data", carried, root))  # the model is there now
    rows = {
        phase: (
            statistics.median(m[phase] for m in first),
            statistics.median(m[phase] for m in warm),
        )
        for phase in ("health", "model_listed", "first_token")
    }
    total, again = rows["first_token"]
    verdict = "met" if total <= TARGET_S else "OVER"
    print(f"first launch, offline, frozen backend (medians of {args.runs}), seconds from spawn:")
    print(f"  {'step':28} {'first run':>10} {'next start':>11}")
    for phase, (a, b) in rows.items():
        print(f"  {phase:28} {a:10.2f} {b:11.2f}")
    print(
        f"first streamed token: {total:.2f} s (target <= {TARGET_S:.0f} s: {verdict}); "
        f"first run / next start = {total / again:.2f} (the starter's install is the difference)"
    )
    print(json.dumps({"bench": "firstrun", "first": first, "next": warm}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
