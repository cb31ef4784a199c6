"""The CPU runtime's backend modules, loaded for real: ggml picks the best variant this processor
runs, a setting forces another, and every model load goes through it.

Each case runs in a child process: ggml's backend registry is per process, and this one's may
already hold the variant another test loaded."""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest
from hearth.runtime import cpu_variants

from tests.backend.runtime import cuda_standin
from tests.backend.runtime.backends_child import loaded_in_child


def lib_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    assert spec is not None and spec.origin
    return Path(spec.origin).parent / "lib"


@pytest.fixture(scope="module")
def dispatch_build() -> Path:
    folder = lib_dir()
    if not any(cpu_variants.module_variant(p.name) for p in folder.iterdir()):
        pytest.skip(f"{folder} holds no CPU variant modules (not a build/build-cpu-runtime build)")
    return folder


def scores(folder: Path) -> dict[str, int]:
    """Each variant module's own verdict on this processor, asked the way ggml asks it."""
    found = {}
    for path in sorted(folder.iterdir()):
        name = cpu_variants.module_variant(path.name)
        if name:
            score = ctypes.CDLL(str(path)).ggml_backend_score
            score.restype = ctypes.c_int
            found[name] = score()
    return found


def test_the_runtime_holds_every_variant_but_amx(dispatch_build):
    present = {cpu_variants.module_variant(p.name) for p in dispatch_build.iterdir()} - {None}
    assert present == {v.name for v in cpu_variants.VARIANTS} - {"sapphirerapids"}


def test_ggml_loads_the_best_variant_this_processor_runs(dispatch_build):
    got = loaded_in_child(None)
    by_score = scores(dispatch_build)
    best = max(by_score, key=lambda name: by_score[name])
    assert got["backends"] == ["CPU"]
    assert got["dispatched"] is True and got["error"] is None and got["forced"] is None
    assert got["cpu_variant"] == best, by_score
    assert got["cpu_label"] == cpu_variants.BY_NAME[best].title
    assert set(got["available"]) == set(by_score)


def test_forcing_the_oldest_variant_runs_the_model_on_it(dispatch_build, stories_path):
    auto = loaded_in_child(None, str(stories_path))
    oldest = loaded_in_child(cpu_variants.OLDEST, str(stories_path))
    assert oldest["cpu_variant"] == "x64" and oldest["forced"] == "x64"
    assert oldest["cpu_label"] == "x86-64 baseline (x64)"
    # stories260K is F32; its top token wins by 0.84 nats or more over these 8 tokens on every
    # variant measured (x64, sse42, haswell, zen4), so both give the same words.
    assert oldest["text"] == auto["text"]


def test_every_variant_this_processor_runs_is_named_as_it_is(dispatch_build):
    """Forcing each variant in turn proves the feature table matches the real modules."""
    runnable = {name for name, score in scores(dispatch_build).items() if score > 0}
    assert {"x64", "sse42"} <= runnable  # every x86-64 machine this project runs on has SSE4.2
    for name in sorted(runnable):
        got = loaded_in_child(name)
        assert got["cpu_variant"] == name and got["error"] is None, got


def test_a_variant_the_processor_cannot_run_falls_back_to_the_best(dispatch_build):
    by_score = scores(dispatch_build)
    unrunnable = [name for name, score in by_score.items() if score == 0]
    if not unrunnable:
        pytest.skip("this processor runs every variant; the qemu tests cover an older one")
    got = loaded_in_child(unrunnable[0])
    assert "does not run on this processor" in got["error"]
    assert got["cpu_variant"] == max(by_score, key=lambda name: by_score[name])


def test_an_unknown_variant_is_reported_and_ignored(dispatch_build):
    got = loaded_in_child("avx9")
    assert got["error"].startswith("HEARTH_CPU_VARIANT: unknown CPU variant 'avx9'")
    assert got["cpu_variant"] is not None and got["forced"] is None


def test_a_stand_in_llama_cpp_gets_a_report_not_an_exception(tmp_path):
    """The upgrade tests stage stand-in runtimes (a llama_cpp that crashes, or lacks things):
    loading backends must report, never raise, so the real failure is the one seen."""
    (tmp_path / "llama_cpp").mkdir()
    (tmp_path / "llama_cpp" / "__init__.py").write_text("__version__ = '0.0'\n")
    got = loaded_in_child(None, paths=[tmp_path])
    assert got["backends"] == [] and got["cpu_label"] is None
    assert "cannot load ggml backends" in got["error"]


@pytest.fixture
def runtime_with_a_cuda_module_that_needs_the_driver(dispatch_build, tmp_path):
    """This machine's CPU runtime plus a libggml-cuda.so that needs libcuda.so.1 and cannot find
    it, as a real CUDA runtime on a PC without the NVIDIA driver (see cuda_standin)."""
    try:
        return cuda_standin.runtime_folder(tmp_path / "runtime")
    except RuntimeError as exc:
        pytest.skip(str(exc))


def test_a_cuda_module_without_the_driver_says_which_library_is_missing(
    runtime_with_a_cuda_module_that_needs_the_driver,
):
    got = loaded_in_child(None, paths=[runtime_with_a_cuda_module_that_needs_the_driver])
    assert got["backends"] == ["CPU"] and got["cpu_variant"]  # the CPU code still runs
    assert got["gpu_problems"] == [
        "the NVIDIA driver's library libcuda.so.1 was not found, so the GPU cannot be used. "
        "Install or repair the NVIDIA driver, then try again"
    ]
