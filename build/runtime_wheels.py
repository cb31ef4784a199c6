"""What Hearth's runtime builds share: llama-cpp-python compiled from its PyPI sdist with ggml's
run-time backend loading, the wheel trimmed, cached by its recipe, with a record of the build.

Used by build/build-cpu-runtime (the CPU runtime every install has) and build/build-cuda-runtime
(the same build plus ggml's CUDA module), so the two come from one llama.cpp commit and one set
of flags. Standard library only: these scripts run before the virtual environment has anything.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS: one ggml-cpu module per instruction-set level (x64,
# sse42, sandybridge, haswell, the AVX-512 ones...), loaded at run time by
# hearth/runtime/ggml_backends.py. GGML_NATIVE=OFF keeps the build machine's own CPU out of it.
# CMAKE_INSTALL_BINDIR: ggml installs backend modules to BINDIR; llama-cpp-python's package
# folder is where they must be, beside libggml. CMAKE_INSTALL_RPATH: llama-cpp-python gives its
# own libraries a RUNPATH of $ORIGIN but not ggml's modules, which then find libggml-base and a
# vendored libgomp (build/bundle_runtime.py) only where something loaded them first.
# LLAVA_BUILD=OFF: Hearth does not use mtmd.
CPU_FLAGS = (
    "-DGGML_BACKEND_DL=ON",
    "-DGGML_CPU_ALL_VARIANTS=ON",
    "-DBUILD_SHARED_LIBS=ON",
    "-DGGML_NATIVE=OFF",
    "-DCMAKE_INSTALL_BINDIR=llama_cpp/lib",
    "-DCMAKE_INSTALL_RPATH=$ORIGIN",
    "-DLLAVA_BUILD=OFF",
)
# Taken out of the wheel after the build:
# - the AMX variant. ggml's scorer does not check that the OS lets a process use a feature (its
#   own FIXME), and on this project's KVM machines, whose CPUID reports AMX, the sapphirerapids
#   module dies with SIGILL (tilezero) on SmolLM2's Q4_1 matrices; zen4's AVX-512 code runs there
#   instead. AMX is found only in Xeon servers, never in the PCs Hearth is for.
# - the top-level include/ and lib/ (headers, CMake files and a second copy of every library for
#   C developers; pip would spread them over site-packages, and llama_cpp never loads them).
DROP = (
    re.compile(r"^llama_cpp/lib/(lib)?ggml-cpu-sapphirerapids\.(so|dll|dylib)$"),
    re.compile(r"^(include|lib)/"),
)
PROGRAM = ["build"]  # the script's name, for its messages


class BuildError(Exception):
    pass


def say(message: str) -> None:
    print(f"{PROGRAM[0]}: {message}", file=sys.stderr, flush=True)


def pinned_version() -> str:
    text = (REPO / "requirements-cpu.txt").read_text(encoding="utf-8")
    match = re.search(r"^llama-cpp-python==(\S+)", text, re.MULTILINE)
    if match is None:
        raise BuildError("requirements-cpu.txt pins no llama-cpp-python version")
    return match.group(1)


def cache_root(python: str, name: str) -> Path:
    """<pip's cache dir>/<name> (or $HEARTH_WHEEL_CACHE): kept wherever pip's cache is kept."""
    if os.environ.get("HEARTH_WHEEL_CACHE"):
        return Path(os.environ["HEARTH_WHEEL_CACHE"])
    done = subprocess.run(
        [python, "-m", "pip", "cache", "dir"], capture_output=True, text=True, check=False
    )
    folder = done.stdout.strip() if done.returncode == 0 else ""
    # With pip's cache switched off, a folder of our own: a second 10-minute build is worse.
    base = Path(folder) if folder else Path.home() / ".cache"
    return base / name


def key(version: str, recipe: Sequence[str], kind: str = "") -> str:
    """The cache folder's name: version, platform and a digest of everything the build used."""
    digest = hashlib.sha256(" ".join(recipe).encode()).hexdigest()[:12]
    return f"{version}-{sys.platform}-{platform.machine().lower()}-{kind}{digest}"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached(folder: Path, version: str) -> tuple[Path, dict] | None:
    record = folder / "build.json"
    wheels = sorted(folder.glob(f"llama_cpp_python-{version}-*.whl"))
    if not wheels or not record.is_file():
        return None
    try:
        facts = json.loads(record.read_text(encoding="utf-8"))
    except ValueError:
        return None
    wheel = wheels[-1]
    if facts.get("sha256") != sha256(wheel):  # a half-written or damaged file: build again
        return None
    return wheel, facts


def prune(raw: Path, wheel: Path) -> list[str]:
    """Copy the wheel without the DROP members, its RECORD rewritten to match."""
    dropped: list[str] = []
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        for name in names:
            if any(d.match(name) for d in DROP):
                dropped.append(name)
        for info in src.infolist():
            if info.filename in dropped:
                continue
            data = src.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                kept = [
                    line
                    for line in data.decode().splitlines()
                    if line and line.split(",", 1)[0] not in dropped
                ]
                data = ("\n".join(kept) + "\n").encode()
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return dropped


