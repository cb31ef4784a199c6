"""build/update-runtime-registry against a local package index: a real HTTP server on 127.0.0.1
serving PEP 503 pages and wheel files, the script run as the release engineer runs it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hearth.hardware import model
from hearth.hardware.model import Gpu, GpuFindings
from hearth.runtime import resolver
from hearth.runtime.registry import load_registry

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "build" / "update-runtime-registry"

LLAMA_WHEELS = {
    "llama_cpp_python-0.3.36-cp311-cp311-linux_x86_64.whl": b"llama cp311 linux " * 1000,
    "llama_cpp_python-0.3.36-cp311-cp311-win_amd64.whl": b"llama cp311 windows " * 900,
    "llama_cpp_python-0.3.35-cp311-cp311-linux_x86_64.whl": b"older " * 10,
}
CUDART_WHEELS = {
    "nvidia_cuda_runtime-13.0.96-py3-none-manylinux_2_27_x86_64.whl": b"cudart x86 " * 700,
    "nvidia_cuda_runtime-13.0.96-py3-none-manylinux_2_27_aarch64.whl": b"cudart arm " * 600,
    "nvidia_cuda_runtime-13.0.96-py3-none-win_amd64.whl": b"cudart win " * 500,
    "nvidia_cuda_runtime-13.0.48-py3-none-manylinux_2_27_x86_64.whl": b"cudart old " * 400,
}
DIRECT = {"nvidia_cublas-13.1.0.3-py3-none-manylinux_2_27_x86_64.whl": b"cublas " * 800}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Handler(SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format, *args):
        self.requests.append(self.path)


@pytest.fixture
def index(tmp_path):
    """A local simple index; yields (base URL, www folder, list of requested paths)."""
    www = tmp_path / "www"
    files = www / "files"
    files.mkdir(parents=True)
    for name, data in {**LLAMA_WHEELS, **CUDART_WHEELS, **DIRECT}.items():
        (files / name).write_bytes(data)

    def page(project: str, wheels: dict[str, bytes]) -> None:
        folder = www / "simple" / project
        folder.mkdir(parents=True)
        links = "\n".join(
            f'<a href="../../files/{name}#sha256={_sha(data)}">{name}</a><br/>'
            for name, data in wheels.items()
        )
        (folder / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}\n</body></html>")

    page("llama-cpp-python", LLAMA_WHEELS)
    page("nvidia-cuda-runtime", CUDART_WHEELS)
    requests: list[str] = []
    handler = type("Handler", (_Handler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", www, requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _registry(base: str) -> dict:
    def llama(python: str, platform: str) -> dict:
        return {
            "role": "llama-cpp-python",
            "project": "llama-cpp-python",
            "version": "0.3.36",
            "filename": f"llama_cpp_python-0.3.36-{python}-{python}-{platform}.whl",
            "url": None,
            "index": f"{base}/simple",
            "size": None,
            "sha256": None,
        }

    cudart = {
        "role": "cuda-runtime",
        "project": "nvidia-cuda-runtime",
        "version": "13.0.96",
        "filename": None,
        "url": None,
        "index": f"{base}/simple",
        "size": None,
        "sha256": None,
    }
    cublas_name = next(iter(DIRECT))
    cublas = {
        "role": "cublas",
        "project": "nvidia-cublas",
        "version": "13.1.0.3",
        "filename": cublas_name,
        "url": f"{base}/files/{cublas_name}",
        "size": None,
        "sha256": None,
    }
    return {
        "schema": 1,
        "variants": [
            {
                "id": "cpu-bundled",
                "kind": "cpu",
                "llama_cpp_python": "0.3.36",
                "cuda": None,
                "min_driver": {},
                "compute_capability": None,
                "bundled": True,
                "builds": [{"python": "cp311", "platform": "linux_x86_64", "artifacts": []}],
            },
            {
                "id": "cuda-13.0",
                "kind": "cuda",
                "llama_cpp_python": "0.3.36",
                "cuda": "13.0",
                "min_driver": {"linux": "580", "windows": "580"},
                "compute_capability": {"min": "7.5", "max": None},
                "builds": [
                    {
                        "python": "cp311",
                        "platform": "linux_x86_64",
                        "artifacts": [llama("cp311", "linux_x86_64"), dict(cudart), cublas],
                    },
                    {
                        "python": "cp311",
                        "platform": "win_amd64",
                        "artifacts": [llama("cp311", "win_amd64"), dict(cudart)],
                    },
                ],
            },
        ],
    }


def _run(registry: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--registry", str(registry), "--timeout", "10", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "runtime-registry.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def test_pins_every_artifact(index, tmp_path):
    base, _, requests = index
    path = _write(tmp_path, _registry(base))
    result = _run(path)
    assert result.returncode == 0, result.stderr

    registry = load_registry(path)
    linux = registry.get("cuda-13.0").build_for("cp311", "linux_x86_64")
    windows = registry.get("cuda-13.0").build_for("cp311", "win_amd64")
    assert linux.pinned and windows.pinned
    got = {a.filename: (a.size, a.sha256) for a in linux.artifacts + windows.artifacts}
    expected_names = [
        "llama_cpp_python-0.3.36-cp311-cp311-linux_x86_64.whl",
        "nvidia_cuda_runtime-13.0.96-py3-none-manylinux_2_27_x86_64.whl",
        next(iter(DIRECT)),
        "llama_cpp_python-0.3.36-cp311-cp311-win_amd64.whl",
        "nvidia_cuda_runtime-13.0.96-py3-none-win_amd64.whl",
    ]
    everything = {**LLAMA_WHEELS, **CUDART_WHEELS, **DIRECT}
    assert got == {name: (len(everything[name]), _sha(everything[name])) for name in expected_names}
    assert linux.artifacts[1].url == (
        f"{base}/files/nvidia_cuda_runtime-13.0.96-py3-none-manylinux_2_27_x86_64.whl"
    )
    downloads = [r for r in requests if r.startswith("/files/")]
    assert len(downloads) == len(set(downloads)) == 5

    # Once pinned, the resolver offers it.
    gpu = GpuFindings(
        model.FOUND,
        "found",
        "nvml",
        (Gpu(0, "NVIDIA GeForce RTX 5090", "GPU-1", 32607, 31000, "12.0"),),
        "580.65.06",
        "13.0",
    )
    rec = resolver.recommend(
        gpu,
        registry,
        os_name="linux",
        platform="linux_x86_64",
        python="cp311",
        active_runtime_id="cpu-bundled",
    )
    assert rec.upgrade and rec.variant.id == "cuda-13.0"
    assert rec.download_bytes == sum(len(everything[n]) for n in expected_names[:3])


def test_hash_mismatch_with_the_index_fails_and_writes_nothing(index, tmp_path):
    base, www, _ = index
    (www / "files" / "llama_cpp_python-0.3.36-cp311-cp311-linux_x86_64.whl").write_bytes(b"evil")
    path = _write(tmp_path, _registry(base))
    before = path.read_bytes()
    result = _run(path)
    assert result.returncode == 1
    assert "does not match the index" in result.stderr
    assert "variants[1].builds[0].artifacts[0]" in result.stderr
    assert path.read_bytes() == before


def test_missing_file_fails_and_names_the_artifact(index, tmp_path):
    base, www, _ = index
    (www / "files" / next(iter(DIRECT))).unlink()
    path = _write(tmp_path, _registry(base))
    before = path.read_bytes()
    result = _run(path)
    assert result.returncode == 1
    assert "HTTP 404" in result.stderr
    assert "variants[1].builds[0].artifacts[2] (cuda-13.0 cp311/linux_x86_64 nvidia-cublas)" in (
        result.stderr
    )
    assert path.read_bytes() == before


def test_no_matching_wheel(index, tmp_path):
    base, _, _ = index
    data = _registry(base)
    data["variants"][1]["builds"][0]["artifacts"][1]["version"] = "13.9.9"
    result = _run(_write(tmp_path, data))
    assert result.returncode == 1
    assert "no nvidia-cuda-runtime 13.9.9 wheel for cp311/linux_x86_64" in result.stderr


def test_a_changed_pinned_file_needs_repin(index, tmp_path):
    base, www, _ = index
    path = _write(tmp_path, _registry(base))
    assert _run(path).returncode == 0
    (www / "files" / next(iter(DIRECT))).write_bytes(b"republished")
    result = _run(path)
    assert result.returncode == 1
    assert "no longer matches" in result.stderr
    result = _run(path, "--repin")
    assert result.returncode == 0, result.stderr
    cublas = load_registry(path).get("cuda-13.0").build_for("cp311", "linux_x86_64").artifacts[2]
    assert cublas.sha256 == _sha(b"republished")


def test_only_the_named_variant(index, tmp_path):
    base, _, requests = index
    path = _write(tmp_path, _registry(base))
    assert _run(path, "--variant", "cpu-bundled").returncode == 0
    assert not [r for r in requests if r.startswith("/files/")]
    assert _run(path, "--variant", "nope").returncode == 2


def test_invalid_registry_is_refused_with_the_field(tmp_path):
    data = _registry("http://127.0.0.1:9")
    data["variants"][1]["builds"][0]["artifacts"][0]["sha256"] = "xyz"
    data["variants"][1]["builds"][0]["artifacts"][0]["size"] = 3
    result = _run(_write(tmp_path, data))
    assert result.returncode == 2
    assert "variants[1].builds[0].artifacts[0].sha256" in result.stderr


def test_the_script_is_executable():
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text().startswith("#!/usr/bin/env python3\n")


# -- abetlen's CUDA wheels: GitHub release assets, pinned from the releases API's digest -------

RELEASE_WHEELS = {
    "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl": b"cuda 13 linux wheel " * 1500,
    "llama_cpp_python-0.3.36-py3-none-win_amd64.whl": b"cuda 13 windows wheel " * 1400,
}
REPO_PATH = "abetlen/llama-cpp-python"


def _publish_release(www: Path, base: str, tag: str, wheels: dict[str, bytes], **digests) -> None:
    """The releases API's answer for `tag`, as static JSON, and the files it points at."""
    folder = www / "dl" / tag
    folder.mkdir(parents=True)
    assets = []
    for name, data in wheels.items():
        (folder / name).write_bytes(data)
        assets.append(
            {
                "name": name,
                "size": len(data),
                "digest": digests.get(name, f"sha256:{_sha(data)}"),
                "browser_download_url": f"{base}/dl/{tag}/{name}",
            }
        )
    api = www / "repos" / REPO_PATH / "releases" / "tags"
    api.mkdir(parents=True, exist_ok=True)
    (api / tag).write_text(json.dumps({"tag_name": tag, "assets": assets}))


