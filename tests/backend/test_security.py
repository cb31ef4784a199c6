"""The security baseline: pure decisions table-tested, then every refusal against a real server."""

import httpx
import pytest
from hearth.security import host_allowed, origin_allowed, token_allowed


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1:8765", True),
        ("localhost:8765", True),
        ("LOCALHOST:8765", True),
        ("127.0.0.1:8766", False),
        ("127.0.0.1", False),
        ("evil.example:8765", False),
        ("attacker.com", False),
        ("192.168.1.2:8765", False),
        ("0.0.0.0:8765", False),
        (None, False),
        ("", False),
    ],
)
def test_host(host, ok):
    assert host_allowed(host, 8765) is ok


@pytest.mark.parametrize(
    ("origin", "extra", "ok"),
    [
        (None, [], True),
        ("http://127.0.0.1:8765", [], True),
        ("http://localhost:8765", [], True),
        ("http://localhost:8765/", [], True),
        ("https://127.0.0.1:8765", [], False),
        ("http://localhost:9999", [], False),
        ("https://evil.example", [], False),
        ("null", [], False),
        ("http://localhost:5173", ["http://localhost:5173"], True),
        ("http://localhost:5174", ["http://localhost:5173"], False),
    ],
)
def test_origin(origin, extra, ok):
    assert origin_allowed(origin, 8765, extra) is ok


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer sekrit-token-123456", True),
        ("bearer sekrit-token-123456", True),
        ("Bearer wrong", False),
        ("sekrit-token-123456", False),
        ("Basic c2Vrcml0", False),
        (None, False),
        ("Bearer ", False),
    ],
)
def test_token(header, ok):
    assert token_allowed(header, "sekrit-token-123456") is ok


@pytest.fixture
def bare_server(tmp_path):
    from tests.backend.server_process import HearthProcess

    server = HearthProcess(tmp_path / "data", HEARTH_MAX_BODY_BYTES="4096").start()
    yield server
    server.stop()


def test_refusals_against_a_real_server(bare_server):
    url, good = bare_server.url, bare_server.headers
    port = bare_server.port
    # /health is the one open route.
    assert httpx.get(f"{url}/health").status_code == 200
    # Every /api and /v1 route wants the token.
    for path in ("/api/conversations", "/api/models", "/v1/models", "/api/status"):
        r = httpx.get(url + path)
        assert r.status_code == 401, path
        assert r.json()["code" if path.startswith("/api") else "error"]
        assert httpx.get(url + path, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert httpx.get(url + path, headers=good).status_code == 200, path
    # /v1 errors use OpenAI's shape.
    err = httpx.get(f"{url}/v1/models").json()["error"]
    assert err["code"] == "unauthorized" and err["message"]
    # DNS rebinding: a foreign Host is refused even with the token, /health included.
    for path in ("/health", "/api/conversations"):
        r = httpx.get(url + path, headers={**good, "Host": f"evil.example:{port}"})
        assert r.status_code == 403
        assert r.json()["code"] == "bad_host"
    assert httpx.get(url + "/health", headers={"Host": f"localhost:{port}"}).status_code == 200
    # A foreign Origin is refused; our own is fine; no wildcard CORS anywhere.
    r = httpx.get(f"{url}/api/conversations", headers={**good, "Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["code"] == "bad_origin"
    r = httpx.get(f"{url}/api/conversations", headers={**good, "Origin": url})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
    pre = httpx.options(
        f"{url}/api/conversations",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 403
    # Body size limit, declared and streamed.
    big = b"x" * 10_000
    r = httpx.post(f"{url}/api/conversations", headers=good, content=big)
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"

    def chunks():
        for _ in range(10):
            yield b"y" * 1000

    r = httpx.post(f"{url}/api/conversations", headers=good, content=chunks())
    assert r.status_code == 413


def test_listens_on_loopback_only(bare_server):
    import psutil

    # `serve` is a launcher over the server process (docs/PROTOCOL.md): check the whole tree.
    launcher = psutil.Process(bare_server.proc.pid)
    conns = [
        c
        for p in (launcher, *launcher.children(recursive=True))
        for c in p.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN
    ]
    assert conns and all(c.laddr.ip == "127.0.0.1" for c in conns)
