"""The detection cache, `<data dir>/.gpu_detection_cache.json`: read, judge, write atomically.

A missing, corrupt or foreign file is never an error: the caller re-detects and says why."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearth.files import write_json_atomic
from hearth.hardware.model import HardwareProfile

log = logging.getLogger(__name__)

CACHE_FILE = ".gpu_detection_cache.json"
SCHEMA = "hearth.gpu-detection-cache/1"


@dataclass(frozen=True)
class CacheEntry:
    created_at: float
    source: str  # nvml | nvidia-smi | none
    fingerprint: dict[str, Any]  # driver_version, gpu_uuids, os, app_version, runtime
    stamp: dict[str, Any]  # the cheap driver check, see fingerprint.driver_stamp
    profile: HardwareProfile

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "created_at": self.created_at,
            "source": self.source,
            "fingerprint": self.fingerprint,
            "stamp": self.stamp,
            "profile": self.profile.to_dict(),
        }


def make_fingerprint(
    profile: HardwareProfile, *, app_version: str, runtime_id: str
) -> dict[str, Any]:
    return {
        "driver_version": profile.gpu.driver_version,
        "gpu_uuids": [g.uuid for g in profile.gpu.gpus],
        "os": profile.host.os_id,
        "app_version": app_version,
        "runtime": runtime_id,
    }


def cache_path(data_dir: Path) -> Path:
    return Path(data_dir) / CACHE_FILE


def read_cache(path: Path) -> tuple[CacheEntry | None, str]:
    """(entry, "") or (None, why it cannot be used)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, "no cache yet"
    except OSError as exc:
        return None, f"cache unreadable ({exc.strerror or exc})"
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, "cache file is corrupt"
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return None, "cache file has another format (older version or another program)"
    try:
        fingerprint = data["fingerprint"]
        stamp = data["stamp"]
        if not isinstance(fingerprint, dict) or not isinstance(stamp, dict):
            raise TypeError("fingerprint and stamp must be objects")
        entry = CacheEntry(
            created_at=float(data["created_at"]),
            source=str(data["source"]),
            fingerprint=fingerprint,
            stamp=stamp,
            profile=HardwareProfile.from_dict(data["profile"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return None, f"cache file is incomplete ({type(exc).__name__}: {exc})"
    return entry, ""


def verdict(
    entry: CacheEntry, *, app_version: str, runtime_id: str, os_id: str, stamp: dict[str, Any]
) -> tuple[bool, str]:
    """Whether a cached detection still describes this machine, and why (pure)."""
    fp = entry.fingerprint
    if fp.get("app_version") != app_version:
        return False, f"app version changed ({fp.get('app_version')} -> {app_version})"
    if fp.get("runtime") != runtime_id:
        return False, f"active runtime changed ({fp.get('runtime')} -> {runtime_id})"
    if fp.get("os") != os_id:
        return False, f"operating system changed ({fp.get('os')} -> {os_id})"
    if entry.stamp != stamp:
        return False, "NVIDIA driver changed"
    return True, "fingerprint matches"


def write_cache(path: Path, entry: CacheEntry) -> None:
    """A reader never sees half a file. Not durable: a cache lost in a power cut only costs
    one re-detection."""
    write_json_atomic(path, entry.to_dict(), indent=1, durable=False)
