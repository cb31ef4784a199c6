"""/api/capabilities from a real server, with a fake nvidia-smi first on PATH."""

import os
from pathlib import Path

from tests.backend.api.sse_client import chat
from tests.backend.server_process import HearthProcess

FAKES = Path(__file__).resolve().parents[1] / "hardware" / "fakes"


def test_capabilities_show_the_gpu_the_runtime_and_the_offload(tmp_path, models_folder):
    server = HearthProcess(
        tmp_path / "data",
        models_folder,
        PATH=f"{FAKES}{os.pathsep}{os.environ['PATH']}",
        FAKE_NVIDIA_SMI_SCENARIO="rtx3060-535",
    ).start()
    try:
        with server.client() as client:
            caps = client.get("/api/capabilities").json()
            gpu = caps["hardware"]["gpu"]
            assert [g["name"] for g in gpu["gpus"]] == ["NVIDIA GeForce RTX 3060"]
            assert gpu["driver_version"] == "535.183.01" and gpu["cuda_driver_version"] == "12.2"
            assert caps["detection"]["source"] == "nvidia-smi"
            runtime = caps["runtime"]
            assert runtime["id"] == "cpu-bundled" and runtime["kind"] == "cpu"
            assert runtime["supports_gpu_offload"] is False
            # The shipped registry pins no hashes yet: a fitting build exists but is not offered.
            assert caps["recommendation"]["code"] == "artifacts_not_pinned"
            assert caps["recommendation"]["candidate"]["id"] == "cuda-12.4"
            # The cache file was written; a second call reuses it.
            assert (tmp_path / "data" / ".gpu_detection_cache.json").is_file()
            # After a model loads, the offload decision is reported.
            cid = client.post("/api/conversations", json={"model": "stories260K.gguf"}).json()
            chat(client, cid["id"], "Once upon a time", max_tokens=4)
            offload = client.get("/api/capabilities").json()["runtime"]["offload"]
            assert offload["model"] == "stories260K.gguf"
            assert offload["layers_offloaded"] == 0
            assert "CPU" in offload["plan"]["reason"] or "cpu" in offload["plan"]["mode"]
    finally:
        server.stop()
