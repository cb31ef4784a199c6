"""The runtime registry: which llama-cpp-python builds exist, what hardware each needs, and the
pinned artifacts that install one. Shipped as data/runtime-registry.json; validated on load with
errors that name the field, e.g. `variants[1].builds[0].artifacts[2].sha256`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hearth.errors import ConfigError

REGISTRY_FILE = "runtime-registry.json"
SCHEMA = 1
# cpu and cuda are used today; the others are accepted so a registry can list them early.
KINDS = ("cpu", "cuda", "vulkan", "metal", "rocm")
ROLES = ("llama-cpp-python", "cuda-runtime", "cublas")
OSES = ("linux", "windows", "macos")

_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
_VERSION = re.compile(r"^\d+(\.\d+)*$")
_CC = re.compile(r"^\d+\.\d+$")
# py3: one build for every CPython 3 (abetlen's CUDA wheels are py3-none, built with
# wheel.py-api="py3", and so are Hearth's own).
ANY_PYTHON = "py3"
_PYTHON = re.compile(r"^((cp|pp)\d{2,3}|py3)$")
_PLATFORM = re.compile(r"^[a-z0-9_]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_URL = re.compile(r"^https?://\S+$")
# An artifact URL may start with this: Hearth's own builds (its CUDA runtime) are downloaded from
# a release base URL that an organisation can point at its mirror (HEARTH_RUNTIME_RELEASE_URL).
RELEASE = "{release}"
DEFAULT_RELEASE_URL = "https://github.com/hearth-desktop/hearth/releases/download"


class RegistryError(ConfigError):
    """The registry file is malformed; `field` names the offending field."""

    code = "runtime_registry_invalid"

    def __init__(self, source: str, field: str, problem: str):
        super().__init__(f"{source}: {field}: {problem}")
        self.field = field


@dataclass(frozen=True)
class Artifact:
    role: str  # llama-cpp-python | cuda-runtime | cublas
    project: str  # the distribution name, e.g. nvidia-cuda-runtime-cu12
    version: str
    filename: str | None
    url: str | None
    index: str | None  # a PEP 503 simple index the release script resolves the URL from
    size: int | None
    sha256: str | None

    @property
    def pinned(self) -> bool:
        """Only a pinned artifact may be offered: its bytes are fixed by hash and size."""
        return self.url is not None and self.sha256 is not None and self.size is not None


@dataclass(frozen=True)
class Build:
    python: str  # cp311
    platform: str  # linux_x86_64 | win_amd64 | macosx_arm64
    artifacts: tuple[Artifact, ...]

    @property
    def pinned(self) -> bool:
        return bool(self.artifacts) and all(a.pinned for a in self.artifacts)

    @property
    def download_bytes(self) -> int | None:
        if not self.pinned:
            return None
        return sum(a.size or 0 for a in self.artifacts)


@dataclass(frozen=True)
class Variant:
    id: str
    kind: str
    description: str
    llama_cpp_python: str
    cuda: str | None  # "12.4"
    min_driver: dict[str, str]  # os -> lowest driver version
    cc_min: str | None
    cc_max: str | None
    bundled: bool
    builds: tuple[Build, ...]
    # The probe's bar: tokens/s of this build over the bundled CPU build must exceed it.
    # 1.0 = must be faster; 0 = any working build (a test registry's no-GPU success case).
    min_speedup: float = 1.0

    def build_for(self, python: str, platform: str) -> Build | None:
        """The build for this interpreter (cp311) and platform: its own, else a py3 one."""
        exact = any_python = None
        for build in self.builds:
            if build.platform != platform:
                continue
            if build.python == python:
                exact = build
            elif build.python == ANY_PYTHON and python.startswith(("cp3", "pp3")):
                any_python = build
        return exact or any_python

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b.platform for b in self.builds))

    @property
    def pythons(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b.python for b in self.builds))


@dataclass(frozen=True)
class Registry:
    schema: int
    variants: tuple[Variant, ...]
    source: str

    def get(self, variant_id: str) -> Variant | None:
        return next((v for v in self.variants if v.id == variant_id), None)


def default_registry_path() -> Path:
    from hearth.paths import data_file

    return data_file(REGISTRY_FILE)


def load_registry(path: Path | None = None, release_url: str | None = None) -> Registry:
    """Read and validate the registry; RegistryError names the bad field. `{release}` in an
    artifact URL becomes `release_url` (default DEFAULT_RELEASE_URL)."""
    path = Path(path) if path is not None else default_registry_path()
    source = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegistryError(source, "(file)", f"not found at {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(source, "(file)", f"cannot be read: {exc}") from exc
    except ValueError as exc:
        raise RegistryError(source, "(file)", f"is not valid JSON: {exc}") from exc
    return parse_registry(data, source, release_url)


class _Checker:
    def __init__(self, source: str, release_url: str = DEFAULT_RELEASE_URL):
        self.source = source
        self.release_url = release_url.rstrip("/")

    def fail(self, field: str, problem: str) -> RegistryError:
        return RegistryError(self.source, field, problem)

    def obj(self, value: Any, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, f"expected an object, got {_kind(value)}")
        return value

    def get(self, data: dict[str, Any], key: str, field: str, *, required: bool = True) -> Any:
        if key not in data:
            if required:
                raise self.fail(f"{field}.{key}" if field else key, "is missing")
            return None
        return data[key]

    def text(
        self, value: Any, field: str, pattern: re.Pattern[str] | None = None, what: str = ""
    ) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(field, f"expected a non-empty string, got {_kind(value)}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(field, f"{value!r} is not {what or 'valid'}")
        return value

    def maybe_text(
        self, value: Any, field: str, pattern: re.Pattern[str] | None = None, what: str = ""
    ) -> str | None:
        return None if value is None else self.text(value, field, pattern, what)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def parse_registry(
    data: Any, source: str = REGISTRY_FILE, release_url: str | None = None
) -> Registry:
    """Validate already-decoded JSON (the release script validates before it writes)."""
    check = _Checker(source, release_url or DEFAULT_RELEASE_URL)
    top = check.obj(data, "(top level)")
    schema = check.get(top, "schema", "")
    if schema != SCHEMA:
        raise check.fail("schema", f"expected {SCHEMA}, got {schema!r}")
    raw_variants = check.get(top, "variants", "")
    if not isinstance(raw_variants, list) or not raw_variants:
        raise check.fail("variants", "expected a non-empty list")
    variants: list[Variant] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_variants):
        variant = _variant(check, raw, f"variants[{i}]")
        if variant.id in seen:
            raise check.fail(f"variants[{i}].id", f"duplicate id {variant.id!r}")
        seen.add(variant.id)
        variants.append(variant)
    return Registry(schema=SCHEMA, variants=tuple(variants), source=source)


def _variant(check: _Checker, raw: Any, field: str) -> Variant:
    data = check.obj(raw, field)
    vid = check.text(check.get(data, "id", field), f"{field}.id", _ID, what="a lowercase id")
    kind = check.text(check.get(data, "kind", field), f"{field}.kind")
    if kind not in KINDS:
        raise check.fail(f"{field}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    description = check.get(data, "description", field, required=False) or ""
    if not isinstance(description, str):
        raise check.fail(f"{field}.description", "expected a string")
    llama = check.text(
        check.get(data, "llama_cpp_python", field),
        f"{field}.llama_cpp_python",
        _VERSION,
        what="a version",
    )
    cuda = check.maybe_text(
        check.get(data, "cuda", field), f"{field}.cuda", _CC, what="a CUDA version like 12.4"
    )
    if kind == "cuda" and cuda is None:
        raise check.fail(f"{field}.cuda", "a cuda variant needs its CUDA version")
    bundled = check.get(data, "bundled", field, required=False) or False
    min_speedup = check.get(data, "min_speedup", field, required=False)
    if min_speedup is None:
        min_speedup = 1.0
    if isinstance(min_speedup, bool) or not isinstance(min_speedup, int | float) or min_speedup < 0:
        raise check.fail(f"{field}.min_speedup", f"expected a number >= 0, got {min_speedup!r}")
    if not isinstance(bundled, bool):
        raise check.fail(f"{field}.bundled", f"expected a boolean, got {_kind(bundled)}")

    min_driver_raw = check.obj(check.get(data, "min_driver", field), f"{field}.min_driver")
    min_driver: dict[str, str] = {}
    for os_name, version in min_driver_raw.items():
        key = f"{field}.min_driver.{os_name}"
        if os_name not in OSES:
            raise check.fail(key, f"unknown OS {os_name!r} (use {', '.join(OSES)})")
        min_driver[os_name] = check.text(version, key, _VERSION, what="a driver version")

    cc_min = cc_max = None
    cc_raw = check.get(data, "compute_capability", field)
    if cc_raw is not None:
        cc = check.obj(cc_raw, f"{field}.compute_capability")
        cc_min = check.maybe_text(
            check.get(cc, "min", f"{field}.compute_capability"),
            f"{field}.compute_capability.min",
            _CC,
            what="a compute capability like 7.5",
        )
        cc_max = check.maybe_text(
            check.get(cc, "max", f"{field}.compute_capability", required=False),
            f"{field}.compute_capability.max",
            _CC,
            what="a compute capability like 8.9",
        )
    elif kind == "cuda":
        raise check.fail(f"{field}.compute_capability", "a cuda variant needs its range")

    raw_builds = check.get(data, "builds", field)
    if not isinstance(raw_builds, list) or not raw_builds:
        raise check.fail(f"{field}.builds", "expected a non-empty list")
    builds: list[Build] = []
    for j, raw_build in enumerate(raw_builds):
        build = _build(check, raw_build, f"{field}.builds[{j}]", bundled=bundled)
        if any(b.python == build.python and b.platform == build.platform for b in builds):
            raise check.fail(
                f"{field}.builds[{j}]", f"duplicate build {build.python}/{build.platform}"
            )
        builds.append(build)

    if kind != "cpu":
        for j, build in enumerate(builds):
            os_name = _os_of_platform(build.platform)
            if os_name not in min_driver:
                raise check.fail(
                    f"{field}.min_driver.{os_name}",
                    f"missing, but builds[{j}] targets {build.platform}",
                )
    return Variant(
        id=vid,
        kind=kind,
        description=description,
        llama_cpp_python=llama,
        cuda=cuda,
        min_driver=min_driver,
        cc_min=cc_min,
        cc_max=cc_max,
        bundled=bundled,
        min_speedup=float(min_speedup),
        builds=tuple(builds),
    )


def _build(check: _Checker, raw: Any, field: str, *, bundled: bool) -> Build:
    data = check.obj(raw, field)
    python = check.text(
        check.get(data, "python", field),
        f"{field}.python",
        _PYTHON,
        what="a Python tag like cp311 (or py3)",
    )
    platform = check.text(
        check.get(data, "platform", field),
        f"{field}.platform",
        _PLATFORM,
        what="a wheel platform like linux_x86_64",
    )
    raw_artifacts = check.get(data, "artifacts", field)
    if not isinstance(raw_artifacts, list):
        raise check.fail(f"{field}.artifacts", f"expected a list, got {_kind(raw_artifacts)}")
    artifacts = tuple(
        _artifact(check, a, f"{field}.artifacts[{k}]") for k, a in enumerate(raw_artifacts)
    )
    if not bundled and not any(a.role == "llama-cpp-python" for a in artifacts):
        raise check.fail(f"{field}.artifacts", "needs a llama-cpp-python wheel")
    return Build(python=python, platform=platform, artifacts=artifacts)


def _artifact(check: _Checker, raw: Any, field: str) -> Artifact:
    data = check.obj(raw, field)
    role = check.text(check.get(data, "role", field), f"{field}.role")
    if role not in ROLES:
        raise check.fail(f"{field}.role", f"{role!r} is not one of {', '.join(ROLES)}")
    project = check.text(check.get(data, "project", field), f"{field}.project")
    version = check.text(check.get(data, "version", field), f"{field}.version")
    filename = check.maybe_text(
        check.get(data, "filename", field, required=False), f"{field}.filename"
    )
    raw_url = check.get(data, "url", field)
    if isinstance(raw_url, str) and raw_url.startswith(RELEASE + "/"):
        raw_url = check.release_url + raw_url[len(RELEASE) :]
    url = check.maybe_text(raw_url, f"{field}.url", _URL, what="an http(s) URL")
    index = check.maybe_text(
        check.get(data, "index", field, required=False),
        f"{field}.index",
        _URL,
        what="an http(s) URL",
    )
    if url is None and index is None:
        raise check.fail(f"{field}.url", "missing: give a url or an index to resolve it from")
    size = check.get(data, "size", field)
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
        raise check.fail(f"{field}.size", f"expected a positive integer or null, got {size!r}")
    sha256 = check.maybe_text(
        check.get(data, "sha256", field),
        f"{field}.sha256",
        _SHA256,
        what="64 lowercase hex characters",
    )
    if (size is None) != (sha256 is None):
        missing = "size" if size is None else "sha256"
        raise check.fail(f"{field}.{missing}", "must be set together with the other pin")
    if sha256 is not None and url is None:
        raise check.fail(f"{field}.url", "a pinned artifact needs its URL")
    return Artifact(
        role=role,
        project=project,
        version=version,
        filename=filename,
        url=url,
        index=index,
        size=size,
        sha256=sha256,
    )


def _os_of_platform(platform: str) -> str:
    if platform.startswith("win"):
        return "windows"
    if platform.startswith("macosx"):
        return "macos"
    return "linux"
