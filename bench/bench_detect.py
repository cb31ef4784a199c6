"""Hardware detection benchmark: uncached detection with no NVIDIA GPU, and a cached start.

    PYTHONPATH=backend .venv/bin/python bench/bench_detect.py [--runs N]

Targets on a machine without NVIDIA: uncached <= 50 ms, cached <= 5 ms. Each figure is printed
with a ratio against a baseline measured in the same run (spawning `true`; reading the cache
file), so a slow machine shows up in both. The "cold" figures run in a fresh interpreter and
include importing the detector.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UNCACHED_TARGET_MS = 50.0
CACHED_TARGET_MS = 5.0

_COLD = """
import sys, time
t0 = time.perf_counter()
from pathlib import Path
from hearth.hardware.detect import detect
t1 = time.perf_counter()
d = detect(Path(sys.argv[1]), app_version="bench", use_cache=sys.argv[2] == "1")
t2 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000, int(d.cache.used), d.source)
"""


def _median_ms(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _cold(data_dir: Path, use_cache: bool) -> tuple[float, float, bool, str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "backend")}
    out = subprocess.run(
        [sys.executable, "-c", _COLD, str(data_dir), "1" if use_cache else "0"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    return float(out[0]), float(out[1]), out[2] == "1", out[3]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    from hearth.hardware.detect import detect

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        first = detect(data_dir, app_version="bench", use_cache=False)
        cache_file = data_dir / ".gpu_detection_cache.json"

        base_spawn = _median_ms(lambda: subprocess.run(["true"], check=False), args.runs)
        base_read = _median_ms(lambda: json.loads(cache_file.read_bytes()), args.runs)

        uncached = _median_ms(
            lambda: detect(data_dir, app_version="bench", use_cache=False), args.runs
        )
        cached = _median_ms(lambda: detect(data_dir, app_version="bench"), args.runs)
        assert detect(data_dir, app_version="bench").cache.used

        cold_dir = data_dir / "cold"
        import_ms, cold_uncached, _, _ = _cold(cold_dir, use_cache=True)
        _, cold_cached, used, _ = _cold(cold_dir, use_cache=True)
        assert used

    gpu = first.profile.gpu
    print(f"GPU found: {gpu.status} (source {gpu.source}): {gpu.reason}")
    if gpu.status != "none":
        print("note: an NVIDIA driver is present here; the no-NVIDIA target does not apply")
    print(f"runs per figure: {args.runs} (median)")
    print(f"baseline  spawn `true`                 {base_spawn:8.3f} ms")
    print(f"baseline  read+parse cache file        {base_read:8.3f} ms")
    print(
        f"uncached  detection (warm process)     {uncached:8.3f} ms  "
        f"= {uncached / base_spawn:5.2f}x spawn   target <= {UNCACHED_TARGET_MS:g} ms  "
        f"{'OK' if uncached <= UNCACHED_TARGET_MS else 'MISSED'}"
    )
    print(
        f"cached    start (warm process)         {cached:8.3f} ms  "
        f"= {cached / base_read:5.2f}x read    target <= {CACHED_TARGET_MS:g} ms  "
        f"{'OK' if cached <= CACHED_TARGET_MS else 'MISSED'}"
    )
    print(f"cold      import of the detector       {import_ms:8.3f} ms")
    print(f"cold      uncached detection           {cold_uncached:8.3f} ms")
    print(f"cold      cached start                 {cold_cached:8.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
