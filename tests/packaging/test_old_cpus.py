"""Hearth on processors older than this machine's, emulated by qemu-user: a Nehalem (SSE4.2, no
AVX) and a Sandy Bridge (AVX, no AVX2). Before the CPU runtime dispatched at run time, its
llama.cpp needed AVX2, FMA and F16C, and died with "Illegal instruction" on both.

qemu-x86_64 runs one program as the CPU named, CPUID included, so ggml's own check picks the
variant that processor really has. Debian's qemu-user; `.ci/run` installs it."""

from __future__ import annotations

import ctypes
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backend.api.sse_client import chat
from tests.backend.runtime.backends_child import loaded_in_child
from tests.packaging.frozen import FrozenBackend

QEMU = shutil.which("qemu-x86_64")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(QEMU is None, reason="qemu-x86_64 not installed (apt install qemu-user)"),
    pytest.mark.skipif(
        sys.platform != "linux" or ctypes.sizeof(ctypes.c_void_p) != 8, reason="x86-64 Linux only"
    ),
]
# The processor qemu plays, and the variant ggml should choose on it.
OLD_CPUS = [("Nehalem", "sse42"), ("SandyBridge", "sandybridge")]
# Python and llama.cpp under qemu's emulation run tens of times slower than natively.
SLOW = 600


def qemu(cpu: str) -> list[str]:
    # numpy's OpenBLAS picks its kernels by the host's processor, not by the CPUID qemu plays:
    # on an AVX-512 host it runs AVX-512 code and dies under `-cpu Nehalem`, which a real Nehalem
    # would never be offered. Naming the core keeps the test about llama.cpp's variants.
    return [str(QEMU), "-cpu", cpu, "-E", f"OPENBLAS_CORETYPE={cpu}"]


def lib_dir() -> Path:
    spec = importlib.util.find_spec("llama_cpp")
    assert spec is not None and spec.origin
    return Path(spec.origin).parent / "lib"


HASWELL_CODE = """
import ctypes, sys
lib = sys.argv[1]
haswell = ctypes.CDLL(lib)  # its RUNPATH ($ORIGIN) finds libggml-base beside it
floats, halves = (ctypes.c_float * 64)(*range(64)), (ctypes.c_uint16 * 64)()
haswell.ggml_cpu_fp32_to_fp16(floats, halves, ctypes.c_int64(64))  # F16C and AVX instructions
print("converted")
"""


def test_the_haswell_code_dies_on_a_nehalem():
    """What every user of such a PC saw: this machine runs the code, the old CPU cannot."""
    module = lib_dir() / "libggml-cpu-haswell.so"
    if not module.is_file():
        pytest.skip(f"{module} is absent: not a build/build-cpu-runtime build")
    args = [sys.executable, "-c", HASWELL_CODE, str(module)]
    native = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert native.returncode == 0 and "converted" in native.stdout, native.stderr
    old = subprocess.run([*qemu("Nehalem"), *args], capture_output=True, text=True, timeout=SLOW)
    assert old.returncode in (-4, 132), (old.returncode, old.stderr)  # SIGILL
    assert "Illegal instruction" in old.stderr


@pytest.mark.parametrize(("cpu", "variant"), OLD_CPUS)
def test_the_source_runtime_generates_on(cpu, variant, stories_path):
    native = loaded_in_child(None, str(stories_path))
    old = loaded_in_child(None, str(stories_path), prefix=qemu(cpu), timeout=SLOW)
    assert old["cpu_variant"] == variant, old
    assert old["error"] is None
    # stories260K is F32, its top token ahead by 0.84 nats or more over these 8 tokens on every
    # variant measured: the old CPU's kernels give the same words as this machine's.
    assert old["text"] == native["text"] and old["text"].strip()


def test_a_forced_variant_the_old_cpu_lacks_falls_back_to_what_it_has():
    got = loaded_in_child("haswell", prefix=qemu("Nehalem"), timeout=SLOW)
    assert got["cpu_variant"] == "sse42"
    assert "the haswell CPU variant does not run on this processor" in got["error"]


@pytest.fixture(scope="module")
def stage_two_env(frozen_exe, tmp_path_factory) -> dict[str, str]:
    """What PyInstaller's onedir bootloader sets before it execs itself once more.

    qemu-user emulates one program and does not follow execve: the re-exec'd bootloader would
    run natively, on this machine's CPU. Started with that second stage's environment already
    in place, the bootloader skips its restart and the whole backend stays under qemu. Read off
    the real bundle's running process, so it follows whatever this PyInstaller does."""
    backend = FrozenBackend(tmp_path_factory.mktemp("stage-two") / "data").start()
    try:
        assert backend.proc is not None
        raw = Path(f"/proc/{backend.proc.pid}/environ").read_bytes().split(b"\0")
    finally:
        backend.stop()
    pairs = (item.decode(errors="replace").partition("=") for item in raw if b"=" in item)
    env = {k: v for k, _, v in pairs if k.startswith("_PYI_") or k == "LD_LIBRARY_PATH"}
    assert "_PYI_ARCHIVE_FILE" in env, env
    return env


@pytest.mark.parametrize(("cpu", "variant"), OLD_CPUS)
def test_the_frozen_backend_chats_on(
    cpu, variant, start_frozen, stage_two_env, tmp_path, stories_path
):
    models = tmp_path / "data" / "models"
    models.mkdir(parents=True)
    (models / stories_path.name).symlink_to(stories_path)
    backend = start_frozen(prefix=qemu(cpu), timeout=SLOW, **stage_two_env)
    with backend.client(timeout=SLOW) as client:
        runtime = client.get("/api/capabilities").json()["runtime"]
        assert runtime["cpu_backend"]["cpu_variant"] == variant, runtime["cpu_backend"]
        r = client.post("/api/conversations", json={"model": stories_path.name})
        assert r.status_code == 201, r.text
        result = chat(client, r.json()["id"], "Once upon a time")
    assert result["names"][0] == "start"
    assert result["names"].count("delta") > 1, "streamed, not one lump"
    message = result["done"]["message"]
    assert message["content"] == result["text"] and result["text"].strip()
    assert message["completion_tokens"] > 1
