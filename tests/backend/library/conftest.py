"""Fixtures for the model library: GGUF files built byte by byte, and a real HTTP file server."""

from __future__ import annotations

import re
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the code under test uses asyncio directly


# -- GGUF files built by hand -------------------------------------------------------------

# ggml type -> (elements per block, bytes per block), for the few types these tests build
_BUILD_TYPES = {0: (1, 4), 1: (1, 2), 3: (32, 20), 8: (32, 34)}


def _str(s: str) -> bytes:
    data = s.encode()
    return struct.pack("<Q", len(data)) + data


def _value(v: Any) -> bytes:
    if isinstance(v, bool):
        return struct.pack("<I?", 7, v)
    if isinstance(v, int):
        return struct.pack("<II", 4, v)
    if isinstance(v, float):
        return struct.pack("<If", 6, v)
    if isinstance(v, str):
        return struct.pack("<I", 8) + _str(v)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return struct.pack("<IIQ", 9, 8, len(v)) + b"".join(_str(x) for x in v)
    if isinstance(v, list):
        return struct.pack("<IIQ", 9, 5, len(v)) + struct.pack(f"<{len(v)}i", *v)
    raise TypeError(v)


def build_gguf(
    kv: dict[str, Any] | None = None,
    tensors: list[tuple[str, list[int], int]] | None = None,
    *,
    version: int = 3,
    alignment: int = 32,
) -> bytes:
    """A GGUF file: metadata `kv`, tensors as (name, dims, ggml type) with zeroed data."""
    kv = dict(kv or {})
    tensors = tensors or []
    out = bytearray(b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kv)))
    for key, value in kv.items():
        out += _str(key) + _value(value)
    offset, sizes = 0, []
    for name, dims, ggml_type in tensors:
        block, type_size = _BUILD_TYPES[ggml_type]
        elements = 1
        for d in dims:
            elements *= d
        nbytes = elements // block * type_size
        out += _str(name) + struct.pack(f"<I{len(dims)}QIQ", len(dims), *dims, ggml_type, offset)
        sizes.append(nbytes)
        offset += nbytes + (-nbytes) % alignment
    if tensors:
        out += b"\0" * ((-len(out)) % alignment)
        for nbytes in sizes:
            out += b"\0" * (nbytes + (-nbytes) % alignment)
    return bytes(out)


TINY_CHAT_KV: dict[str, Any] = {
    "general.architecture": "llama",
    "general.name": "Tiny Chat",
    "llama.context_length": 256,
    "llama.embedding_length": 8,
    "llama.block_count": 2,
    "llama.attention.head_count": 2,
    "tokenizer.ggml.tokens": ["<s>", "</s>", "a", "b"],
    "tokenizer.chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}",
}
TINY_TENSORS = [
    ("token_embd.weight", [8, 4], 0),
    ("blk.0.attn_q.weight", [8, 8], 0),
    ("blk.1.attn_q.weight", [8, 8], 0),
    ("output_norm.weight", [8], 0),
]


@pytest.fixture
def make_gguf() -> Callable[..., bytes]:
    """The byte-by-byte GGUF builder (see `build_gguf`)."""
    return build_gguf


@pytest.fixture
def tiny_chat_bytes() -> bytes:
    """A valid little chat GGUF (2 blocks, F32, a chat template): 1 KB."""
    return build_gguf(TINY_CHAT_KV, TINY_TENSORS)


@pytest.fixture
def tiny_chat(tmp_path: Path, tiny_chat_bytes: bytes) -> Path:
    path = tmp_path / "src" / "tiny-chat.gguf"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(tiny_chat_bytes)
    return path


# -- a real HTTP server on 127.0.0.1 ------------------------------------------------------


@dataclass
class Route:
    """What the server does for one path."""

    data: bytes = b""
    status: int = 200
    # Answer the first `fail_times` requests with `fail_status` (a flaky server).
    fail_times: int = 0
    fail_status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    redirect_to: str | None = None
    ignore_range: bool = False
    # Close the connection after this many body bytes, for the next `drops` requests.
    drop_after: int | None = None
    drops: int = 1
    # Stop after sending the file up to this offset until `gate` is set.
    gate_at: int | None = None
    gate: threading.Event = field(default_factory=threading.Event)
    chunk: int = 16 * 1024


class FileServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.heads: list[str] = []  # paths asked with HEAD
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def add(self, path: str, **route: Any) -> Route:
        self.routes[path] = Route(**route)
        return self.routes[path]

    def ranges(self, path: str) -> list[str | None]:
        return [r for p, r in self.requests if p == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        for route in self.routes.values():
            route.gate.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            """Headers only (catalogue sizes): a redirect or the file's length."""
            server.heads.append(self.path)
            route = server.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            if self._redirected(route):
                return
            self.send_response(route.status)
            self._finish_headers(route, len(route.data) if route.status == 200 else 0)

        def do_GET(self) -> None:
            server.requests.append((self.path, self.headers.get("Range")))
            route = server.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            if route.fail_times > 0:
                route.fail_times -= 1
                self.send_response(route.fail_status)
                self._finish_headers(route, 0)
                return
            if self._redirected(route):
                return
            if route.status != 200:
                self.send_response(route.status)
                self._finish_headers(route, 0)
                return
            data, start = route.data, 0
            wanted = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            if wanted and not route.ignore_range:
                start = int(wanted.group(1))
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self._finish_headers(route, 0)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self._finish_headers(route, len(data) - start)
            self._send_body(route, data, start)

        def _redirected(self, route: Route) -> bool:
            if route.redirect_to is None:
                return False
            self.send_response(302)
            self.send_header("Location", route.redirect_to)
            self._finish_headers(route, 0)
            return True

        def _finish_headers(self, route: Route, length: int) -> None:
            self.send_header("Content-Length", str(length))
            for key, value in route.headers.items():
                self.send_header(key, value)
            self.end_headers()

        def _send_body(self, route: Route, data: bytes, start: int) -> None:
            end = len(data)
            if route.drop_after is not None and route.drops > 0:
                route.drops -= 1
                end = min(end, start + route.drop_after)
            pos = start
            while pos < end:
                if route.gate_at is not None and pos >= route.gate_at and not route.gate.is_set():
                    self.wfile.flush()
                    route.gate.wait(timeout=10)
                stop = min(end, pos + route.chunk)
                if route.gate_at is not None and pos < route.gate_at:
                    stop = min(stop, route.gate_at)
                self.wfile.write(data[pos:stop])
                pos = stop
            self.wfile.flush()
            # Returning closes the socket (HTTP/1.0): short of Content-Length, that is a drop.

    return Handler


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    server = FileServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
