"""Runtime upgrade test helpers: real wheels, fake wheels, a wheel index on 127.0.0.1, registries.

The real wheel is this environment's llama-cpp-python (the wheel build/build-cpu-runtime built,
or the installed distribution repacked from its RECORD): a genuine runtime that needs no GPU. Fake
wheels are small zips whose `llama_cpp/__init__.py` misbehaves on purpose (fails to import, crashes,
hangs). A plain module: the tests' fixtures (conftest.py), the UI's upgrade fixtures, the bench
and build/prove-gpu all use it.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import re
import sys
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hearth.hardware.host import probe_host

LLAMA_VERSION = "0.3.36"


@dataclass(frozen=True)
class Wheel:
    path: Path
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return self.path.name


def wheel_of(path: Path) -> Wheel:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Wheel(path, digest, path.stat().st_size)


# -- wheels -------------------------------------------------------------------------------


def built_wheel() -> Path | None:
    """The wheel build/build-cpu-runtime built and `make setup` installed here: the runtime that
    ships, so the upgrade stages exactly what the installer bundles."""
    record = Path(sys.prefix) / "hearth-cpu-runtime.json"
    try:
        facts = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    path = Path(facts.get("path", ""))
    if path.is_file() and path.name.startswith(f"llama_cpp_python-{LLAMA_VERSION}-"):
        return path
    return None


def repack_installed(folder: Path) -> Path:
    """The installed distribution, zipped back into a wheel from its RECORD."""
    dist = importlib.metadata.distribution("llama_cpp_python")
    base = Path(str(dist.locate_file("")))
    tag = (dist.read_text("WHEEL") or "").split("Tag:")[-1].split()[0]
    wheel = folder / f"llama_cpp_python-{dist.version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in dist.files or []:
            name = str(file)
            if name.startswith("..") or name.endswith((".pyc", "INSTALLER", "REQUESTED")):
                continue
            zf.write(base / name, name)
    return wheel


def make_wheel(folder: Path, name: str, init_source: str, **files: str) -> Wheel:
    """A small wheel of a `llama_cpp` package whose __init__ is `init_source`."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"llama_cpp_python-{LLAMA_VERSION}.dist-info"
    members = {
        "llama_cpp/__init__.py": init_source,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: llama_cpp_python\n"
        f"Version: {LLAMA_VERSION}\nSummary: {name}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        **files,
    }
    record = []
    for member, text in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{member},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    members[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    path = folder / name / f"llama_cpp_python-{LLAMA_VERSION}-py3-none-any.whl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, text in members.items():
            zf.writestr(member, text)
    return wheel_of(path)


IMPORT_FAILS = 'raise ImportError("libcudart.so.12: cannot open shared object file")\n'
CRASHES = "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"
HANGS = "import time\ntime.sleep(3600)\n"


def breaks_in_server(failure: str) -> str:
    """The real llama_cpp, except inside the server (uvicorn loaded), where importing it runs
    `failure`: such a runtime passes the probe, then fails after the respawn."""
    real = Path(importlib.metadata.distribution("llama_cpp_python").locate_file("llama_cpp"))
    return (
        "import os, signal, sys, time\n"
        "if 'uvicorn' in sys.modules:\n"
        f"    {failure}\n"
        f"__path__ = [{str(real)!r}]\n"
        f"_init = {str(real / '__init__.py')!r}\n"
        "exec(compile(open(_init).read(), _init, 'exec'))\n"
    )


def crashes_in_server() -> str:
    return breaks_in_server("os.kill(os.getpid(), signal.SIGSEGV)")


def hangs_in_server() -> str:
    return breaks_in_server("time.sleep(3600)")


# -- the wheel index ----------------------------------------------------------------------


@dataclass
class WheelIndex:
    """A PEP 503-style index of real files on 127.0.0.1, with Range support and faults."""

    root: Path
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)
    drop_after: dict[str, int] = field(default_factory=dict)  # file -> bytes, once
    # file -> an event its response waits for (up to a minute) before sending the body: a test
    # can watch a download start however fast the loopback is.
    gates: dict[str, threading.Event] = field(default_factory=dict)
    _httpd: ThreadingHTTPServer | None = None

    def add(self, wheel: Wheel, name: str | None = None) -> str:
        """Publish a wheel (under `name`); returns its URL."""
        name = name or wheel.filename
        target = self.root / "files" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.link(wheel.path, target)  # the 24 MB wheel: no copy where a link will do
            except OSError:
                target.write_bytes(wheel.path.read_bytes())
        return self.url(f"/files/{name}")

    def url(self, path: str) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def start(self) -> WheelIndex:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def ranges(self, name: str) -> list[str | None]:
        return [r for p, r in self.requests if p == f"/files/{name}"]


