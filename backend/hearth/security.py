"""The security baseline as one ASGI middleware: Host, Origin, token and body size.

Pure ASGI rather than BaseHTTPMiddleware so streamed answers pass through untouched and fast.
The decisions are small pure functions, tested table-style.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROTECTED_PREFIXES = ("/api/", "/v1/")
# Routes that take model files, runtime packs or documents: sized by the disk, not by memory.
UPLOAD_PATHS = (
    "/api/models/upload",
    "/api/admin/upgrade-gpu/pack",
    "/api/documents/upload",
    "/api/documents/attach",
)
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
# The peer address the server saw (never a header); "testclient" is what Starlette's TestClient
# reports for requests that never crossed a socket.
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1", "testclient", "")
# Web mode trades a one-time code for the token here (hearth.api.session): the only exception.
SESSION_PATH = "/api/session"
# The request's API key (hearth.keys.store.ApiKey), in `scope["state"]`: absent for the app's token.
API_KEY_STATE = "hearth_api_key"


def host_allowed(host: str | None, port: int) -> bool:
    """Only loopback names with our own port; anything else may be DNS rebinding."""
    if not host:
        return False
    return host.lower() in {f"{name}:{port}" for name in LOOPBACK_NAMES}


def origin_allowed(origin: str | None, port: int, extra: Iterable[str] = ()) -> bool:
    """No Origin (curl, the openai client, same-origin GETs) is fine; a foreign one is not."""
    if origin is None:
        return True
    origin = origin.rstrip("/").lower()
    own = {f"http://{name}:{port}" for name in LOOPBACK_NAMES}
    return origin in own or origin in {o.lower() for o in extra}


def _lan_host(headers: dict[str, str], config: SecurityConfig, port: int) -> bool:
    host = headers.get("host") or ""
    return host.lower() in {f"{name}:{port}" for name in config.lan_hosts()}


def bearer(authorization: str | None) -> str:
    """The credential in `Authorization: Bearer …`, or ""."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return ""
    return authorization[7:].strip()


def token_allowed(authorization: str | None, token: str) -> bool:
    if not authorization or not authorization.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(authorization[7:].strip().encode(), token.encode())


def needs_token(path: str, method: str = "GET") -> bool:
    if path == SESSION_PATH and method == "POST":
        return False
    return path.startswith(PROTECTED_PREFIXES) or path in ("/api", "/v1")


@dataclass
class SecurityConfig:
    token: str
    max_body_bytes: int
    extra_origins: list[str] = field(default_factory=list)
    # Tests and the CLI run the app on a port only known once bound; uvicorn reports it per request.
    port_override: Callable[[], int | None] = lambda: None
    # API keys for other programs (hearth.keys.gate.KeyGate); None: the per-launch token only.
    keys: Any = None
    # The local API server's port when it serves the local network (hearth.api_server), and
    # this machine's own addresses, which LAN clients send as Host.
    lan_port: Callable[[], int | None] = lambda: None
    lan_hosts: Callable[[], Iterable[str]] = lambda: ()
    # Routes whose bodies may be larger than max_body_bytes, each with its own bound (a batch's
    # input file).
    path_limits: dict[str, int] = field(default_factory=dict)


def body_limit(path: str, config: SecurityConfig) -> int | None:
    """The largest body `path` takes; None for the uploads the disk bounds. Pure."""
    if path in UPLOAD_PATHS:
        return None
    return config.path_limits.get(path, config.max_body_bytes)


