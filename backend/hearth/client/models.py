"""`python -m hearth models ...`: the model library from the terminal, with progress."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from hearth.client.progress import bar, human_bytes, show
from hearth.library.library import ModelLibrary
from hearth.settings import Settings


def _list(library: ModelLibrary) -> int:
    entries = library.scan()
    if not entries:
        print(f"No models in {library.models_dir}")
        return 0
    print(f"{'model':48} {'kind':9} {'arch':10} {'quant':7} {'ctx':>7} {'size':>9}")
    for e in entries:
        if e.info is None:
            problem = e.error.message if e.error else "unreadable"
            print(f"{e.id:48} broken: {problem}")
            continue
        i = e.info
        print(
            f"{e.id:48} {e.kind or '':9} {i.architecture:10} {i.quantization:7} "
            f"{i.context_length or 0:>7} {human_bytes(e.size):>9}"
        )
    return 0


def _catalogue(library: ModelLibrary) -> int:
    from hearth.library.catalogue import Catalogue

    for entry in Catalogue.load().entries:
        installed = " (installed)" if library.exists(entry.filename) else ""
        size = human_bytes(entry.size) if entry.size else "?"
        print(f"{entry.id:32} {entry.kind:9} {size:>9}  {entry.name}{installed}")
    return 0


async def _download(library: ModelLibrary, catalogue_id: str) -> int:
    from hearth.library.downloads import DownloadManager

    manager = DownloadManager(library)
    try:
        job = await manager.start(catalogue_id)
        last = job
        async for snapshot in manager.subscribe(job["id"]):
            last = snapshot
            show(
                bar(
                    snapshot["filename"],
                    snapshot["bytes_done"],
                    snapshot["bytes_total"],
                    snapshot["rate"],
                )
            )
        show(bar(last["filename"], last["bytes_done"], last["bytes_total"]), end=True)
        if last["state"] != "done":
            error = last.get("error") or {}
            print(f"hearth: download {last['state']}: {error.get('message', '')}", file=sys.stderr)
            return 1
        print(f"Installed {last['filename']} (sha256 {last['sha256']}, {last['verified']})")
        return 0
    finally:
        await manager.aclose()


_STAGE_LABELS = {
    "checking": "starter model (resuming)",
    "downloading": "starter model (download)",
    "verifying": "starter model (download)",
    "unpacking": "starter model (unpack)",
    "copying": "starter model (copy)",
}


def _provision(library: ModelLibrary, settings: Settings) -> int:
    from hearth.library.starter import StarterProgress, provision_starter

    shown = {"label": "", "line": ""}

    def progress(p: StarterProgress) -> None:
        label = _STAGE_LABELS[p.stage]
        if shown["line"] and label != shown["label"]:
            show(shown["line"], end=True)  # one finished bar per step: download, then unpack
        shown["label"], shown["line"] = label, bar(label, p.done, p.total, p.rate or None)
        show(shown["line"])

    try:
        result = asyncio.run(
            provision_starter(
                library,
                index_url=settings.package_index_url,
                starter_dir=settings.starter_dir,
                on_progress=progress,
            )
        )
    finally:
        if shown["line"]:
            show(shown["line"], end=True)
    print(f"Starter model: {result.reason}", file=sys.stderr)
    return 0


def run_models(args: argparse.Namespace, settings: Settings) -> int:
    library = ModelLibrary(settings.models_dir)
    action = args.action or "list"
    if action == "list":
        return _list(library)
    if action == "import":
        entry = library.import_path(Path(args.path).expanduser())
        print(f"Imported {entry.id} ({human_bytes(entry.size)})")
        return 0
    if action == "delete":
        library.delete(args.model)
        print(f"Deleted {args.model}")
        return 0
    if action == "catalogue":
        return _catalogue(library)
    if action == "download":
        return asyncio.run(_download(library, args.catalogue_id))
    if action == "provision-starter":
        return _provision(library, settings)
    raise SystemExit(f"unknown action {action}")
