"""Hardware fixtures: a fake nvidia-smi first on PATH, fake NVML objects, isolated /proc paths."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hearth.hardware.detect import Probes

from tests.backend.hardware.fakes import fake_nvml

FAKES = Path(__file__).parent / "fakes"
SCENARIOS = FAKES / "scenarios"


@dataclass
class FakeSmi:
    bin_dir: Path
    path: Path
    log: Path

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH with nothing on it: no nvidia-smi, even on a machine that has a real one."""
    folder = tmp_path / "empty-bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


@pytest.fixture
def fake_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install the fake nvidia-smi alone on PATH; call the result with a scenario name."""
    if sys.platform == "win32":
        pytest.skip("the fake nvidia-smi is a POSIX script")
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    lines = (FAKES / "nvidia-smi").read_text().splitlines(keepends=True)
    # This interpreter, without site or environment: fast to start, no PATH lookup needed.
    lines[0] = f"#!{sys.executable} -SE\n"
    target = bin_dir / "nvidia-smi"
    target.write_text("".join(lines))
    target.chmod(0o755)
    log = tmp_path / "nvidia-smi.log"
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("FAKE_NVIDIA_SMI_SCENARIOS", str(SCENARIOS))
    monkeypatch.setenv("FAKE_NVIDIA_SMI_LOG", str(log))

    def use(scenario: str) -> FakeSmi:
        assert (SCENARIOS / scenario).is_dir(), scenario
        monkeypatch.setenv("FAKE_NVIDIA_SMI_SCENARIO", scenario)
        return FakeSmi(bin_dir, target, log)

    return use


def probes_with(nvml: object | None = None, proc: Path | None = None) -> Probes:
    """Probes with NVML replaced (missing by default) and /proc/driver/nvidia/version pointed
    at `proc` (absent by default), so a real driver on the test machine cannot leak in."""
    nvml = nvml if nvml is not None else fake_nvml.missing()
    return Probes(
        nvml_loader=lambda: nvml,
        proc_driver_version=proc if proc is not None else Path("/nonexistent/nvidia/version"),
    )


@pytest.fixture
def no_nvml_probes() -> Probes:
    return probes_with()
