"""Stage a runtime variant: fetch its artifacts (download or pack), verify, unpack, put in place.

Wheels are zip files: they are unpacked here, no pip (the frozen app has none). Everything is
unpacked into a hidden `.staging-<job>` folder that is renamed into `runtimes/<variant>-<version>`
with its manifest already inside, so a failed or cancelled job never leaves a half runtime.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hearth.errors import HearthError
from hearth.files import sha256_file
from hearth.net.diskspace import DEFAULT_RESERVE, DiskUsage, is_out_of_space, space_shortfall
from hearth.runtime import installed
from hearth.runtime.registry import Artifact, Build, Registry, Variant

log = logging.getLogger(__name__)

PACK_MANIFEST = "hearth-runtime-pack.json"
PACK_FORMAT = 1
_CHUNK = 1024 * 1024
_SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\-]*$")
# Wheels compress native code about 2:1; the first space check runs before any size is known.
UNPACK_FACTOR = 3


class StageError(HearthError):
    """A staging step failed; `code` is the reason the job reports."""

    status = 422


@dataclass(frozen=True)
class Target:
    """The variant and the build of it that fits this Python and platform."""

    variant: Variant
    build: Build

    @property
    def folder_base(self) -> str:
        return f"{self.variant.id}-{self.variant.llama_cpp_python}"

    @property
    def download_bytes(self) -> int:
        return sum(a.size or 0 for a in self.build.artifacts)


def choose_target(registry: Registry, variant_id: str, python: str, platform: str) -> Target:
    """Pure: the build to install, or a StageError that says why there is none."""
    variant = registry.get(variant_id)
    if variant is None:
        known = ", ".join(v.id for v in registry.variants if not v.bundled)
        raise StageError(
            f"No runtime variant {variant_id!r} in the registry (known: {known or 'none'}).",
            code="unknown_variant",
            status=404,
        )
    if variant.bundled:
        raise StageError(
            f"{variant.id} is the bundled runtime; it is always installed.", code="bundled_variant"
        )
    build = variant.build_for(python, platform)
    if build is None:
        raise StageError(
            f"{variant.id} has no build for this Python and platform ({python}, {platform}).",
            code="no_build",
        )
    if not build.pinned:
        raise StageError(
            f"{variant.id}'s artifacts for {python}/{platform} are not pinned (no sha256 in the "
            "registry), so they cannot be verified and are not installed.",
            code="not_pinned",
        )
    return Target(variant, build)


def artifact_filename(artifact: Artifact) -> str:
    name = artifact.filename or PurePosixPath(artifact.url or "").name
    if not _SAFE_FILE.match(name):
        raise StageError(f"Unsafe artifact file name {name!r}", code="bad_artifact")
    return name


def check_space(
    folder: Path, needed: int, disk_usage: DiskUsage, reserve: int = DEFAULT_RESERVE
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    problem = space_shortfall(folder, needed, disk_usage=disk_usage, reserve=reserve)
    if problem:
        raise StageError(problem, code="disk_full", status=507)


def verify_file(path: Path, artifact: Artifact) -> None:
    """Size and SHA-256 against the registry's pin; a mismatch removes the file."""
    size = path.stat().st_size
    digest = sha256_file(path)
    if size != artifact.size or digest != artifact.sha256:
        path.unlink(missing_ok=True)
        raise StageError(
            f"{path.name} failed verification: sha256 {digest} ({size} bytes), the registry "
            f"pins {artifact.sha256} ({artifact.size} bytes); the file was discarded.",
            code="hash_mismatch",
        )


# --- unpacking ---------------------------------------------------------------------------------


