"""llama.cpp's own `llama-server`, built once from the llama.cpp that Hearth's pinned
llama-cpp-python vendors (its PyPI sdist), so a bench compares the same kernels.

The build is cached outside the repository, under pip's cache dir in `hearth-bench/`, keyed by
the llama-cpp-python version; the first `make bench` compiles it (a few minutes on 2 cores).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "build"))
import runtime_wheels as rw  # noqa: E402


def binary() -> Path:
    """The cached llama-server, compiled first if it is not there yet."""
    version = rw.pinned_version()
    folder = rw.cache_root(sys.executable, "hearth-bench") / f"llama-server-{version}"
    exe = folder / "build" / "bin" / "llama-server"
    if exe.is_file():
        return exe
    folder.mkdir(parents=True, exist_ok=True)
    sdists = sorted(folder.glob("llama_cpp_python-*.tar.gz"))
    if not sdists:
        rw.say(f"bench: downloading the llama-cpp-python {version} sdist")
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"),
                *("-d", str(folder), f"llama-cpp-python=={version}"),
            ],
            check=True,
        )
        sdists = sorted(folder.glob("llama_cpp_python-*.tar.gz"))
    source = rw.unpack_once(sdists[-1], folder / "src") / "vendor" / "llama.cpp"
    build = folder / "build"
    rw.say(f"bench: compiling llama-server from {source} (once; a few minutes on 2 cores)")
    configure = ["cmake", "-S", str(source), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"]
    configure += ["-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF"]
    configure += ["-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF"]
    configure += ["-DBUILD_SHARED_LIBS=OFF"]
    subprocess.run(configure, check=True, stdout=subprocess.DEVNULL)
    jobs = str(os.cpu_count() or 2)
    subprocess.run(
        ["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs], check=True
    )
    return exe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(model: Path, *args: str) -> Iterator[str]:
    """A llama-server on 127.0.0.1 serving `model`; yields its base URL once it answers."""
    port = _free_port()
    cmd = [str(binary()), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama-server exited with {proc.returncode}: {cmd}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("llama-server did not become healthy in 120 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
