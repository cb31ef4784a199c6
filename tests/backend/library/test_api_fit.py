"""Fit badges, names, chat flags and the default model through GET /api/models and the catalogue.

The PC is faked at the OS edge only: a fake NVML (free VRAM), a meminfo file (RAM) and the active
runtime's report; everything from there to the JSON is Hearth's own code.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from hearth.api.models import router
from hearth.app import install_error_handlers
from hearth.engine.factory import LocalFactory
from hearth.engine.manager import ModelManager
from hearth.hardware.detect import Probes
from hearth.hardware.service import HardwareService
from hearth.library.downloads import DownloadManager
from hearth.library.library import ModelLibrary
from hearth.prefs import PrefsStore
from hearth.runtime.active import ActiveRuntime
from hearth.settings import Settings

from tests.backend.hardware.fakes.fake_nvml import FakeGpu, FakeNvml, missing

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024
GIB = 1024 * MIB
GPU_RUNTIME = ActiveRuntime("cuda-12.4", "cuda", "0.3.36", "/x/llama_cpp/__init__.py", True)
CPU_RUNTIME = ActiveRuntime("cpu-bundled", "cpu", "0.3.36", "/x/llama_cpp/__init__.py", False)
SMOLLM = "SmolLM2-135M-Instruct.Q4_1.gguf"
STORIES = "stories260K.gguf"
MINILM = "all-MiniLM-L6-v2-Q8_0.gguf"


def catalogue(path: Path) -> Path:
    """The bundled catalogue's shape for SmolLM2, and two made-up models: a 3 GiB one with a
    published shape and a 40 GiB one known only by its size."""
    base = {"description": "", "url": "http://127.0.0.1:9/x.gguf", "license": "mit"}
    models = [
        {
            **base,
            "id": "smollm2",
            "name": "SmolLM2 135M Instruct (Q4_1)",
            "kind": "chat",
            "filename": SMOLLM,
            "size": 98362432,
            "shape": {"n_layers": 30, "n_embd": 576, "n_head": 9, "n_head_kv": 3},
        },
        {
            **base,
            "id": "mid",
            "name": "Mid 3B",
            "kind": "chat",
            "filename": "mid.gguf",
            "size": 3 * GIB,
            "shape": {"n_layers": 28, "n_embd": 3072, "n_head": 24, "n_head_kv": 8},
        },
        {**base, "id": "huge", "name": "Huge", "kind": "chat", "filename": "huge.gguf"},
        {**base, "id": "unknown-size", "name": "Unsized", "kind": "chat", "filename": "u.gguf"},
    ]
    models[2]["size"] = 40 * GIB
    path.write_text(json.dumps({"version": 1, "models": models}))
    return path


@pytest.fixture
def pc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smollm_path, stories_path, minilm_path):
    """Call with the free VRAM (MiB, None = no NVIDIA GPU), RAM and the runtime."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # no nvidia-smi to fall back on
    models = tmp_path / "models"
    models.mkdir()
    for source in (smollm_path, stories_path, minilm_path):
        (models / source.name).symlink_to(source)

    def make(
        free_mib: int | None, ram_total: int, ram_free: int, runtime: ActiveRuntime = GPU_RUNTIME
    ) -> FastAPI:
        nvml = (
            FakeNvml(gpus=[FakeGpu("NVIDIA GeForce RTX 3060", "GPU-a", 12288, free_mib, (8, 6))])
            if free_mib is not None
            else missing()
        )
        meminfo = tmp_path / "meminfo"
        meminfo.write_text(
            f"MemTotal: {ram_total // 1024} kB\nMemFree: 1 kB\n"
            f"MemAvailable: {ram_free // 1024} kB\n"
        )
        probes = Probes(
            nvml_loader=lambda: nvml,
            proc_driver_version=Path("/nonexistent"),
            proc_meminfo=meminfo,
        )
        data = tmp_path / "data"
        settings = Settings.load(
            None, HEARTH_DATA_DIR=str(data), HEARTH_MODELS_DIR=str(models), HEARTH_N_CTX=4096
        )
        hardware = HardwareService(
            data, "0.1.0", 5.0, False, probes=probes, runtime_reader=lambda: runtime
        )
        library = ModelLibrary(models)
        prefs = PrefsStore(data)
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(router)
        app.state.settings = settings
        app.state.library = library
        app.state.hardware = hardware
        app.state.prefs = prefs
        app.state.models = ModelManager(LocalFactory(settings, library, hardware, prefs))
        app.state.downloads = DownloadManager(library, catalogue(tmp_path / "catalogue.json"))
        return app

    return make


@asynccontextmanager
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hearth") as http:
            yield http
    finally:
        await app.state.downloads.aclose()
        app.state.models.close()


async def listing(app: FastAPI) -> tuple[dict, dict]:
    async with client(app) as http:
        installed = (await http.get("/api/models")).json()
        offered = (await http.get("/api/models/catalogue")).json()
    return installed, offered


def by_id(items: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in items}


