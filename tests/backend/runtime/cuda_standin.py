"""A CUDA runtime for tests on a machine with no GPU and no CUDA build, and a fake NVIDIA card.

The runtime is this machine's real CPU runtime (llama_cpp with every CPU variant) plus a
`libggml-cuda.so` that, like the real module, needs the NVIDIA driver's `libcuda.so.1`: it is
linked against a stub of that library at build time, and the stub is not there when it loads.
That is the state of a real CUDA runtime on a PC without the NVIDIA driver, made with gcc.
The card is the fake nvidia-smi of tests/backend/hardware/fakes, first on PATH.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
FAKES = REPO / "tests" / "backend" / "hardware" / "fakes"
MODULE_SOURCE = """
int cuInit(unsigned flags);
int ggml_backend_score(void) { return 1; }
int touch(void) { return cuInit(0); }
"""


def installed_package() -> Path:
    spec = importlib.util.find_spec("llama_cpp")
    assert spec is not None and spec.origin
    return Path(spec.origin).parent


def add_cuda_module(lib_dir: Path, work: Path) -> Path:
    """Put a libggml-cuda.so that needs libcuda.so.1 into `lib_dir`; needs gcc."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "cuda.c").write_text("int cuInit(unsigned flags) { return 0; }\n")
    (work / "module.c").write_text(MODULE_SOURCE)
    cc = ["gcc", "-shared", "-fPIC"]
    stub = ["-Wl,-soname,libcuda.so.1", "-o", str(work / "libcuda.so"), str(work / "cuda.c")]
    subprocess.run([*cc, *stub], check=True)
    module = lib_dir / "libggml-cuda.so"
    linked = [str(work / "module.c"), f"-L{work}", "-Wl,--no-as-needed", "-lcuda"]
    subprocess.run([*cc, "-o", str(module), *linked], check=True)
    return module


def runtime_folder(dest: Path) -> Path:
    """This machine's llama_cpp package copied to dest/llama_cpp, with the stand-in module."""
    if shutil.which("gcc") is None:
        raise RuntimeError("gcc is needed to build the stand-in CUDA module")
    package = dest / "llama_cpp"
    shutil.copytree(installed_package(), package, symlinks=True, ignore=_pycache)
    add_cuda_module(package / "lib", dest.parent / f"{dest.name}-stubs")
    return dest


def _pycache(_folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__"}


def wheel_of_folder(folder: Path, out: Path, version: str) -> Path:
    """A py3 wheel of folder/llama_cpp, with its RECORD, as the staging code unpacks it."""
    import zipfile

    dist = f"llama_cpp_python-{version}.dist-info"
    wheel = out / f"llama_cpp_python-{version}-py3-none-linux_x86_64.whl"
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: llama_cpp_python\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: py3-none-linux_x86_64\n",
    }
    record = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((folder / "llama_cpp").rglob("*")):
            if path.is_dir():
                continue
            name = path.relative_to(folder).as_posix()
            data = path.read_bytes()
            zf.writestr(name, data)
            record.append(_record_line(name, data))
        for name, text in meta.items():
            zf.writestr(name, text)
            record.append(_record_line(name, text.encode()))
        record.append(f"{dist}/RECORD,,")
        zf.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
    return wheel


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def cuda13(variant: dict[str, Any]) -> dict[str, Any]:
    """A test registry's cuda variant made the shipped cuda-13.0's twin (CC 7.5+, driver 580+)."""
    variant.update(
        id="cuda-13.0",
        cuda="13.0",
        min_driver={"linux": "580", "windows": "580"},
        compute_capability={"min": "7.5", "max": None},
        description="NVIDIA CUDA 13.0 build of llama.cpp (test)",
    )
    variant.pop("min_speedup", None)
    return variant


def fake_nvidia_smi(tmp_path: Path, scenario: str) -> dict[str, str]:
    """The environment that puts the fake nvidia-smi, replaying `scenario`, first on PATH."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    lines = (FAKES / "nvidia-smi").read_text().splitlines(keepends=True)
    lines[0] = f"#!{sys.executable} -SE\n"
    (bin_dir / "nvidia-smi").write_text("".join(lines))
    (bin_dir / "nvidia-smi").chmod(0o755)
    return {
        "GPU_DETECTION_CACHE": "false",
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "FAKE_NVIDIA_SMI_SCENARIOS": str(FAKES / "scenarios"),
        "FAKE_NVIDIA_SMI_SCENARIO": scenario,
    }
