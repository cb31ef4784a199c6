"""API keys and their audit log in SQLite (`<data dir>/keys.sqlite3`, beside the chats).

A key is shown once, when made; only its SHA-256 is kept. Keys are 32 random bytes, so a
plain hash is enough (a slow password hash guards guessable secrets, not random ones), and a
lookup by hash learns nothing about a key from timing. The audit log says which key called
which route, with what status and when: never what was asked or answered."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hearth.errors import BadRequest, NotFound
from hearth.keys.roles import ROLES, Role
from hearth.smalldb import SmallDb

PREFIX = "hk_"
FILENAME = "keys.sqlite3"
AUDIT_KEEP = 10_000  # rows; older ones go, so the log cannot fill the disk
MAX_NAME = 100

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS api_key (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('read', 'user', 'admin')),
        key_hash TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        requests_per_minute INTEGER,
        tokens_per_minute INTEGER,
        created_at REAL NOT NULL,
        last_used_at REAL,
        revoked_at REAL
    )""",
    """CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key_id INTEGER NOT NULL,
        method TEXT NOT NULL,
        route TEXT NOT NULL,
        status INTEGER NOT NULL,
        at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS ix_audit_key ON audit (key_id, id)",
)


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    role: Role
    hint: str  # the key's first and last characters, to tell keys apart in a list
    requests_per_minute: int | None
    tokens_per_minute: int | None
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_key(secret: str) -> bool:
    return secret.startswith(PREFIX)


class KeyStore:
    def __init__(self, path: Path, clock=time.time):
        self.path = Path(path)
        self._clock = clock
        self._small = SmallDb(self.path, _SCHEMA)
        self._lock = self._small.lock

    def _db(self) -> sqlite3.Connection:
        return self._small.db()

    def close(self) -> None:
        self._small.close()

    def create(
        self,
        name: str,
        role: Role,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret, which is never shown again."""
        if role not in ROLES:
            raise BadRequest(f"A key's role is one of {', '.join(ROLES)}.", code="bad_role")
        secret = PREFIX + secrets.token_urlsafe(32)
        hint = f"{secret[:7]}…{secret[-4:]}"
        with self._lock:
            cur = self._db().execute(
                "INSERT INTO api_key (name, role, key_hash, hint, requests_per_minute,"
                " tokens_per_minute, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    role,
                    hash_key(secret),
                    hint,
                    requests_per_minute,
                    tokens_per_minute,
                    self._clock(),
                ),
            )
            key_id = int(cur.lastrowid or 0)
        return self.get(key_id), secret

    def all(self) -> list[ApiKey]:
        with self._lock:
            rows = self._db().execute(f"SELECT {_COLUMNS} FROM api_key ORDER BY id").fetchall()
        return [_key(row) for row in rows]

    def get(self, key_id: int) -> ApiKey:
        with self._lock:
            row = (
                self._db()
                .execute(f"SELECT {_COLUMNS} FROM api_key WHERE id = ?", (key_id,))
                .fetchone()
            )
        if row is None:
            raise NotFound(f"No API key {key_id}", code="key_not_found")
        return _key(row)

    def update_limits(
        self, key_id: int, requests_per_minute: int | None, tokens_per_minute: int | None
    ) -> ApiKey:
        self.get(key_id)
        with self._lock:
            self._db().execute(
                "UPDATE api_key SET requests_per_minute = ?, tokens_per_minute = ? WHERE id = ?",
                (requests_per_minute, tokens_per_minute, key_id),
            )
        return self.get(key_id)

    def revoke(self, key_id: int) -> ApiKey:
        key = self.get(key_id)
        if key.revoked_at is None:
            with self._lock:
                self._db().execute(
                    "UPDATE api_key SET revoked_at = ? WHERE id = ?", (self._clock(), key_id)
                )
        return self.get(key_id)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or None (unknown, or revoked)."""
        key = self.find(secret)
        return None if key is None or key.revoked_at is not None else key

    def find(self, secret: str) -> ApiKey | None:
        """The key with this secret, revoked or not (a revoked one's use is still audited)."""
        digest = hash_key(secret)
        with self._lock:
            row = (
                self._db()
                .execute(f"SELECT {_COLUMNS}, key_hash FROM api_key WHERE key_hash = ?", (digest,))
                .fetchone()
            )
        # The lookup found it by hash; compare once more in constant time all the same.
        if row is None or not hmac.compare_digest(row[-1], digest):
            return None
        return _key(row[:-1])

    def record(self, key_id: int, method: str, route: str, status: int) -> None:
        """One audit row, and the key's last use; the oldest rows beyond AUDIT_KEEP go."""
        now = self._clock()
        with self._lock:
            db = self._db()
            db.execute("BEGIN")
            try:
                cur = db.execute(
                    "INSERT INTO audit (key_id, method, route, status, at) VALUES (?, ?, ?, ?, ?)",
                    (key_id, method, route, status, now),
                )
                db.execute("UPDATE api_key SET last_used_at = ? WHERE id = ?", (now, key_id))
                if (cur.lastrowid or 0) % 100 == 0:  # now and then, not on every call
                    db.execute(
                        "DELETE FROM audit WHERE id <= ?", ((cur.lastrowid or 0) - AUDIT_KEEP,)
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def audit(self, limit: int = 100, key_id: int | None = None) -> list[dict[str, Any]]:
        where, args = ("WHERE key_id = ?", (key_id,)) if key_id is not None else ("", ())
        with self._lock:
            rows = (
                self._db()
                .execute(
                    f"SELECT id, key_id, method, route, status, at FROM audit {where}"
                    " ORDER BY id DESC LIMIT ?",
                    (*args, limit),
                )
                .fetchall()
            )
        names = ("id", "key_id", "method", "route", "status", "at")
        return [dict(zip(names, row, strict=True)) for row in rows]


_COLUMNS = (
    "id, name, role, hint, requests_per_minute, tokens_per_minute, created_at, last_used_at,"
    " revoked_at"
)


def _key(row: tuple) -> ApiKey:
    return ApiKey(*row)