async def test_a_big_gpu_offloads_everything_it_can(pc):
    installed, offered = await listing(pc(free_mib=11000, ram_total=16 * GIB, ram_free=8 * GIB))
    models = by_id(installed["models"])
    assert models[SMOLLM]["fit"]["mode"] == "full"
    assert models[SMOLLM]["fit"]["basis"] == "gguf"
    assert models[SMOLLM]["fit"]["layers_on_gpu"] == models[SMOLLM]["fit"]["n_layers"] == 30
    assert models[STORIES]["fit"]["mode"] == "full"
    # Hearth runs embedding models on the CPU, whatever the GPU.
    assert models[MINILM]["fit"]["mode"] == "cpu"

    catalogue = by_id(offered["models"])
    assert catalogue["smollm2"]["fit"]["mode"] == "full"
    assert catalogue["smollm2"]["fit"]["basis"] == "catalogue"
    assert catalogue["mid"]["fit"]["mode"] == "full"
    assert catalogue["huge"]["fit"]["mode"] == "too_large"
    assert catalogue["huge"]["fit"]["basis"] == "size"
    assert catalogue["unknown-size"]["fit"] is None
    # The largest that fits fully on the GPU.
    assert offered["recommended"] == {"id": "mid", "why": "fits"}


async def test_a_small_gpu_takes_part_of_the_model(pc):
    # 600 MiB free: 570 usable, less 512 of overhead: room for some 2 MiB layers of SmolLM2.
    installed, offered = await listing(pc(free_mib=600, ram_total=16 * GIB, ram_free=8 * GIB))
    fit = by_id(installed["models"])[SMOLLM]["fit"]
    assert fit["mode"] == "partial"
    assert 0 < fit["layers_on_gpu"] < fit["n_layers"]
    assert fit["free_vram_bytes"] == 600 * MIB
    # Not one of the 3 GiB model's 126 MiB layers fits there; 2,000 MiB free takes eleven.
    assert by_id(offered["models"])["mid"]["fit"]["mode"] == "cpu"
    _, offered = await listing(pc(free_mib=2000, ram_total=16 * GIB, ram_free=8 * GIB))
    mid = by_id(offered["models"])["mid"]["fit"]
    assert (mid["mode"], mid["layers_on_gpu"], mid["n_layers"]) == ("partial", 11, 28)


async def test_the_cpu_runtime_runs_everything_on_the_cpu(pc):
    app = pc(free_mib=11000, ram_total=16 * GIB, ram_free=6 * GIB, runtime=CPU_RUNTIME)
    installed, offered = await listing(app)
    assert {m["fit"]["mode"] for m in installed["models"]} == {"cpu"}
    assert all(m["fit"]["free_vram_bytes"] is None for m in installed["models"])
    catalogue = by_id(offered["models"])
    assert catalogue["mid"]["fit"]["mode"] == "cpu"
    assert catalogue["mid"]["fit"]["ram_bytes"] > 3 * GIB
    # 3.7 GiB with its cache and buffers is more than half the 6 GiB free: SmolLM2 is not.
    assert offered["recommended"] == {"id": "smollm2", "why": "fits"}


async def test_too_little_ram_is_too_large_and_the_starter_is_the_fallback(pc):
    app = pc(free_mib=None, ram_total=1 * GIB, ram_free=512 * MIB)
    installed, offered = await listing(app)
    assert {m["fit"]["mode"] for m in installed["models"]} == {"too_large"}
    catalogue = by_id(offered["models"])
    assert catalogue["mid"]["fit"]["mode"] == "too_large"
    assert catalogue["mid"]["fit"]["ram_total_bytes"] == 1 * GIB
    assert offered["recommended"] == {"id": "smollm2", "why": "starter"}


async def test_names_chat_flags_and_the_default_from_the_start(pc):
    app = pc(free_mib=None, ram_total=16 * GIB, ram_free=8 * GIB)
    async with client(app) as http:
        body = (await http.get("/api/models")).json()
        models = by_id(body["models"])
        # The catalogue's name for a file that came from it; the file name for the others.
        assert models[SMOLLM]["name"] == "SmolLM2 135M Instruct (Q4_1)"
        assert models[STORIES]["name"] == "stories260K"
        assert models[MINILM]["name"] == "all-MiniLM-L6-v2-Q8_0"
        # Only a model with a chat template, not an embedding model, is offered for chat.
        assert {i for i, m in models.items() if m["chat"]} == {SMOLLM}
        assert models[STORIES]["kind"] == "chat"  # it still completes text through the API
        # The default shows before anyone chose it: the model a new chat would load.
        assert body["default_model"] == SMOLLM
        assert body["default_source"] == "automatic"
        assert body["loaded_model"] is None

        app.state.prefs.update({"default_model": STORIES})
        body = (await http.get("/api/models")).json()
        assert (body["default_model"], body["default_source"]) == (STORIES, "preference")

        one = (await http.get(f"/api/models/{SMOLLM}")).json()
        assert one["name"] == "SmolLM2 135M Instruct (Q4_1)" and one["fit"]["mode"] == "cpu"