def _release_registry(tag: str = "v0.3.36-cu130") -> dict:
    data = _registry("http://127.0.0.1:9")
    cuda = data["variants"][1]
    cuda["builds"] = [
        {
            "python": "py3",
            "platform": platform,
            "artifacts": [
                {
                    "role": "llama-cpp-python",
                    "project": "llama-cpp-python",
                    "version": "0.3.36",
                    "filename": name,
                    "url": f"https://github.com/{REPO_PATH}/releases/download/{tag}/{name}",
                    "size": None,
                    "sha256": None,
                }
            ],
        }
        for platform, name in zip(("linux_x86_64", "win_amd64"), RELEASE_WHEELS, strict=True)
    ]
    return data


def test_release_assets_are_pinned_from_the_api_digest(index, tmp_path):
    base, www, requests = index
    _publish_release(www, base, "v0.3.36-cu130", RELEASE_WHEELS)
    path = _write(tmp_path, _release_registry())
    result = _run(path, "--github-api", base)
    assert result.returncode == 0, result.stderr
    variant = load_registry(path).get("cuda-13.0")
    for platform, (name, data) in zip(
        ("linux_x86_64", "win_amd64"), RELEASE_WHEELS.items(), strict=True
    ):
        # py3: the one build serves every CPython 3.
        (wheel,) = variant.build_for("cp312", platform).artifacts
        assert (wheel.filename, wheel.size, wheel.sha256) == (name, len(data), _sha(data))
        assert wheel.url == f"{base}/dl/v0.3.36-cu130/{name}"
    assert f"/repos/{REPO_PATH}/releases/tags/v0.3.36-cu130" in requests