def wheel_target(name: str) -> PurePosixPath | None:
    """Where a wheel member goes in the runtime folder (as pip would put it in site-packages),
    or None for members a runtime does not need (scripts, headers, data)."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or ":" in path.parts[0]:
        raise StageError(f"Unsafe path in wheel: {name!r}", code="bad_wheel")
    first = path.parts[0]
    if first.endswith(".data"):
        if len(path.parts) < 3 or path.parts[1] not in ("purelib", "platlib"):
            return None
        return PurePosixPath(*path.parts[2:])
    return path


def unpack_wheel(
    wheel: Path,
    dest: Path,
    *,
    on_bytes: Callable[[int], None] = lambda n: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Extract one wheel into `dest`; StageError bad_wheel / disk_full / cancelled."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                if should_stop():
                    raise StageError("Cancelled while unpacking.", code="cancelled", status=409)
                rel = wheel_target(info.filename)
                if rel is None:
                    continue
                out = dest.joinpath(*rel.parts)
                if info.is_dir():
                    out.mkdir(parents=True, exist_ok=True)
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, out.open("wb") as dst:
                    while chunk := src.read(_CHUNK):
                        dst.write(chunk)
                        on_bytes(len(chunk))
                mode = (info.external_attr >> 16) & 0o777
                if mode & 0o111:
                    out.chmod(mode | 0o600)
    except zipfile.BadZipFile as exc:  # not a zip, or a member's CRC is wrong
        raise StageError(f"{wheel.name} is not a valid wheel: {exc}", code="bad_wheel") from exc
    except OSError as exc:
        if is_out_of_space(exc):
            raise StageError(
                f"The disk filled up while unpacking {wheel.name}.", code="disk_full", status=507
            ) from exc
        raise


def unpacked_size(wheels: list[Path]) -> int:
    total = 0
    for wheel in wheels:
        try:
            with zipfile.ZipFile(wheel) as zf:
                total += sum(i.file_size for i in zf.infolist())
        except zipfile.BadZipFile as exc:
            raise StageError(f"{wheel.name} is not a valid wheel: {exc}", code="bad_wheel") from exc
    return total


def staging_dir(root: Path, job_id: str) -> Path:
    return root / f"{installed.STAGING_PREFIX}{job_id}"


def check_llama_package(folder: Path) -> None:
    if not (folder / "llama_cpp" / "__init__.py").is_file():
        raise StageError(
            "The llama-cpp-python wheel does not contain the llama_cpp package.", code="bad_wheel"
        )


def put_in_place(
    staged: Path, root: Path, target: Target, *, source: str
) -> installed.InstalledRuntime:
    """Write the manifest into the staged folder and rename it into a free versioned name."""
    preload, dll_dirs = installed.native_libraries(staged)
    name = installed.free_folder_name(root, target.folder_base)
    runtime = installed.InstalledRuntime(
        folder=name,
        variant=target.variant.id,
        kind=target.variant.kind,
        version=target.variant.llama_cpp_python,
        python=target.build.python,
        platform=target.build.platform,
        artifacts=tuple(
            {
                "role": a.role,
                "project": a.project,
                "version": a.version,
                "filename": artifact_filename(a),
                "sha256": a.sha256,
                "size": a.size,
            }
            for a in target.build.artifacts
        ),
        preload=preload,
        dll_dirs=dll_dirs,
        installed_at=time.time(),
        source=source,
        path=root / name,
    )
    installed.write_manifest(runtime, staged)
    os.replace(staged, root / name)
    return runtime


# --- packs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackContents:
    variant_id: str
    members: dict[str, str]  # artifact filename -> member name in the zip


def read_pack(pack: Path, name: str | None = None) -> PackContents:
    """The pack's manifest, checked for shape; the artifacts are verified when extracted.
    `name` is the person's own name for the file (an upload is kept under one of ours)."""
    import json

    label = name or pack.name

    try:
        with zipfile.ZipFile(pack) as zf:
            try:
                manifest = json.loads(zf.read(PACK_MANIFEST))
            except KeyError:
                raise StageError(
                    f"{label} is not a Hearth runtime pack (it has no {PACK_MANIFEST}). Choose a "
                    "hearth-runtime-….zip file made for Hearth.",
                    code="bad_pack",
                ) from None
            names = set(zf.namelist())
    except zipfile.BadZipFile as exc:
        raise StageError(
            f"{label} is not a Hearth runtime pack (not a zip file: {exc}).", code="bad_pack"
        ) from exc
    except (OSError, ValueError) as exc:
        raise StageError(f"{label} cannot be read: {exc}", code="bad_pack") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != PACK_FORMAT:
        raise StageError(f"{label}: unknown pack format.", code="bad_pack")
    variant = manifest.get("variant")
    artifacts = manifest.get("artifacts")
    if not isinstance(variant, str) or not isinstance(artifacts, list):
        raise StageError(f"{label}: the manifest lacks variant or artifacts.", code="bad_pack")
    members: dict[str, str] = {}
    for entry in artifacts:
        filename = entry.get("filename") if isinstance(entry, dict) else None
        member = f"artifacts/{filename}"
        if not isinstance(filename, str) or member not in names:
            raise StageError(f"{label}: artifact {filename!r} is missing.", code="bad_pack")
        members[filename] = member
    return PackContents(variant, members)


def extract_artifact(
    pack: Path,
    member: str,
    dest: Path,
    artifact: Artifact,
    *,
    on_bytes: Callable[[int], None],
    should_stop: Callable[[], bool],
) -> None:
    """Copy one artifact out of the pack, verified against the registry's pin."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(pack) as zf, zf.open(member) as src, dest.open("wb") as out:
            while chunk := src.read(_CHUNK):
                if should_stop():
                    raise StageError("Cancelled.", code="cancelled", status=409)
                out.write(chunk)
                on_bytes(len(chunk))
    except zipfile.BadZipFile as exc:
        dest.unlink(missing_ok=True)
        raise StageError(f"{pack.name} is damaged: {exc}", code="bad_pack") from exc
    except OSError as exc:
        dest.unlink(missing_ok=True)
        if is_out_of_space(exc):
            raise StageError("The disk filled up.", code="disk_full", status=507) from exc
        raise
    except StageError:
        dest.unlink(missing_ok=True)
        raise
    verify_file(dest, artifact)


def clear_folder(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
