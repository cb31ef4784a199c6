"""The PyInstaller onedir as the shell runs it: fresh start, chat, bundled runtime, overlay."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.backend.api.sse_client import chat
from tests.backend.docs.corpus import encrypt_pdf, make_pdf
from tests.packaging.frozen import BUNDLED_RUNTIME, EXECUTABLE, clean_env
from tests.scripts import load_script

frozen_selfcheck = load_script("frozen_selfcheck.py")

SMOL = "SmolLM2-135M-Instruct.Q4_1.gguf"


def inside(path: str | None, folder: Path) -> bool:
    return path is not None and Path(path).resolve().is_relative_to(folder.resolve())


def runtime_of(client: httpx.Client) -> dict:
    r = client.get("/api/capabilities")
    assert r.status_code == 200, r.text
    return r.json()["runtime"]


def loaded_libraries(pid: int) -> set[str]:
    """Files the process has mapped: which libllama really got loaded, not which was imported."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {line.split(maxsplit=5)[5] for line in maps.splitlines() if len(line.split()) == 6}


def install_starter_model(data: Path, smollm_path: Path) -> None:
    models = data / "models"
    models.mkdir(parents=True)
    (models / smollm_path.name).symlink_to(smollm_path)


def test_self_check_runs_chromadb_and_llama_cpp_inside_the_bundle(frozen_exe, stories_path):
    run = subprocess.run(
        [str(frozen_exe), "--self-check", "--model", str(stories_path)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    report = json.loads(run.stdout)
    assert report["frozen"] is True
    # chromadb as Hearth uses it: a persistent client with telemetry off, our own embeddings.
    assert report["chromadb"]["nearest"] == "near" and report["chromadb"]["records"] == 2
    llama = report["llama_cpp"]
    assert inside(llama["path"], BUNDLED_RUNTIME), llama["path"]
    assert inside(llama["library"], BUNDLED_RUNTIME / "llama_cpp" / "lib"), llama["library"]
    assert llama["generated_tokens"] > 0 and llama["generated"].strip()
    assert report["excluded"]["absent"] == list(frozen_selfcheck.EXCLUDED)
    # chromadb's tracing exporter is Hearth's stand-in, without gRPC (backend.spec).
    assert report["excluded"]["stand_in"] == frozen_selfcheck.OTLP_TRACE_EXPORTER


def test_a_fresh_data_dir_boots_healthy_and_stops_cleanly(start_frozen, tmp_path):
    data = tmp_path / "data"
    assert not data.exists()
    backend = start_frozen()
    health = httpx.get(f"{backend.url}/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    with backend.client() as client:
        assert client.get("/api/status").status_code == 200
    assert httpx.get(f"{backend.url}/api/status", timeout=5).status_code == 401
    assert (data / "models").is_dir(), "the lifespan created the data dir's models folder"
    assert backend.stop() == 0, "docs/PROTOCOL.md: a requested shutdown exits 0"


def test_capabilities_name_the_bundled_cpu_runtime_inside_the_bundle(start_frozen):
    backend = start_frozen()
    with backend.client() as client:
        runtime = runtime_of(client)
    assert runtime["id"] == "cpu-bundled" and runtime["kind"] == "cpu"
    assert runtime["error"] is None
    assert runtime["supports_gpu_offload"] is False
    assert inside(runtime["llama_cpp_path"], BUNDLED_RUNTIME), runtime["llama_cpp_path"]
    assert inside(runtime["library_path"], BUNDLED_RUNTIME), runtime["library_path"]
    assert runtime["loaded_from_runtime"] is True
    version = (BUNDLED_RUNTIME / "llama_cpp" / "__init__.py").read_text()
    assert f'__version__ = "{runtime["llama_cpp_version"]}"' in version


@pytest.mark.slow
def test_chat_with_the_starter_model_streams_through_sse(start_frozen, tmp_path, smollm_path):
    install_starter_model(tmp_path / "data", smollm_path)
    backend = start_frozen()
    with backend.client() as client:
        installed = {m["id"]: m for m in client.get("/api/models").json()["models"]}
        assert installed[SMOL]["ok"] is True, installed
        r = client.post("/api/conversations", json={"model": SMOL})
        assert r.status_code == 201, r.text
        # The top token wins by at least 2.8 nats at each step through " Paris" on every CPU
        # variant measured (x64, sse42, haswell, zen4); the bare question is a coin flip.
        result = chat(client, r.json()["id"], "Complete the sentence: The capital of France is")
    assert result["names"][0] == "start"
    assert result["names"].count("delta") > 1, "streamed, not one lump"
    assert "Paris" in result["text"]
    message = result["done"]["message"]
    assert message["content"] == result["text"]
    assert message["model"] == SMOL and message["completion_tokens"] > 1


def make_overlay_runtime(data: Path, folder: str) -> Path:
    """A staged runtime the way the upgrade leaves one (hearth.runtime.installed/switch): a
    folder with its manifest and a llama_cpp package, and active.json pointing at it. The
    package is a copy of the bundled one plus a marker file, so only its location differs."""
    root = data / "runtimes"
    runtime = root / folder
    shutil.copytree(BUNDLED_RUNTIME / "llama_cpp", runtime / "llama_cpp", symlinks=True)
    (runtime / "llama_cpp" / "HEARTH_OVERLAY_MARKER").write_text("overlay\n")
    manifest = {
        "format": 1,
        "variant": "cpu-overlay-test",
        "kind": "cpu",
        "version": "0.3.36",
        "python": f"cp{sys.version_info.major}{sys.version_info.minor}",
        "platform": sys.platform,
        "artifacts": [],
        "source": "pack",
    }
    (runtime / "hearth-runtime.json").write_text(json.dumps(manifest))
    pointer = {"folder": folder, "variant": "cpu-overlay-test", "kind": "cpu", "confirmed": True}
    (root / "active.json").write_text(json.dumps(pointer))
    return runtime


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/maps")
def test_an_active_runtime_folder_replaces_the_bundled_llama_cpp(start_frozen, tmp_path):
    overlay = make_overlay_runtime(tmp_path / "data", "cpu-overlay-test")
    backend = start_frozen()
    with backend.client() as client:
        runtime = runtime_of(client)
        assert runtime["id"] == "cpu-overlay-test", runtime
        assert runtime["error"] is None, runtime["error"]
        assert inside(runtime["llama_cpp_path"], overlay), runtime["llama_cpp_path"]
        assert (Path(runtime["llama_cpp_path"]).parent / "HEARTH_OVERLAY_MARKER").is_file()
        assert inside(runtime["library_path"], overlay), runtime["library_path"]
        assert runtime["folder"] == str(overlay)
        assert runtime["loaded_from_runtime"] is True
        # The native libraries too: nothing from the bundled runtime is mapped into the process.
        mapped = loaded_libraries(backend.proc.pid)
        assert any(inside(path, overlay) and "libllama" in path for path in mapped), mapped
        bundled = sorted(p for p in mapped if inside(p, BUNDLED_RUNTIME))
        assert bundled == [], bundled


def test_the_upgrade_probe_child_runs_frozen_on_the_bundled_and_a_staged_runtime(
    frozen_exe, tmp_path, stories_path
):
    # hearth.runtime.probe starts `<sys.executable> probe-runtime ...`: the bundle itself here.
    overlay = make_overlay_runtime(tmp_path / "data", "cpu-probe-test")
    for runtime, folder in [(None, BUNDLED_RUNTIME), (overlay, overlay)]:
        args = [str(frozen_exe), "probe-runtime", "--model", str(stories_path), "--tokens", "4"]
        done = subprocess.run(
            [*args, *(["--runtime", str(runtime)] if runtime else [])],
            env=clean_env(HEARTH_DATA_DIR=str(tmp_path / "data")),
            capture_output=True,
            text=True,
            timeout=180,
        )
        lines = [
            line for line in done.stdout.splitlines() if line.startswith("HEARTH_PROBE_RESULT")
        ]
        assert done.returncode == 0 and lines, f"{done.stdout}\n{done.stderr}"
        result = json.loads(lines[-1].split(" ", 1)[1])
        assert result["ok"] is True, result
        assert inside(result["llama_cpp_path"], folder), result["llama_cpp_path"]
        assert result["tokens"] == 4


def _child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_unsupervised_serve_runs_the_frozen_launcher_which_respawns_a_crash(start_frozen):
    # Web mode (no Electron): the launcher runs `hearth-backend serve` as its child.
    backend = start_frozen(supervised=False)
    children = _child_pids(backend.proc.pid)
    assert len(children) == 1, children
    child = children[0]
    assert Path(f"/proc/{child}/exe").resolve() == EXECUTABLE.resolve()
    os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        respawned = [c for c in _child_pids(backend.proc.pid) if c != child]
        if respawned:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"no respawn after the crash:\n{backend.stderr()}")
    backend.wait_healthy(60)  # the same port: the launcher fixed it once
    environ = Path(f"/proc/{respawned[0]}/environ").read_bytes().split(b"\0")
    assert b"HEARTH_PREVIOUS_EXIT=signal SIGKILL" in environ
    assert backend.stop() == 0


def write_documents(folder: Path) -> None:
    """One file per extractor that needs a native or optional library in the bundle."""
    from docx import Document

    folder.mkdir()
    (folder / "cat.txt").write_text("The lighthouse keeper feeds a cat named Biscuit at seven.\n")
    garden = "Tomatoes need six hours of sun and deep watering twice a week."
    make_pdf(folder / "garden.pdf", [garden])
    # Locked with an owner password only, in AES-256: opens without asking, through the AES
    # that the bundle carries (pycryptodome's ciphers, collected by PyInstaller's hook).
    bakery = "The village bakery sells rye loaves only on Friday mornings."
    plain = make_pdf(folder / "plain-bakery.pdf", [bakery])
    encrypt_pdf(plain, folder / "bakery.pdf", "", "owner")
    plain.unlink()
    doc = Document()
    doc.add_heading("Boiler", level=1)
    doc.add_paragraph("Bleed the radiators every autumn before turning the heating on.")
    doc.save(str(folder / "boiler.docx"))


@pytest.mark.slow
def test_documents_are_indexed_and_searched_by_the_frozen_cli(frozen_exe, tmp_path, minilm_path):
    # chromadb, pypdf and python-docx (lxml) working inside the bundle, end to end.
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    (data / "models" / minilm_path.name).symlink_to(minilm_path)
    write_documents(tmp_path / "files")
    env = clean_env(HEARTH_DATA_DIR=str(data))

    def docs(*args: str) -> str:
        done = subprocess.run(
            [str(frozen_exe), "docs", *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"docs {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    docs("create", "Notes")
    docs("add", "Notes", str(tmp_path / "files"))
    for query, expected in [
        ("who feeds the cat", "cat.txt"),
        ("how much sun do tomatoes need", "garden.pdf"),
        ("when to bleed the radiators", "boiler.docx"),
        ("which day can I buy rye bread", "bakery.pdf"),
    ]:
        out = docs("search", "Notes", query)
        names = ("cat.txt", "garden.pdf", "boiler.docx", "bakery.pdf")
        found = {name: out.find(name) for name in names}
        ranked = sorted((pos, name) for name, pos in found.items() if pos >= 0)
        assert ranked and ranked[0][1] == expected, f"{query!r}:\n{out}"
