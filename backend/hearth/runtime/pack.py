"""Build a runtime pack on a machine with internet, for a machine without: a zip of one variant
build's artifacts (each verified against the registry while downloading) plus a manifest. The
offline machine verifies every artifact against its own registry again before using it."""

from __future__ import annotations

import json
import os
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

from hearth.net.download import Downloader, Progress
from hearth.runtime import staging
from hearth.runtime.registry import Registry


async def build_pack(
    registry: Registry,
    variant_id: str,
    *,
    python: str,
    platform: str,
    output: Path,
    on_progress: Callable[[str, Progress], None] | None = None,
    downloader: Downloader | None = None,
) -> Path:
    target = staging.choose_target(registry, variant_id, python, platform)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    own = downloader is None
    downloader = downloader or Downloader(client=httpx.AsyncClient(timeout=30.0))
    try:
        with tempfile.TemporaryDirectory(prefix="hearth-pack-", dir=output.parent) as tmp:
            files = []
            for artifact in target.build.artifacts:
                name = staging.artifact_filename(artifact)
                report = _reporter(on_progress, name)
                result = await downloader.fetch(
                    artifact.url or "",
                    Path(tmp) / name,
                    sha256=artifact.sha256,
                    size=artifact.size,
                    on_progress=report,
                )
                files.append((artifact, result.path))
            manifest = {
                "format": staging.PACK_FORMAT,
                "variant": target.variant.id,
                "kind": target.variant.kind,
                "llama_cpp_python": target.variant.llama_cpp_python,
                "python": python,
                "platform": platform,
                "created_at": time.time(),
                "artifacts": [
                    {
                        "role": a.role,
                        "filename": path.name,
                        "sha256": a.sha256,
                        "size": a.size,
                    }
                    for a, path in files
                ],
            }
            partial = output.with_name(output.name + ".part")
            # Wheels are compressed already: store them as they are.
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr(staging.PACK_MANIFEST, json.dumps(manifest, indent=2))
                for _, path in files:
                    zf.write(path, f"artifacts/{path.name}")
            os.replace(partial, output)
    finally:
        if own:
            await downloader.client.aclose()
    return output


def _reporter(
    on_progress: Callable[[str, Progress], None] | None, name: str
) -> Callable[[Progress], None] | None:
    if on_progress is None:
        return None
    return lambda progress: on_progress(name, progress)
