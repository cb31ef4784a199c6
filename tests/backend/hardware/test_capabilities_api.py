"""GET /api/capabilities and POST /api/capabilities/refresh through a real FastAPI app."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hearth.api.capabilities import router
from hearth.hardware.service import HardwareService
from hearth.runtime import resolver
from hearth.runtime.active import ActiveRuntime

from tests.backend.hardware.conftest import probes_with
from tests.backend.hardware.test_resolver import registry_data

CPU_RUNTIME = ActiveRuntime("cpu-bundled", "cpu", "0.3.36", "/x/llama_cpp/__init__.py", False)


def _client(tmp_path, registry_path=None, **kwargs) -> tuple[TestClient, HardwareService]:
    service = HardwareService(
        tmp_path / "data",
        "0.1.0",
        10.0,
        True,
        registry_path=registry_path,
        probes=probes_with(),
        runtime_reader=lambda: CPU_RUNTIME,
        **kwargs,
    )
    app = FastAPI()
    app.state.hardware = service
    app.include_router(router)
    return TestClient(app), service


@pytest.fixture
def pinned_registry(tmp_path):
    path = tmp_path / "pinned-registry.json"
    path.write_text(json.dumps(registry_data()))
    return path


def test_no_gpu_document(empty_path, tmp_path):
    client, _ = _client(tmp_path)
    with client:
        body = client.get("/api/capabilities").json()
    assert set(body) == {"hardware", "detection", "runtime", "recommendation", "upgrade"}
    assert body["hardware"]["gpu"]["status"] == "none"
    assert set(body["hardware"]["cpu"]["flags"]) == {"avx", "avx2", "avx512", "fma", "f16c"}
    cache = body["detection"]["cache"]
    assert cache["source"] == "none" and cache["used"] is False
    assert cache["fingerprint"]["runtime"] == "cpu-bundled"
    assert body["runtime"] == {**CPU_RUNTIME.to_dict(), "offload": None}
    assert body["recommendation"]["code"] == resolver.NO_GPU
    assert body["recommendation"]["upgrade"] is False
    assert "nvidia-smi not found on PATH" in body["recommendation"]["reason"]
    assert body["upgrade"] == {
        "pending": None,
        "activation_pending": False,
        "last_revert": None,
        "last_job": None,
    }


@pytest.mark.parametrize(
    ("scenario", "code", "variant"),
    [
        ("rtx3060-535", resolver.UPGRADE, "cuda-12.4"),
        ("rtx4090-550", resolver.UPGRADE, "cuda-12.4"),
        ("h100-570", resolver.UPGRADE, "cuda-12.4"),
        ("rtx5090-580", resolver.UPGRADE, "cuda-13.0"),
        ("dual-3090-1080ti-550", resolver.UPGRADE, "cuda-12.4"),
        ("gtx1060-470", resolver.DRIVER_TOO_OLD, None),
        ("gtx1080-418", resolver.DRIVER_TOO_OLD, None),
        ("kepler-k40-470", resolver.CC_TOO_LOW, None),
        ("dual-3060-k80-470", resolver.CC_TOO_LOW, None),
        ("na-fields-t4", resolver.UPGRADE, "cuda-12.4"),
        ("exit9-driver", resolver.GPU_UNUSABLE, None),
        ("garbage", resolver.GPU_UNUSABLE, None),
        ("no-devices", resolver.NO_GPU, None),
    ],
)
def test_each_fake_card_gets_its_recommendation(
    fake_smi, tmp_path, pinned_registry, scenario, code, variant
):
    fake_smi(scenario)
    client, _ = _client(tmp_path, pinned_registry)
    with client:
        rec = client.get("/api/capabilities").json()["recommendation"]
    assert rec["code"] == code, rec["reason"]
    assert (rec["variant"] or {}).get("id") == variant


def test_shipped_registry_says_not_pinned(fake_smi, tmp_path):
    fake_smi("rtx4090-550")
    client, _ = _client(tmp_path)
    with client:
        rec = client.get("/api/capabilities").json()["recommendation"]
    assert rec["code"] == resolver.NOT_PINNED
    assert rec["candidate"]["id"] == "cuda-12.4"
    assert rec["variant"] is None


def test_refresh_redetects(fake_smi, tmp_path, monkeypatch, pinned_registry):
    smi = fake_smi("rtx3060-535")
    client, _ = _client(tmp_path, pinned_registry)
    with client:
        first = client.get("/api/capabilities").json()
        assert first["detection"]["cache"]["reason"] == "detected: no cache yet"
        again = client.get("/api/capabilities").json()
        # Held in memory, not re-read: the same detection, only older.
        assert (
            again["detection"]["cache"]["created_at"] == first["detection"]["cache"]["created_at"]
        )
        calls = len(smi.calls())
        monkeypatch.setenv("FAKE_NVIDIA_SMI_SCENARIO", "rtx4090-550")  # a new card, same driver
        refreshed = client.post("/api/capabilities/refresh").json()
    assert refreshed["detection"]["cache"]["reason"] == "detected: refresh requested"
    assert refreshed["hardware"]["gpu"]["gpus"][0]["name"] == "NVIDIA GeForce RTX 4090"
    assert len(smi.calls()) > calls


def test_a_new_service_reuses_the_cache_file(fake_smi, tmp_path):
    fake_smi("rtx3060-535")
    with _client(tmp_path)[0] as client:
        client.get("/api/capabilities")
    with _client(tmp_path)[0] as client:
        cache = client.get("/api/capabilities").json()["detection"]["cache"]
    assert cache["used"] is True
    assert cache["reason"] == "reused: fingerprint matches"
    assert cache["age_s"] >= 0


def test_offload_and_upgrade_state_are_reported(empty_path, tmp_path):
    client, service = _client(tmp_path)
    runtimes = tmp_path / "data" / "runtimes"
    runtimes.mkdir(parents=True)
    (runtimes / "last_revert.json").write_text(json.dumps({"reason": "health timeout after 60 s"}))
    (runtimes / "pending.json").write_text("{broken")
    service.record_offload({"gpu_layers_offloaded": 0, "gpu_layers_requested": 0})
    with client:
        body = client.get("/api/capabilities").json()
    assert body["runtime"]["offload"] == {"gpu_layers_offloaded": 0, "gpu_layers_requested": 0}
    assert body["upgrade"]["last_revert"] == {"reason": "health timeout after 60 s"}
    assert "unreadable pending.json" in body["upgrade"]["pending"]["error"]


def test_bad_registry_is_a_reason_not_a_crash(empty_path, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": 1, "variants": [{"id": "x"}]}))
    client, _ = _client(tmp_path, bad)
    with client:
        response = client.get("/api/capabilities")
    assert response.status_code == 200
    rec = response.json()["recommendation"]
    assert rec["code"] == resolver.REGISTRY_INVALID
    assert "variants[0].kind" in rec["reason"]