def error_body(path: str, status: int, code: str, message: str) -> bytes:
    """One JSON error shape for /api, OpenAI's shape for /v1."""
    if path.startswith("/v1"):
        kind = "invalid_request_error" if status < 500 else "server_error"
        payload: dict = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    else:
        payload = {"code": code, "message": message}
    return json.dumps(payload).encode()


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, config: SecurityConfig):
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path: str = scope["path"]
        port = self.config.port_override() or (scope.get("server") or ("", 0))[1]

        lan = port == self.config.lan_port()
        own_host = host_allowed(headers.get("host"), port)
        if not (own_host or (lan and _lan_host(headers, self.config, port))):
            await self._refuse(send, path, 403, "bad_host", "Host header is not this app.")
            return
        client = (scope.get("client") or ("", 0))[0]
        remote = client not in LOOPBACK_ADDRESSES
        if remote and not lan:
            await self._refuse(send, path, 403, "not_local", "Only this computer may connect.")
            return
        origin = headers.get("origin")
        if not origin_allowed(origin, port, self.config.extra_origins):
            await self._refuse(send, path, 403, "bad_origin", f"Origin {origin} is not allowed.")
            return
        cors = self._cors_headers(origin, port)
        if scope["method"] == "OPTIONS" and origin and "access-control-request-method" in headers:
            await self._respond(send, 204, b"", cors)
            return
        # From another computer only an API key will do: the per-launch token is the UI's.
        authorized = not remote and token_allowed(headers.get("authorization"), self.config.token)
        key = None
        if not authorized and self.config.keys is not None:
            key = self.config.keys.identify(bearer(headers.get("authorization")))
            if key is not None and key.revoked_at is not None:
                await self._refuse(
                    send, path, 401, "key_revoked", "This API key was revoked.", cors
                )
                await self.config.keys.record(key, scope["method"], path, 401)
                return
        if needs_token(path, scope["method"]) and not (authorized or key):
            await self._refuse(
                send, path, 401, "unauthorized", "Missing or wrong bearer token or API key.", cors
            )
            return
        if key is not None and self.config.keys is not None:
            gate = self.config.keys
            refusal = gate.refusal(key, scope["method"], path)
            if refusal is not None:
                status, code, message, retry_after = refusal
                extra = (
                    [*cors, (b"retry-after", str(retry_after).encode())] if retry_after else cors
                )
                await self._refuse(send, path, status, code, message, extra)
                await gate.record(key, scope["method"], path, status)
                return
            send = gate.watch(key, scope["method"], path, send)

        limit = body_limit(path, self.config)
        declared = headers.get("content-length")
        if limit is not None and declared and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, path, 413, "body_too_large", _too_large(limit), cors)
            return

        send_with_cors = _add_headers(send, cors) if cors else send
        if limit is not None and not declared:
            # A chunked body: read it (bounded) before the app sees it, so an oversized one is a
            # clean 413 rather than a parse error from deep inside the framework.
            body, ok = await _read_bounded(receive, limit)
            if not ok:
                await self._refuse(send, path, 413, "body_too_large", _too_large(limit), cors)
                return
            receive = _replay(body, receive)
        elif limit is not None:
            receive = _limited(receive, limit)
        if key is None or self.config.keys is None:
            await self.app(scope, receive, send_with_cors)
            return
        scope.setdefault("state", {})[API_KEY_STATE] = key  # whose files and batches (api.deps)
        async with self.config.keys.charging(key):
            await self.app(scope, receive, send_with_cors)

    def _cors_headers(self, origin: str | None, port: int) -> list[tuple[bytes, bytes]]:
        # Same-origin requests need no CORS; only the explicitly allowed extra origins get it.
        if not origin or origin.rstrip("/").lower() not in {
            o.lower() for o in self.config.extra_origins
        }:
            return []
        return [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-headers", b"authorization, content-type"),
            (b"access-control-allow-methods", b"GET, POST, PATCH, PUT, DELETE, OPTIONS"),
            (b"vary", b"origin"),
        ]

    async def _refuse(self, send, path, status, code, message, extra=()) -> None:
        await self._respond(send, status, error_body(path, status, code, message), list(extra))

    @staticmethod
    async def _respond(send: Send, status: int, body: bytes, extra: list) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers + extra})
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> str:
    return f"Request body is larger than {limit} bytes."


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(_too_large(limit))
        return message

    return wrapped


async def _read_bounded(receive: Receive, limit: int) -> tuple[bytes, bool]:
    parts, seen = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", True
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return b"", False
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts), True


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def wrapped() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # later: http.disconnect

    return wrapped


def _add_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped
