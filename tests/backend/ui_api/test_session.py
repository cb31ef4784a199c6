"""Web mode's sign-in: one-time codes (pure), the token check's one exception, and the exchange
against a real server started the way a person starts it."""

from __future__ import annotations

import httpx
import pytest
from hearth.security import needs_token
from hearth.session_codes import MAX_CODES, SessionCodes, link

from tests.backend.server_process import HearthProcess


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_code_works_once():
    codes = SessionCodes()
    code = codes.issue()
    assert len(code) >= 32
    assert codes.redeem(code) is True
    assert codes.redeem(code) is False
    assert codes.redeem("") is False
    assert codes.redeem("not-a-code") is False
    # compare_digest refuses str outside ASCII; a held-out probe once got a 500 for this.
    assert codes.redeem("é") is False
    assert codes.redeem("\udc80") is False  # a lone surrogate, as JSON may carry


def test_a_code_expires():
    clock = Clock()
    codes = SessionCodes(ttl_s=60, clock=clock)
    early, late = codes.issue(), codes.issue()
    clock.now += 59
    assert codes.redeem(early) is True
    clock.now += 1
    assert codes.redeem(late) is False


def test_only_the_newest_codes_live():
    codes = SessionCodes()
    issued = [codes.issue() for _ in range(MAX_CODES + 2)]
    assert codes.redeem(issued[0]) is False
    assert codes.redeem(issued[-1]) is True


def test_the_link_keeps_the_code_in_the_fragment():
    assert link("http://127.0.0.1:8765/", "abc") == "http://127.0.0.1:8765/#/auth/abc"


@pytest.mark.parametrize(
    ("path", "method", "needed"),
    [
        ("/api/session", "POST", False),
        ("/api/session", "GET", True),
        ("/api/session/x", "POST", True),
        ("/api/sessions", "POST", True),
        ("/api/conversations", "POST", True),
        ("/health", "GET", False),
        ("/", "GET", False),
        ("/v1/models", "GET", True),
    ],
)
def test_needs_token_allows_exactly_the_exchange(path, method, needed):
    assert needs_token(path, method) is needed


@pytest.fixture
def web_server(tmp_path):
    server = HearthProcess(tmp_path / "data").start()
    yield server
    server.stop()


def _printed_code(server: HearthProcess) -> str:
    lines = [ln for ln in server.stderr_path.read_text().splitlines() if "Open Hearth:" in ln]
    assert lines, server.stderr_path.read_text()
    url = lines[-1].split("Open Hearth:", 1)[1].strip()
    assert url.startswith(f"{server.url}/#/auth/")
    return url.rsplit("/", 1)[1]


@pytest.mark.slow
def test_the_printed_link_trades_once_for_the_token(web_server):
    code = _printed_code(web_server)
    url = web_server.url
    # A foreign page cannot even try.
    r = httpx.post(
        f"{url}/api/session", json={"code": code}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403
    r = httpx.post(f"{url}/api/session", json={"code": code}, headers={"Origin": url})
    assert r.status_code == 200 and r.json() == {"token": web_server.token}
    again = httpx.post(f"{url}/api/session", json={"code": code})
    assert again.status_code == 401 and again.json()["code"] == "bad_session_code"
    assert httpx.post(f"{url}/api/session", json={}).status_code == 422
    odd = httpx.post(f"{url}/api/session", json={"code": "é"})
    assert (odd.status_code, odd.json()["code"]) == (422, "invalid_request")
    # The exemption is the exchange only.
    assert httpx.get(f"{url}/api/session").status_code == 401
    log = (web_server.data_dir / "logs" / "hearth.log").read_text()
    assert code not in log and web_server.token not in log


@pytest.mark.slow
def test_no_link_when_the_shell_supervises(tmp_path):
    server = HearthProcess(tmp_path / "data", HEARTH_SUPERVISED="1").start()
    try:
        assert "Open Hearth:" not in server.stderr_path.read_text()
    finally:
        server.stop()
