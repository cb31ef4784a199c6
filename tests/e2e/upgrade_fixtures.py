"""Runtime fixtures for the UI's upgrade tests (frontend/e2e/upgrade.test.mjs), built with the
backend tests' own helpers: real and crashing llama-cpp-python wheels, a wheel index on
127.0.0.1, registries that pin them, and offline packs.

Run: python -m tests.e2e.upgrade_fixtures WORKDIR. Prints one JSON line with the paths, then
serves the index until its stdin closes (the test holds the pipe open while it runs).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from hearth.runtime.pack import build_pack
from hearth.runtime.registry import load_registry

from tests.backend.runtime import cuda_standin
from tests.backend.runtime.wheels import (
    LLAMA_VERSION,
    WheelIndex,
    built_wheel,
    crashes_in_server,
    host_tags,
    make_wheel,
    repack_installed,
    variant,
    wheel_of,
    write_registry,
)


def prepare(work: Path) -> tuple[WheelIndex, dict[str, str]]:
    work.mkdir(parents=True, exist_ok=True)
    real = wheel_of(built_wheel() or repack_installed(work))
    crash = make_wheel(work / "wheels", "server-crash", crashes_in_server())
    index = WheelIndex(work / "index").start()
    real_url = index.add(real)
    crash_url = index.add(crash, f"llama_cpp_python-{LLAMA_VERSION}-0crash-py3-none-any.whl")

    # A CUDA 13 runtime on this GPU-less machine (the CPU runtime plus a CUDA module that needs
    # the NVIDIA driver's library): offered for a fake RTX 4090 on driver 580, and refused by the
    # probe, which names the missing library, so the upgrade fails before any switch.
    standin = cuda_standin.runtime_folder(work / "cuda-runtime")
    cuda = wheel_of(cuda_standin.wheel_of_folder(standin, work / "cuda-wheel", LLAMA_VERSION))
    gpu = write_registry(
        work / "registry-gpu.json",
        cuda_standin.cuda13(
            # Its own folder: the CPU wheel above has the same file name.
            variant(
                "cuda-13.0",
                "cuda",
                [("llama-cpp-python", cuda, index.add(cuda, f"cuda-13.0/{cuda.filename}"))],
            )
        ),
    )
    # CPU-kind variants for the packs: one that works after the restart, one that crash-loops.
    cpu = write_registry(
        work / "registry-cpu.json",
        variant("cpu-test", "cpu", [("llama-cpp-python", real, real_url)], min_speedup=0),
        variant("cpu-crash", "cpu", [("llama-cpp-python", crash, crash_url)], min_speedup=0),
    )
    python, platform = host_tags()
    registry = load_registry(cpu)
    packs = {}
    for vid in ("cpu-test", "cpu-crash"):
        out = work / f"hearth-runtime-{vid}.zip"
        asyncio.run(build_pack(registry, vid, python=python, platform=platform, output=out))
        packs[vid] = str(out)
    return index, {
        "registry_gpu": str(gpu),
        "registry_cpu": str(cpu),
        "pack_ok": packs["cpu-test"],
        "pack_crash": packs["cpu-crash"],
        "wheel_bytes": str(real.size),
        "cuda_wheel_bytes": str(cuda.size),
        "index_host": index.url("/").split("/")[2],
    }


def main(argv: list[str]) -> int:
    index, facts = prepare(Path(argv[1]))
    try:
        print(json.dumps(facts), flush=True)
        sys.stdin.read()  # until the test closes the pipe
    finally:
        index.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