def _handler(index: WheelIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            index.requests.append((self.path, self.headers.get("Range")))
            if self.path.startswith("/simple/"):
                return self._listing()
            name = self.path.removeprefix("/files/")
            path = index.root / "files" / name
            # Folders below files/ are served (two wheels may share a name), nothing above it.
            if ".." in name.split("/") or name.startswith("/") or not path.is_file():
                self.send_error(404)
                return
            size = path.stat().st_size
            start = 0
            wanted = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            if wanted:
                start = int(wanted.group(1))
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(size - start))
            self.end_headers()
            gate = index.gates.get(name)
            if gate is not None:
                gate.wait(60)
            end = size
            if name in index.drop_after:
                end = min(size, start + index.drop_after.pop(name))
            with path.open("rb") as fh:
                fh.seek(start)
                left = end - start
                while left > 0:
                    chunk = fh.read(min(256 * 1024, left))
                    self.wfile.write(chunk)
                    left -= len(chunk)
            # Returning closes the socket (HTTP/1.0): short of Content-Length, that is a drop.

        def _listing(self) -> None:
            links = "".join(
                f'<a href="/files/{p.name}">{p.name}</a><br>\n'
                for p in sorted((index.root / "files").glob("*.whl"))
            )
            body = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


# -- registries ---------------------------------------------------------------------------


def host_tags() -> tuple[str, str]:
    host = probe_host()
    return host.python_tag, host.platform_tag


def variant(
    vid: str,
    kind: str,
    artifacts: list[tuple[str, Wheel | None, str]],
    *,
    min_speedup: float | None = None,
) -> dict[str, Any]:
    """A registry variant with one build for this host; artifacts are (role, wheel, url)."""
    python, platform = host_tags()
    data: dict[str, Any] = {
        "id": vid,
        "kind": kind,
        "description": f"test variant {vid}",
        "llama_cpp_python": LLAMA_VERSION,
        "cuda": "12.4" if kind == "cuda" else None,
        "min_driver": {"linux": "525.60.13", "windows": "527.41"} if kind == "cuda" else {},
        "compute_capability": {"min": "6.0", "max": None} if kind == "cuda" else None,
        "bundled": False,
        "builds": [
            {
                "python": python,
                "platform": platform,
                "artifacts": [
                    {
                        "role": role,
                        "project": "llama-cpp-python" if role == "llama-cpp-python" else role,
                        "version": LLAMA_VERSION,
                        "filename": url.rsplit("/", 1)[-1],
                        "url": url,
                        "size": wheel.size if wheel else 1,
                        "sha256": wheel.sha256 if wheel else "0" * 64,
                    }
                    for role, wheel, url in artifacts
                ],
            }
        ],
    }
    if min_speedup is not None:
        data["min_speedup"] = min_speedup
    return data


def write_registry(path: Path, *variants: dict[str, Any]) -> Path:
    bundled = {
        "id": "cpu-bundled",
        "kind": "cpu",
        "llama_cpp_python": LLAMA_VERSION,
        "cuda": None,
        "min_driver": {},
        "compute_capability": None,
        "bundled": True,
        "builds": [{"python": host_tags()[0], "platform": host_tags()[1], "artifacts": []}],
    }
    path.write_text(json.dumps({"schema": 1, "variants": [bundled, *variants]}, indent=2))
    return path