def test_a_version_without_cuda_wheels_fails_naming_the_release(index, tmp_path):
    base, _, _ = index  # no release published at all: the API answers 404
    path = _write(tmp_path, _release_registry("v0.3.17-cu124"))
    before = path.read_bytes()
    result = _run(path, "--github-api", base)
    assert result.returncode == 1
    assert f"{REPO_PATH} has no release v0.3.17-cu124: upstream published no such build" in (
        result.stderr
    )
    assert "variants[1].builds[0].artifacts[0]" in result.stderr
    assert path.read_bytes() == before


def test_a_release_without_the_wheel_fails_naming_the_asset_and_what_it_has(index, tmp_path):
    base, www, _ = index
    linux, windows = RELEASE_WHEELS
    _publish_release(www, base, "v0.3.36-cu130", {windows: RELEASE_WHEELS[windows]})
    result = _run(_write(tmp_path, _release_registry()), "--github-api", base)
    assert result.returncode == 1
    assert f"release v0.3.36-cu130 of {REPO_PATH} has no asset {linux} (its assets: {windows})" in (
        result.stderr
    )


def test_a_file_that_does_not_match_the_release_digest_is_refused(index, tmp_path):
    base, www, _ = index
    linux = next(iter(RELEASE_WHEELS))
    _publish_release(www, base, "v0.3.36-cu130", RELEASE_WHEELS, **{linux: "sha256:" + "0" * 64})
    path = _write(tmp_path, _release_registry())
    before = path.read_bytes()
    result = _run(path, "--github-api", base)
    assert result.returncode == 1
    assert "does not match the release's digest" in result.stderr
    assert path.read_bytes() == before


