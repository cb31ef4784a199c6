"""Roles, limits and the key store, without a server: table-style and with a fake clock."""

from __future__ import annotations

import sqlite3

import pytest
from hearth.app import create_app
from hearth.keys.limits import RateLimiter
from hearth.keys.roles import ROLES, ROUTE_ROLES, RouteRoles, allows
from hearth.keys.store import KeyStore
from hearth.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_every_route_declares_its_role_in_the_one_table(tmp_path):
    app = create_app(Settings.load(None, HEARTH_DATA_DIR=str(tmp_path)), "token")
    served = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert served == set(ROUTE_ROLES)


@pytest.mark.parametrize(
    ("role", "needed", "ok"),
    [
        ("read", "read", True),
        ("read", "user", False),
        ("read", "admin", False),
        ("user", "read", True),
        ("user", "user", True),
        ("user", "admin", False),
        ("admin", "admin", True),
        ("read", None, True),
    ],
)
def test_roles_rank(role, needed, ok):
    assert allows(role, needed) is ok


def test_a_concrete_path_finds_its_own_route_before_a_template():
    roles = RouteRoles()
    assert roles.match("GET", "/api/models/catalogue") == ("/api/models/catalogue", "read")
    assert roles.match("DELETE", "/api/models/x.gguf") == ("/api/models/{model_id}", "admin")
    assert roles.needed("GET", "/api/nothing/here") == "admin"  # unknown: never opened


def test_requests_per_minute_slide():
    clock = Clock()
    limits = RateLimiter(clock)
    assert [limits.admit(1, 2, None) for _ in range(2)] == [None, None]
    assert limits.admit(1, 2, None) == 60  # the oldest of the two ages out in a minute
    assert limits.admit(2, 2, None) is None  # another key has its own window
    clock.now += 30
    assert limits.admit(1, 2, None) == 30
    clock.now += 30
    assert limits.admit(1, 2, None) is None


def test_tokens_per_minute_count_what_was_generated():
    clock = Clock()
    limits = RateLimiter(clock)
    assert limits.admit(1, None, 100) is None
    limits.spend(1, 60)
    clock.now += 10
    limits.spend(1, 50)
    assert limits.admit(1, None, 100) == 50  # under 100 again once the first 60 age out
    clock.now += 50
    assert limits.admit(1, None, 100) is None


def test_keys_are_kept_hashed_shown_once_and_revocable(tmp_path):
    clock = Clock()
    store = KeyStore(tmp_path / "keys.sqlite3", clock=clock)
    key, secret = store.create("editor", "user", requests_per_minute=10)
    assert secret.startswith("hk_") and len(secret) > 40
    assert store.authenticate(secret) == key
    assert store.authenticate(secret + "x") is None
    store.record(key.id, "POST", "/v1/chat/completions", 200)
    clock.now += 5
    assert store.get(key.id).last_used_at == 1000.0
    assert store.audit()[0] | {"id": 0} == {
        "id": 0,
        "key_id": key.id,
        "method": "POST",
        "route": "/v1/chat/completions",
        "status": 200,
        "at": 1000.0,
    }
    assert store.revoke(key.id).revoked_at == 1005.0
    assert store.authenticate(secret) is None
    store.close()
    raw = (tmp_path / "keys.sqlite3").read_bytes()
    assert secret.encode() not in raw  # only its hash is on disk
    rows = sqlite3.connect(tmp_path / "keys.sqlite3").execute("SELECT role FROM api_key").fetchall()
    assert rows == [("user",)] and ROLES == ("read", "user", "admin")
