"""The runtime registry: the shipped file validates; a bad file names its bad field."""

from __future__ import annotations

import copy
import json

import pytest
from hearth.errors import ConfigError
from hearth.runtime.registry import RegistryError, load_registry, parse_registry

from tests.backend.hardware.test_resolver import registry_data


def test_shipped_registry_loads():
    registry = load_registry()
    ids = [v.id for v in registry.variants]
    assert ids == ["cpu-bundled", "cuda-12.4", "cuda-13.0"]
    cpu = registry.get("cpu-bundled")
    assert cpu is not None and cpu.bundled and cpu.kind == "cpu"
    for variant in registry.variants:
        assert variant.llama_cpp_python == "0.3.36"
    cu124 = registry.get("cuda-12.4")
    assert cu124 is not None
    assert cu124.min_driver == {"linux": "525.60.13", "windows": "527.41"}
    assert (cu124.cc_min, cu124.cc_max) == ("6.0", None)
    assert set(cu124.platforms) == {"linux_x86_64", "win_amd64"}
    assert set(cu124.pythons) == {"py3"}  # abetlen's CUDA wheels are py3-none
    build = cu124.build_for("cp311", "linux_x86_64")
    assert build is not None and build is cu124.build_for("cp312", "linux_x86_64")
    assert [a.role for a in build.artifacts] == ["llama-cpp-python", "cuda-runtime", "cublas"]
    wheel = build.artifacts[0]
    assert wheel.url == (
        "https://github.com/abetlen/llama-cpp-python/releases/download/v0.3.36-cu124/"
        "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl"
    )
    # The CUDA libraries, from PyPI, are pinned; the wheel waits for the releases API.
    assert not wheel.pinned and all(a.pinned for a in build.artifacts[1:])
    cu13 = registry.get("cuda-13.0")
    assert cu13 is not None and cu13.cc_min == "7.5" and cu13.min_driver["linux"] == "580"
    # A pin is all or nothing: both the hash and the size, or neither.
    for variant in registry.variants:
        for b in variant.builds:
            assert all((a.sha256 is None) == (a.size is None) for a in b.artifacts)


DELETE = object()


def _mutate(path: str, value):
    """A copy of a valid registry with one field replaced (value DELETE removes it)."""
    data = copy.deepcopy(registry_data())
    target = data
    keys = path.replace("]", "").replace("[", ".").split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    index = int(last) if last.isdigit() else last
    if value is DELETE:
        del target[index]
    else:
        target[index] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field", "problem"),
    [
        ("schema", 2, "schema", "expected 1"),
        ("variants", [], "variants", "non-empty list"),
        ("variants[1].id", "CUDA 12", "variants[1].id", "not a lowercase id"),
        ("variants[2].id", "cuda-12.4", "variants[2].id", "duplicate id"),
        ("variants[1].kind", "opencl", "variants[1].kind", "not one of"),
        ("variants[1].cuda", None, "variants[1].cuda", "needs its CUDA version"),
        ("variants[1].cuda", "twelve", "variants[1].cuda", "not a CUDA version"),
        ("variants[1].llama_cpp_python", DELETE, "variants[1].llama_cpp_python", "is missing"),
        ("variants[1].min_driver.linux", "new", "variants[1].min_driver.linux", "driver version"),
        ("variants[1].min_driver.beos", "1", "variants[1].min_driver.beos", "unknown OS"),
        (
            "variants[1].min_driver.windows",
            DELETE,
            "variants[1].min_driver.windows",
            "targets win_amd64",
        ),
        (
            "variants[1].compute_capability",
            None,
            "variants[1].compute_capability",
            "needs its range",
        ),
        (
            "variants[1].compute_capability.min",
            6,
            "variants[1].compute_capability.min",
            "non-empty string",
        ),
        ("variants[1].builds", [], "variants[1].builds", "non-empty list"),
        (
            "variants[1].builds[0].python",
            "3.11",
            "variants[1].builds[0].python",
            "Python tag like cp311",
        ),
        ("variants[1].builds[2].python", "cp311", "variants[1].builds[2]", "duplicate build"),
        (
            "variants[1].builds[0].artifacts",
            [],
            "variants[1].builds[0].artifacts",
            "needs a llama-cpp-python wheel",
        ),
        (
            "variants[1].builds[0].artifacts[0].role",
            "torch",
            "variants[1].builds[0].artifacts[0].role",
            "not one of",
        ),
        (
            "variants[1].builds[0].artifacts[0].sha256",
            "abc",
            "variants[1].builds[0].artifacts[0].sha256",
            "64 lowercase hex",
        ),
        (
            "variants[1].builds[0].artifacts[0].size",
            -5,
            "variants[1].builds[0].artifacts[0].size",
            "positive integer",
        ),
        (
            "variants[1].builds[0].artifacts[0].size",
            None,
            "variants[1].builds[0].artifacts[0].size",
            "set together",
        ),
        (
            "variants[1].builds[0].artifacts[0].url",
            "ftp://x/y.whl",
            "variants[1].builds[0].artifacts[0].url",
            "http(s) URL",
        ),
        (
            "variants[1].builds[0].artifacts[0].url",
            None,
            "variants[1].builds[0].artifacts[0].url",
            "give a url or an index",
        ),
        (
            "variants[1].builds[0].artifacts[1]",
            "a string",
            "variants[1].builds[0].artifacts[1]",
            "expected an object",
        ),
    ],
)
def test_bad_field_is_named(path, value, field, problem):
    with pytest.raises(RegistryError) as caught:
        parse_registry(_mutate(path, value), "runtime-registry.json")
    assert caught.value.field == field
    assert str(caught.value).startswith(f"runtime-registry.json: {field}: ")
    assert problem in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_unpinned_artifact_may_be_resolved_from_an_index():
    data = registry_data(pin_12=False)
    artifact = data["variants"][1]["builds"][0]["artifacts"][1]
    artifact["url"] = None
    artifact["index"] = "https://pypi.org/simple"
    parse_registry(data)
    artifact["sha256"], artifact["size"] = "ab" * 32, 10
    with pytest.raises(RegistryError, match="a pinned artifact needs its URL"):
        parse_registry(data)


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"{", "is not valid JSON"), (b"\xff\xfe", "cannot be read")],
)
def test_unreadable_file(tmp_path, content, problem):
    path = tmp_path / "runtime-registry.json"
    path.write_bytes(content)
    with pytest.raises(RegistryError, match=problem):
        load_registry(path)
    with pytest.raises(RegistryError, match="not found"):
        load_registry(tmp_path / "missing.json")


def test_round_trip_through_a_file(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(registry_data()))
    registry = load_registry(path)
    build = registry.get("cuda-13.0").build_for("cp312", "win_amd64")
    assert build is not None and build.pinned and build.download_bytes == 2 * 123_456
