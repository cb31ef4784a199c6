"""The models folder: list, import, upload and delete GGUF files, each checked before it lands.

Every file enters through a temporary file in the same folder and one atomic rename, so the
folder never shows a half-written model, and a failed import leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import threading
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hearth.errors import BadRequest, Conflict, HearthError, InvalidModel, NotFound
from hearth.files import file_kind
from hearth.library.filenames import check_model_filename
from hearth.library.gguf import GGUFInfo, read_gguf_info
from hearth.net.diskspace import DiskUsage, is_out_of_space, space_shortfall

log = logging.getLogger(__name__)

IMPORT_PREFIX = ".import-"
_WRITE_BATCH = 1024 * 1024

Kind = Literal["chat", "embedding", "other"]


@dataclass(frozen=True)
class Problem:
    """Why a file in the models folder cannot be used, in the API's error shape."""

    code: str
    message: str


@dataclass(frozen=True)
class ModelEntry:
    """One `*.gguf` file in the models folder: its header, or the reason it is broken."""

    id: str  # the file name
    path: Path
    size: int
    info: GGUFInfo | None
    error: Problem | None

    @property
    def ok(self) -> bool:
        return self.info is not None

    @property
    def kind(self) -> Kind | None:
        if self.info is None:
            return None
        return model_kind(self.info)


def model_kind(info: GGUFInfo) -> Kind:
    if info.is_embedding:
        return "embedding"
    # LoRA adapters and vision projectors are GGUF too, but nothing one can chat with alone.
    if info.model_type != "model" or info.architecture == "clip":
        return "other"
    return "chat"


def disk_full(message: str) -> HearthError:
    return HearthError(message, code="disk_full", status=507)


