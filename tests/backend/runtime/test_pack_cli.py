"""Offline installs and the terminal: `runtime pack` on a machine with the index, `upgrade
--from-pack` on one without, `runtime list|use|rollback|remove`, and packs sent to the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hearth.runtime.installed import folder_size

from tests.backend.runtime.wheels import variant, write_registry
from tests.backend.server_process import REPO, HearthProcess

BODY_LIMIT = 1024 * 1024  # the server's body limit in the upload test

pytestmark = pytest.mark.slow


def hearth(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hearth", *args],
        env={**os.environ, "PYTHONPATH": str(REPO / "backend"), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def setup(tmp_path, real_wheel, wheel_index, probe_models):
    registry = write_registry(
        tmp_path / "registry.json",
        variant(
            "cpu-test",
            "cpu",
            [("llama-cpp-python", real_wheel, wheel_index.add(real_wheel))],
            min_speedup=0,
        ),
    )
    env = {
        "HEARTH_DATA_DIR": str(tmp_path / "data"),
        "HEARTH_MODELS_DIR": str(probe_models),
        "HEARTH_RUNTIME_REGISTRY": str(registry),
    }
    return env, registry


@pytest.fixture
def pack(tmp_path, setup, real_wheel):
    env, _ = setup
    out = tmp_path / "usb" / "pack.zip"
    built = hearth("runtime", "pack", "cpu-test", "-o", str(out), env=env)
    assert built.returncode == 0, built.stderr
    assert f"Pack written: {out}" in built.stdout
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("hearth-runtime-pack.json"))
        assert zf.getinfo(f"artifacts/{real_wheel.filename}").file_size == real_wheel.size
    assert manifest["variant"] == "cpu-test"
    assert manifest["artifacts"][0]["sha256"] == real_wheel.sha256
    return out


def _tampered(pack: Path, tmp_path: Path) -> Path:
    bad = tmp_path / "tampered.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("artifacts/"):
                data = data[:-1] + bytes([data[-1] ^ 1])  # one bit, same size
            dst.writestr(info, data)
    return bad


def test_offline_install_from_a_pack_then_manage_runtimes(tmp_path, setup, pack):
    env, _ = setup
    offline = {**env, "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    done = hearth("upgrade", "--from-pack", str(pack), env=offline)
    assert done.returncode == 0, done.stderr
    for stage in ("[resolving]", "[downloading]", "[verifying]", "[unpacking]", "[probing]"):
        assert stage in done.stderr
    assert "Measured:" in done.stderr and "Switched to cpu-test" in done.stdout
    root = tmp_path / "data" / "runtimes"
    assert json.loads((root / "active.json").read_text())["folder"] == "cpu-test-0.3.36"
    assert json.loads((root / "pending.json").read_text())["attempts"] == 0
    assert pack.exists()  # a pack given by path is the person's: never deleted

    listed = hearth("runtime", "list", env=env)
    assert "* cpu-test-0.3.36" in listed.stdout and "pending" in listed.stdout

    refused = hearth("runtime", "remove", "cpu-test-0.3.36", env=env)
    assert refused.returncode == 1 and "runtime_active" in refused.stderr
    assert hearth("runtime", "rollback", env=env).returncode == 0
    assert json.loads((root / "active.json").read_text())["folder"] is None
    again = hearth("runtime", "use", "cpu-test-0.3.36", env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads((root / "pending.json").read_text())["folder"] == "cpu-test-0.3.36"
    assert hearth("runtime", "rollback", env=env).returncode == 0
    size = folder_size(root / "cpu-test-0.3.36")  # the real wheel, unpacked
    removed = hearth("runtime", "remove", "cpu-test-0.3.36", env=env)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["freed_bytes"] == size > 10 * BODY_LIMIT
    assert not (root / "cpu-test-0.3.36").exists()


def test_a_tampered_pack_is_refused(tmp_path, setup, pack):
    env, _ = setup
    done = hearth("upgrade", "--from-pack", str(_tampered(pack, tmp_path)), env=env)
    assert done.returncode == 1
    assert "[hash_mismatch]" in done.stderr
    root = tmp_path / "data" / "runtimes"
    assert sorted(p.name for p in root.iterdir()) == ["last_job.json"]


def test_packs_sent_to_the_api(tmp_path, setup, pack):
    env, registry = setup
    server = HearthProcess(
        tmp_path / "data",
        Path(env["HEARTH_MODELS_DIR"]),
        HEARTH_RUNTIME_REGISTRY=str(registry),
        HEARTH_MAX_BODY_BYTES=str(BODY_LIMIT),  # the upload route is exempt from the body limit
    ).start()
    try:
        with server.client() as client:
            missing = client.post(
                "/api/admin/upgrade-gpu/pack", json={"pack_path": str(tmp_path / "nope.zip")}
            )
            assert missing.status_code == 404 and missing.json()["code"] == "pack_not_found"
            not_a_pack = tmp_path / "photo.zip"
            not_a_pack.write_bytes(b"PK\x05\x06" + b"\0" * 18)
            bad = client.post("/api/admin/upgrade-gpu/pack", json={"pack_path": str(not_a_pack)})
            assert bad.status_code == 422 and bad.json()["code"] == "bad_pack"
            assert bad.json()["message"].startswith("photo.zip is not a Hearth runtime pack")
            # Uploaded, it is kept under a name of ours; the message still names the person's.
            uploaded = client.post(
                "/api/admin/upgrade-gpu/pack",
                params={"filename": "photo.zip"},
                content=not_a_pack.read_bytes(),
                headers={"Content-Type": "application/octet-stream"},
            )
            assert uploaded.json()["message"].startswith("photo.zip is not a Hearth runtime pack")

            tampered = _tampered(pack, tmp_path).read_bytes()
            assert len(tampered) > 10 * BODY_LIMIT  # the real wheel, packed
            resp = client.post(
                "/api/admin/upgrade-gpu/pack",
                content=tampered,
                headers={"Content-Type": "application/zip"},
            )
            assert resp.status_code == 202, resp.text
            job_id = resp.json()["id"]
            with client.stream("GET", f"/api/admin/upgrade-gpu/{job_id}/events") as stream:
                last = [line for line in stream.iter_lines() if line.startswith("event:")][-1]
            assert last == "event: failed"
            job = client.get(f"/api/admin/upgrade-gpu/{job_id}").json()
            assert job["source"] == "pack" and job["error"]["code"] == "hash_mismatch"
            assert client.get("/api/capabilities").json()["runtime"]["id"] == "cpu-bundled"
        # The upload was ours to delete; nothing else is left.
        root = tmp_path / "data" / "runtimes"
        assert sorted(p.name for p in root.iterdir()) == ["last_job.json"]
    finally:
        server.stop()
