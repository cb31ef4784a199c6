"""The offline guard: what it calls loopback, and proof that it really refuses the rest.

The guard is an audit hook and cannot be removed, so it is proven in a child process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from hearth.netguard import is_loopback, verdict

from tests.backend.server_process import REPO


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        (None, True),
        (b"127.0.0.1", True),
        ("10.0.0.1", False),
        ("192.168.1.20", False),
        ("0.0.0.0", False),
        ("example.com", False),
        ("localhost.evil.com", False),
        ("chroma-onnx-models.s3.amazonaws.com", False),
        (12345, False),
    ],
)
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("event", "args", "refused"),
    [
        ("socket.connect", (None, ("127.0.0.1", 80)), None),
        ("socket.connect", (None, ("10.1.2.3", 443)), "10.1.2.3"),
        ("socket.connect", (None, ("2001:db8::1", 443, 0, 0)), "2001:db8::1"),
        ("socket.connect", (None, "/run/some.sock"), None),
        ("socket.sendto", (None, ("8.8.8.8", 53)), "8.8.8.8"),
        ("socket.getaddrinfo", ("huggingface.co", 443, 0, 1, 0), "huggingface.co"),
        ("socket.getaddrinfo", ("localhost", 443, 0, 1, 0), None),
        ("socket.gethostbyname", ("example.org",), "example.org"),
        ("socket.bind", (None, ("127.0.0.1", 0)), None),
        ("open", ("/etc/hosts", "r", 0), None),
    ],
)
def test_verdict(event, args, refused):
    assert verdict(event, args) == refused


def test_the_guard_refuses_and_records_non_loopback_access(tmp_path):
    log = tmp_path / "guard.jsonl"
    script = textwrap.dedent(
        f"""
        import json, socket, sys
        from pathlib import Path
        from hearth import netguard

        netguard.install(Path({str(log)!r}))
        results = {{}}
        server = socket.create_server(("127.0.0.1", 0))
        try:
            socket.create_connection(server.getsockname(), timeout=5).close()
            results["loopback"] = "ok"
        except OSError as exc:
            results["loopback"] = repr(exc)
        for name, call in [
            ("connect", lambda: socket.socket().connect(("10.255.255.1", 9))),
            ("dns", lambda: socket.getaddrinfo("example.com", 443)),
            ("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
                b"x", ("192.0.2.1", 53))),
        ]:
            try:
                call()
                results[name] = "not refused"
            except netguard.NetworkRefused as exc:
                results[name] = "refused: " + str(exc)
            except OSError as exc:
                results[name] = "other error: " + repr(exc)
        print(json.dumps(results))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO / "backend"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["loopback"] == "ok"
    assert results["connect"].startswith("refused: network access to 10.255.255.1")
    assert results["dns"].startswith("refused: network access to example.com")
    assert results["udp"].startswith("refused: network access to 192.0.2.1")
    recorded = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["event"], r["host"]) for r in recorded] == [
        ("socket.connect", "10.255.255.1"),
        ("socket.getaddrinfo", "example.com"),
        ("socket.sendto", "192.0.2.1"),
    ]
