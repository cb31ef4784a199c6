"""Frozen backend cold start: spawn of `dist/hearth-backend/hearth-backend serve` to /health 200.

    PYTHONPATH=backend .venv/bin/python bench/bench_coldstart.py [--runs N]

Every run gets a fresh data dir and HEARTH_SUPERVISED=1 (as under Electron). Target: median
<= 1.0 s. Baselines measured in the same run: spawning `python -c pass`, and the same backend
from source (`python -m hearth serve`), so a slow or busy machine shows up in all three. Also
prints the bundle's size and which heavy modules the source backend imports before it is healthy
(chromadb and llama_cpp must load lazily, on first use). Skips, saying why, without a build.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
BUNDLE = REPO / "dist" / "hearth-backend"
EXE = BUNDLE / ("hearth-backend.exe" if os.name == "nt" else "hearth-backend")
ARCHIVE = REPO / "build" / "out" / "hearth-backend.tar.gz"
sys.path.insert(0, str(REPO / "build"))
import bundle_size  # noqa: E402  (the build's own measure of the onedir)

TARGET_S = 1.0
# Imported at startup they would cost startup time and memory for features not used yet.
# (fastapi itself imports the small opentelemetry API; chromadb brings the SDK and grpc.)
HEAVY = (
    "llama_cpp", "chromadb", "numpy", "onnxruntime", "grpc", "opentelemetry.sdk", "pypdf",
    "docx", "lxml", "torch", "scipy",
)  # fmt: skip


def _env(data: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env.update(
        HEARTH_DATA_DIR=str(data),
        HEARTH_PORT="0",
        HEARTH_TOKEN="bench-token-0123456789abcdef",
        HEARTH_SUPERVISED="1",
        PYTHONPATH=str(REPO / "backend"),
        **(extra or {}),
    )
    return env


def _healthy(port: int, deadline: float) -> bool:
    url = f"http://127.0.0.1:{port}/health"
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.005)
    return False


@contextlib.contextmanager
def healthy(
    command: list[str], env: dict[str, str], cwd: Path, stderr: IO[str]
) -> Iterator[tuple[int, float]]:
    """The backend spawned and answering /health: its port and the spawn's perf_counter time.
    Stopped (SIGTERM, then SIGKILL) on the way out."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=cwd
    )
    try:
        assert proc.stdout is not None
        port = None
        for line in proc.stdout:
            match = re.search(r'"event":\s*"listening",\s*"port":\s*(\d+)', line)
            if match:
                port = int(match.group(1))
                break
        if port is None or not _healthy(port, started + 120):
            raise RuntimeError(f"{command[0]} never became healthy")
        yield port, started
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cold_start(command: list[str], extra_env: dict[str, str] | None = None) -> tuple[float, str]:
    """Seconds from spawn to /health 200 on a fresh data dir; and the backend's stderr."""
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        data = Path(tmp) / "data"
        stderr_path = Path(tmp) / "stderr"
        with (
            stderr_path.open("w") as stderr,
            healthy(command, _env(data, extra_env), Path(tmp), stderr) as (_, started),
        ):
            elapsed = time.perf_counter() - started
        return elapsed, stderr_path.read_text(errors="replace")


def spawn_pass() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def startup_imports() -> tuple[list[str], list[tuple[float, str]]]:
    """Heavy packages the source backend imported before it was healthy, and the slowest
    top-level imports (cumulative ms), from -X importtime."""
    _, stderr = cold_start([sys.executable, "-X", "importtime", "-m", "hearth", "serve"])
    loaded: set[str] = set()
    top: list[tuple[float, str]] = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if not match:
            continue
        cumulative, indent, name = int(match.group(1)), len(match.group(2)), match.group(3)
        loaded.add(name)
        if indent == 1:
            top.append((cumulative / 1000, name))
    heavy = sorted(h for h in HEAVY if any(n == h or n.startswith(h + ".") for n in loaded))
    return heavy, sorted(top, reverse=True)[:8]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not EXE.is_file():
        print(f"SKIP: {EXE.relative_to(REPO)} is not built (build/build-backend --fast)")
        return 0

    frozen = [cold_start([str(EXE), "serve"])[0] for _ in range(args.runs)]
    source = [cold_start([sys.executable, "-m", "hearth", "serve"])[0] for _ in range(args.runs)]
    python = [spawn_pass() for _ in range(args.runs)]
    f, s, p = (statistics.median(x) for x in (frozen, source, python))
    verdict = "met" if f <= TARGET_S else "OVER"
    runs = ", ".join(f"{x:.2f}" for x in frozen)
    print(
        f"frozen cold start (spawn -> /health), median of {args.runs}: {f:.3f} s "
        f"(target <= {TARGET_S:.1f} s: {verdict}); runs: {runs}"
    )
    print(f"source cold start (python -m hearth serve):   {s:.3f} s -> frozen/source = {f / s:.2f}")
    print(
        f"baseline `python -c pass` spawn:              {p:.3f} s -> frozen/baseline = {f / p:.1f}"
    )

    heavy, top = startup_imports()
    print(f"heavy packages imported before /health (source): {', '.join(heavy) or 'none'}")
    print("slowest top-level imports at startup: "
          + ", ".join(f"{name} {ms:.0f} ms" for ms, name in top))  # fmt: skip

    # The build's own size table, against the budgets (issue 14 §3: 150 MB, 65 MB compressed).
    sizes = {"onedir": bundle_size.tree_size(BUNDLE)}
    if ARCHIVE.is_file() and ARCHIVE.stat().st_mtime >= EXE.stat().st_mtime:
        sizes["archive"] = ARCHIVE.stat().st_size
    print("bundle size (build/bundle_size.py):")
    for line in bundle_size.size_table(sizes, bundle_size.bundle_parts(BUNDLE)):
        print(f"  {line}")
    print(json.dumps({"frozen_s": f, "source_s": s, "python_pass_s": p, "heavy": heavy, **sizes}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