_STEP = re.compile(r"\[(\d+)/(\d+)\]")


def compile_with_progress(
    cmd: list[str], env: dict[str, str], ledger: Path | None = None
) -> tuple[int, list[str]]:
    """Run pip wheel -v, showing the compiler's step count every 30 s instead of its every line;
    returns the exit code and the last lines (shown only on failure). `ledger` keeps the
    seconds spent so far, across resumed runs, to within 30 s."""
    tail: collections.deque[str] = collections.deque(maxlen=80)
    before = float(ledger.read_text(encoding="utf-8")) if ledger and ledger.exists() else 0.0
    started = last = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        tail.append(line)
        step = _STEP.search(line)
        now = time.monotonic()
        if step and now - last >= 30:
            last = now
            say(f"  compiling: step {step.group(1)} of {step.group(2)}, {now - started:.0f} s")
            if ledger is not None:
                ledger.write_text(f"{before + now - started:.0f}", encoding="utf-8")
    code = proc.wait()
    if ledger is not None:
        ledger.write_text(f"{before + time.monotonic() - started:.0f}", encoding="utf-8")
    return code, list(tail)


def build(
    python: str,
    version: str,
    folder: Path,
    flags: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    source: str | None = None,
    expect: str = "about 12 minutes on 2 cores",
    extra_facts: Callable[[Path], dict] | None = None,
    resume_in: Path | None = None,
) -> tuple[Path, dict]:
    """Compile `source` (the PyPI sdist of `version` by default) into `folder`, whole or not at
    all; `extra_facts(wheel)` adds to the record what only the build knows. With `resume_in`,
    the unpacked source and CMake's build tree are kept there, so a killed build goes on from
    its last compiled file (the CUDA release build takes hours on 2 cores)."""
    jobs = str(os.cpu_count() or 2)
    say(
        f"compiling llama-cpp-python {version} with {' '.join(flags)} on {jobs} cores "
        f"({expect}; done once, then reused)"
    )
    full_env = {
        **os.environ,
        **(env or {}),
        "CMAKE_ARGS": " ".join(flags),
        "CMAKE_BUILD_PARALLEL_LEVEL": jobs,
    }
    folder.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tmp = tempfile.mkdtemp(dir=folder.parent, prefix=".building-")
    target = source or f"llama-cpp-python=={version}"
    settings: list[str] = []
    ledger = None
    if resume_in is not None:
        if source is None:
            raise BuildError("a resumable build needs the sdist's path")
        # CMake refuses a build tree whose source folder moved, and pip unpacks an sdist to a
        # new temporary folder each time: so the source is unpacked once, to a fixed place.
        target = str(unpack_once(Path(source), resume_in / "src"))
        settings = [f"--config-settings=build-dir={resume_in / 'cmake'}"]
        ledger = resume_in / "seconds"
        say(f"build tree {resume_in} (kept: a stopped build resumes from there)")
    try:
        returncode, tail = compile_with_progress(
            [
                python, "-m", "pip", "wheel", "-v", "--no-cache-dir", "--no-deps",
                "--no-binary", "llama-cpp-python", *settings, "--wheel-dir", tmp, target,
            ],
            full_env,
            ledger,
        )  # fmt: skip
        if returncode != 0:
            sys.stderr.write("".join(tail))
            raise BuildError(f"pip wheel failed (exit {returncode}); its last lines are above")
        raws = sorted(Path(tmp).glob(f"llama_cpp_python-{version}-*.whl"))
        if not raws:
            raise BuildError(f"pip wheel left no llama_cpp_python-{version} wheel")
        seconds = round(
            float(ledger.read_text(encoding="utf-8")) if ledger else time.monotonic() - started, 1
        )
        raw = raws[-1].rename(Path(tmp) / f"{raws[-1].name}.raw")
        wheel = Path(tmp) / raws[-1].name
        dropped = prune(raw, wheel)
        raw.unlink()
        facts = {
            "version": version,
            "cmake_flags": list(flags),
            "dropped": dropped,
            "wheel": wheel.name,
            "sha256": sha256(wheel),
            "size": wheel.stat().st_size,
            "build_seconds": seconds,
            "cores": int(jobs),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **(extra_facts(wheel) if extra_facts else {}),
        }
        (Path(tmp) / "build.json").write_text(json.dumps(facts, indent=2), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)  # whole or not at all: a killed build leaves no half wheel
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if resume_in is not None:
        shutil.rmtree(resume_in, ignore_errors=True)  # gigabytes of objects, no longer needed
    say(f"built {wheel.name} ({facts['size'] / 1e6:.1f} MB) in {seconds:.0f} s")
    return folder / wheel.name, facts


def unpack_once(sdist: Path, into: Path) -> Path:
    """The sdist's top folder under `into`, unpacked whole (a marker file is written last)."""
    import tarfile

    done = into / ".unpacked"
    if done.exists() and done.read_text(encoding="utf-8") == sdist.name:
        return next(p for p in into.iterdir() if p.is_dir())
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        tar.extractall(into, filter="data")
    done.write_text(sdist.name, encoding="utf-8")
    return next(p for p in into.iterdir() if p.is_dir())