class ModelLibrary:
    """The GGUF files in one folder. Methods do blocking file I/O, except `import_stream`."""

    def __init__(self, models_dir: Path, *, disk_usage: DiskUsage = shutil.disk_usage):
        self.models_dir = Path(models_dir)
        self._disk_usage = disk_usage
        # Header cache keyed by file name, valid while size and mtime are unchanged.
        self._cache: dict[str, tuple[tuple[int, int], GGUFInfo | Problem]] = {}
        self._lock = threading.Lock()

    def scan(self) -> list[ModelEntry]:
        """Every `*.gguf` file in the folder, sorted by name; broken ones carry their error."""
        self.models_dir.mkdir(parents=True, exist_ok=True)
        entries = []
        for path in sorted(self.models_dir.iterdir(), key=lambda p: p.name.lower()):
            if path.name.startswith(".") or not path.name.lower().endswith(".gguf"):
                continue
            entry = self._entry(path)
            if entry is not None:
                entries.append(entry)
        return entries

    def get(self, model_id: str) -> ModelEntry:
        path = self.models_dir / check_model_filename(model_id)
        entry = self._entry(path)
        if entry is None:
            raise NotFound(f"No model named {model_id!r}", code="model_not_found")
        return entry

    def find(self, model_id: str) -> ModelEntry | None:
        """Like `get`, but None for a missing model or an impossible name."""
        try:
            return self.get(model_id)
        except (NotFound, BadRequest):
            return None

    def path_for(self, filename: str) -> Path:
        """Where a model called `filename` lives (checked to be a plain .gguf name)."""
        return self.models_dir / check_model_filename(filename)

    def exists(self, filename: str) -> bool:
        return self.path_for(filename).exists()

    def import_path(self, src: Path) -> ModelEntry:
        """Copy the GGUF at `src` into the folder after checking it; refuse an existing name."""
        src = Path(src).expanduser()
        kind = file_kind(src)
        if kind is None:
            raise NotFound(f"No file at {src}", code="file_not_found")
        if kind != "file":
            raise BadRequest(f"{src} is not a file", code="not_a_file")
        name = check_model_filename(src.name)
        self._refuse_existing(name)
        read_gguf_info(src)  # fail before copying gigabytes
        size = src.stat().st_size
        self.models_dir.mkdir(parents=True, exist_ok=True)
        shortfall = space_shortfall(self.models_dir, size, disk_usage=self._disk_usage)
        if shortfall:
            raise disk_full(shortfall)
        tmp = self._temp_path(name)
        try:
            shutil.copyfile(src, tmp)
            return self._install(tmp, name)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if is_out_of_space(exc):
                raise disk_full(f"The disk filled up while copying {name}") from exc
            raise

    async def import_stream(self, filename: str, chunks: AsyncIterable[bytes]) -> ModelEntry:
        """Write an uploaded body to a temp file, check it, then rename it into the folder."""
        name = check_model_filename(filename)
        self._refuse_existing(name)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._temp_path(name)
        try:
            with tmp.open("wb") as fh:
                batch = bytearray()
                async for chunk in chunks:
                    batch += chunk
                    if len(batch) >= _WRITE_BATCH:
                        await asyncio.to_thread(fh.write, bytes(batch))
                        batch.clear()
                await asyncio.to_thread(fh.write, bytes(batch))
            return await asyncio.to_thread(self._install, tmp, name)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if is_out_of_space(exc):
                raise disk_full(f"The disk filled up while receiving {name}") from exc
            raise

    def delete(self, model_id: str) -> None:
        path = self.models_dir / check_model_filename(model_id)
        try:
            path.unlink()
        except FileNotFoundError:
            raise NotFound(f"No model named {model_id!r}", code="model_not_found") from None
        except PermissionError as exc:
            # Windows refuses to delete a file that is memory-mapped by a loaded model.
            raise Conflict(
                f"{model_id} is in use and cannot be deleted; unload it first", code="model_in_use"
            ) from exc
        self._cache.pop(model_id, None)
        log.info("deleted model %s", model_id)

    def remove_stale_imports(self) -> int:
        """Delete temp files left by imports that a crash interrupted; call once at startup."""
        if not self.models_dir.is_dir():
            return 0
        stale = [p for p in self.models_dir.glob(f"{IMPORT_PREFIX}*") if p.is_file()]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def install_checked(self, staged: Path, filename: str) -> ModelEntry:
        """Check a file already in the models folder and rename it to `filename`."""
        return self._install(staged, check_model_filename(filename))

    def _install(self, staged: Path, name: str) -> ModelEntry:
        info = read_gguf_info(staged, name)  # raises InvalidModel, naming the person's file
        dest = self.models_dir / name
        with self._lock:  # two imports of one name: the second must see the first's file
            self._refuse_existing(name)
            os.replace(staged, dest)
        stat = dest.stat()
        self._cache[name] = ((stat.st_size, stat.st_mtime_ns), info)
        log.info("installed model %s (%s, %s)", name, info.architecture, info.quantization)
        return ModelEntry(id=name, path=dest, size=stat.st_size, info=info, error=None)

    def _refuse_existing(self, name: str) -> None:
        if (self.models_dir / name).exists():
            raise Conflict(f"A model named {name} is already installed", code="model_exists")

    def _temp_path(self, name: str) -> Path:
        return self.models_dir / f"{IMPORT_PREFIX}{secrets.token_hex(4)}-{name}.part"

    def _entry(self, path: Path) -> ModelEntry | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        key = (stat.st_size, stat.st_mtime_ns)
        cached = self._cache.get(path.name)
        if cached is not None and cached[0] == key:
            result = cached[1]
        else:
            try:
                result = read_gguf_info(path)
            except InvalidModel as exc:
                result = Problem(exc.code, exc.message)
            self._cache[path.name] = (key, result)
        if isinstance(result, Problem):
            return ModelEntry(id=path.name, path=path, size=stat.st_size, info=None, error=result)
        return ModelEntry(id=path.name, path=path, size=stat.st_size, info=result, error=None)
