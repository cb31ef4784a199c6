"""HardwareService: what the app keeps on `app.state.hardware` and /api/capabilities reads.

It holds the last detection, the registry, the active runtime and the loaded model's offload,
and assembles the capabilities document from them. Detection runs lazily on first use."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hearth.hardware.detect import DEFAULT_RUNTIME_ID, Detection, Probes, detect
from hearth.hardware.memory import PROC_MEMINFO, probe_memory
from hearth.hardware.model import MemoryInfo
from hearth.hardware.vram import free_vram_bytes
from hearth.runtime import resolver
from hearth.runtime.active import ActiveRuntime, read_active_runtime, read_upgrade_state
from hearth.runtime.registry import Registry, RegistryError, load_registry

log = logging.getLogger(__name__)


class HardwareService:
    def __init__(
        self,
        data_dir: Path,
        app_version: str,
        timeout: float = 5.0,
        use_cache: bool = True,
        *,
        runtime_id: str = DEFAULT_RUNTIME_ID,
        registry_path: Path | None = None,
        release_url: str | None = None,
        probes: Probes | None = None,
        runtime_reader: Callable[[], ActiveRuntime] | None = None,
    ):
        self.data_dir = Path(data_dir)
        self.app_version = app_version
        self.timeout = timeout
        self.use_cache = use_cache
        self.runtime_id = runtime_id
        self._registry_path = registry_path
        self._release_url = release_url
        self._probes = probes
        self._runtime_reader = runtime_reader or (lambda: read_active_runtime(runtime_id))
        self._lock = threading.Lock()
        self._detection: Detection | None = None
        self._registry: Registry | RegistryError | None = None
        self._runtime: ActiveRuntime | None = None
        self._offload: dict[str, Any] | None = None

    # --- pieces -------------------------------------------------------------------------

    def detection(self) -> Detection:
        """The current detection: cached in memory, else from the cache file or the probes."""
        with self._lock:
            if self._detection is None:
                self._detection = self._detect(force=False)
            return self._detection

    def _detect(self, *, force: bool) -> Detection:
        return detect(
            self.data_dir,
            app_version=self.app_version,
            runtime_id=self.runtime_id,
            timeout=self.timeout,
            use_cache=self.use_cache,
            force=force,
            probes=self._probes,
        )

    def registry(self) -> Registry | RegistryError:
        """The registry, or the error that names its bad field (reported, not raised)."""
        if self._registry is None:
            try:
                self._registry = load_registry(self._registry_path, self._release_url)
            except RegistryError as exc:
                log.error("runtime registry invalid: %s", exc.message)
                self._registry = exc
        return self._registry

    def runtime(self) -> ActiveRuntime:
        if self._runtime is None:
            self._runtime = self._runtime_reader()
        return self._runtime

    def recommendation(self) -> resolver.Recommendation:
        registry = self.registry()
        if isinstance(registry, RegistryError):
            return resolver.Recommendation(
                False, resolver.REGISTRY_INVALID, f"Runtime registry is invalid: {registry}"
            )
        profile = self.detection().profile
        return resolver.recommend(
            profile.gpu,
            registry,
            os_name=profile.host.os,
            platform=profile.host.platform_tag,
            python=profile.host.python_tag,
            active_runtime_id=self.runtime_id,
        )

    def free_vram_bytes(self) -> list[int] | None:
        """Free VRAM per GPU now (not from the cache), for `engine.planner.plan_offload`."""
        return free_vram_bytes(self.timeout, self._probes)

    def memory_now(self) -> MemoryInfo:
        """Total and available RAM now (not from the cache): what a model would load into."""
        return probe_memory(self._probes.proc_meminfo if self._probes else PROC_MEMINFO)

    @property
    def offload(self) -> dict[str, Any] | None:
        """What the loaded chat model offloaded, as `record_offload` was told; None when none."""
        return self._offload

    def record_offload(self, offload: dict[str, Any] | None) -> None:
        """The engine reports what the loaded model actually offloaded (None after unload)."""
        self._offload = dict(offload) if offload is not None else None

    # --- the document -------------------------------------------------------------------

    def current(self) -> dict[str, Any]:
        """The GET /api/capabilities body."""
        detection = self.detection()
        runtime = self.runtime().to_dict()
        runtime["offload"] = self._offload
        return {
            "hardware": detection.profile.to_dict(),
            "detection": detection.to_dict(time.time()),
            "runtime": runtime,
            "recommendation": self.recommendation().to_dict(),
            "upgrade": read_upgrade_state(self.data_dir),
        }

    def refresh(self) -> dict[str, Any]:
        """Re-detect, ignoring the cache (POST /api/capabilities/refresh)."""
        with self._lock:
            self._detection = self._detect(force=True)
        return self.current()