def test_an_asset_without_a_digest_is_refused(index, tmp_path):
    base, www, _ = index
    linux = next(iter(RELEASE_WHEELS))
    _publish_release(www, base, "v0.3.36-cu130", RELEASE_WHEELS, **{linux: None})
    result = _run(_write(tmp_path, _release_registry()), "--github-api", base)
    assert result.returncode == 1
    assert f"the releases API gives no sha256 digest for {linux}" in result.stderr


def test_only_some_roles(index, tmp_path):
    base, _, _ = index
    path = _write(tmp_path, _registry(base))
    result = _run(path, "--role", "cublas")
    assert result.returncode == 0, result.stderr
    cuda = load_registry(path).get("cuda-13.0")
    linux = cuda.build_for("cp311", "linux_x86_64")
    assert [a.pinned for a in linux.artifacts] == [False, False, True]
    assert _run(path, "--role", "nope").returncode == 2


def test_the_shipped_registry_pins_every_pypi_artifact_and_names_what_upstream_publishes():
    """The CUDA libraries come from PyPI, pinned here; abetlen's wheels carry py3-none names
    (wheel.py-api="py3") under their release tags, pinned where GitHub is reachable."""
    registry = load_registry(REPO / "backend" / "hearth" / "data" / "runtime-registry.json")
    for variant in registry.variants:
        for build in variant.builds:
            for artifact in build.artifacts:
                if artifact.role == "llama-cpp-python":
                    assert artifact.filename == (
                        f"llama_cpp_python-{variant.llama_cpp_python}-py3-none-{build.platform}.whl"
                    )
                    tag = f"v{variant.llama_cpp_python}-cu{(variant.cuda or '').replace('.', '')}"
                    assert artifact.url.endswith(f"/releases/download/{tag}/{artifact.filename}")
                else:
                    assert artifact.pinned and artifact.url.startswith(
                        "https://files.pythonhosted.org/"
                    ), artifact
