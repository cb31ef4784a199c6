"""Live metrics: the CPU arithmetic (pure), GPU readings from an injected NVML, and the SSE
stream and answer history from real servers."""

from __future__ import annotations

import socket
import threading
import time
from collections import namedtuple
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from hearth.api import metrics
from hearth.hardware import meter as hw_meter
from hearth.hardware.nvml import NvmlUnavailable

from tests.backend.api.sse_client import chat, sse
from tests.backend.hardware.fakes import fake_nvml

Times = namedtuple("Times", "user system idle iowait")


def test_busy_fraction_per_core():
    before = [Times(10, 5, 80, 5), Times(0, 0, 100, 0)]
    after = [Times(40, 15, 120, 5), Times(0, 0, 200, 0)]
    assert hw_meter.busy_fraction(before, after) == [0.5, 0.0]
    assert hw_meter.busy_fraction(before, before) == [0.0, 0.0]


@dataclass
class Util:
    gpu: int
    memory: int


class MeteredNvml(fake_nvml.FakeNvml):
    """The shared fake NVML plus the utilization reading the monitor takes."""

    util = 37

    def nvmlDeviceGetUtilizationRates(self, handle):
        self.calls.append("nvmlDeviceGetUtilizationRates")
        return Util(self.util, 5)


def _rtx3060() -> MeteredNvml:
    return MeteredNvml(
        gpus=[fake_nvml.FakeGpu("NVIDIA GeForce RTX 3060", "GPU-1", 12288, 11000, (8, 6))]
    )


def test_gpu_meter_reads_utilization_and_vram_and_opens_nvml_once():
    nvml = _rtx3060()
    meter = hw_meter.GpuMeter(lambda: nvml)
    first = meter.read()
    nvml.util = 90
    second = meter.read()
    assert first == [
        {
            "index": 0,
            "name": "NVIDIA GeForce RTX 3060",
            "util_percent": 37.0,
            "memory_used_bytes": 1288 * 1024 * 1024,
            "memory_total_bytes": 12288 * 1024 * 1024,
        }
    ]
    assert second[0]["util_percent"] == 90.0
    assert nvml.calls.count("nvmlInit") == 1
    meter.close()
    assert nvml.calls[-1] == "nvmlShutdown"


def test_without_nvml_the_gpu_series_are_absent_with_the_reason():
    def missing():
        raise NvmlUnavailable("NVML library not found (libnvidia-ml.so.1)")

    meter = hw_meter.GpuMeter(missing)
    assert meter.read() is None
    assert meter.reason == "NVML library not found (libnvidia-ml.so.1)"

    broken = _rtx3060()
    broken.init_error = fake_nvml.NVMLError_DriverNotLoaded
    meter = hw_meter.GpuMeter(lambda: broken)
    assert meter.read() is None
    assert "Driver Not Loaded" in (meter.reason or "")

    empty = MeteredNvml(gpus=[])
    meter = hw_meter.GpuMeter(lambda: empty)
    assert meter.read() is None and meter.reason == "NVML found no NVIDIA GPU"


class _Server:
    """The metrics router alone under uvicorn on 127.0.0.1, with an injected NVML."""

    def __init__(self, meter: hw_meter.GpuMeter):
        app = FastAPI()
        app.include_router(metrics.router)
        app.state.gpu_meter = meter
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def _samples(client: httpx.Client, path: str, n: int) -> list[dict]:
    out = []
    with client.stream("GET", path, params={"interval": 0.2}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for name, data in sse(response):
            assert name == "sample"
            out.append(data)
            if len(out) == n:
                break
    return out


@pytest.mark.slow
def test_stream_with_a_gpu():
    with _Server(hw_meter.GpuMeter(_rtx3060)) as url, httpx.Client(base_url=url) as client:
        samples = _samples(client, "/api/metrics/stream", 3)
    assert [s["gpus"][0]["util_percent"] for s in samples] == [37.0, 37.0, 37.0]
    assert all(s["gpu_reason"] is None for s in samples)
    assert samples[0]["t"] < samples[1]["t"] < samples[2]["t"]
    for s in samples:
        assert 0 <= s["cpu"]["percent"] <= 100
        assert len(s["cpu"]["per_core"]) >= 1
        assert 0 < s["memory"]["used_bytes"] < s["memory"]["total_bytes"]
        assert s["process"]["rss_bytes"] > 0


@pytest.mark.slow
def test_stream_and_answer_history_from_the_real_app(hearth_server):
    with hearth_server.client() as client:
        samples = _samples(client, "/api/metrics/stream", 2)
        assert samples[-1]["gpus"] is None and samples[-1]["gpu_reason"]
        assert client.get("/api/metrics/answers").json() == {"total": 0, "answers": []}
        conv = client.post("/api/conversations", json={"model": "stories260K.gguf"}).json()
        for prompt in ("Once upon a time", "The end"):
            chat(client, conv["id"], prompt, max_tokens=16)
        answers = client.get("/api/metrics/answers", params={"limit": 5}).json()
        history = answers["answers"]
    assert len(history) == answers["total"] == 2
    assert history[0]["message_id"] < history[1]["message_id"]
    assert all(a["tokens_per_s"] > 0 and a["model"] == "stories260K.gguf" for a in history)
    with hearth_server.client() as client:
        assert client.get("/api/metrics/answers", params={"limit": 0}).status_code == 422
    with pytest.raises(httpx.HTTPStatusError):
        httpx.get(f"{hearth_server.url}/api/metrics/answers").raise_for_status()
