"""`hearth keys ...` and `hearth api-server ...`: API keys and the local API server from a
terminal. They work on the data folder's files directly, so they need no running Hearth: a key
made here works at once on a running one; an API server change applies when Hearth next starts
(Settings applies it at once)."""

from __future__ import annotations

import argparse
import datetime as dt

from hearth.keys.roles import ROLES
from hearth.keys.store import FILENAME, KeyStore
from hearth.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="API keys for programs that use the local API server")
    ksub = keys.add_subparsers(dest="action")
    ksub.add_parser("list", help="keys, their role, limits and last use (default)")
    new = ksub.add_parser("create", help="make a key; its secret is printed once")
    new.add_argument("--name", required=True)
    new.add_argument("--role", choices=ROLES, default="user")
    new.add_argument("--requests-per-minute", type=int)
    new.add_argument("--tokens-per-minute", type=int)
    revoke = ksub.add_parser("revoke", help="refuse a key from now on")
    revoke.add_argument("key_id", type=int)
    keys.set_defaults(func=run_keys, action="list")

    server = sub.add_parser("api-server", help="the local API server on a fixed port")
    ssub = server.add_subparsers(dest="action")
    ssub.add_parser("status", help="on or off, port, address (default)")
    on = ssub.add_parser("on", help="serve Hearth's API on a fixed port")
    on.add_argument("--port", type=int, default=None)
    on.add_argument("--lan", action="store_true", help="serve the local network too")
    on.add_argument("--yes", action="store_true", help="confirm serving the local network")
    ssub.add_parser("off", help="stop serving the fixed port")
    server.set_defaults(func=run_api_server, action="status")


def _when(at: float | None) -> str:
    return "never" if at is None else dt.datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")


def run_keys(args: argparse.Namespace) -> int:
    settings = Settings.load()
    store = KeyStore(settings.data_dir / FILENAME)
    try:
        if args.action == "create":
            key, secret = store.create(
                args.name, args.role, args.requests_per_minute, args.tokens_per_minute
            )
            print(f"Key {key.id} ({key.role}) made. Its secret, shown only now:\n\n  {secret}\n")
            return 0
        if args.action == "revoke":
            key = store.revoke(args.key_id)
            print(f"Key {key.id} ({key.name}) is revoked.")
            return 0
        keys = store.all()
        if not keys:
            print("No API keys. Make one: hearth keys create --name NAME --role user")
        for k in keys:
            limits = f"{k.requests_per_minute or '-'} req/min, {k.tokens_per_minute or '-'} tok/min"
            state = (
                f"revoked {_when(k.revoked_at)}"
                if k.revoked_at
                else f"used {_when(k.last_used_at)}"
            )
            print(f"{k.id:>4}  {k.name:24} {k.role:6} {k.hint:16} {limits:28} {state}")
        return 0
    finally:
        store.close()


def run_api_server(args: argparse.Namespace) -> int:
    # Here, not at the top: building the CLI's parser must not import uvicorn (the runtime
    # probe, a `hearth` command too, must run without the server's modules).
    from hearth import api_server

    settings = Settings.load()
    path = settings.data_dir / api_server.FILENAME
    config = api_server.load(path)
    if args.action == "on":
        if args.lan and not args.yes:
            print(
                "Serving the local network lets every computer on it use Hearth's models, "
                "conversations and documents with an API key. Add --yes to confirm."
            )
            return 2
        port = args.port if args.port is not None else config.port
        config = api_server.ApiServerConfig(enabled=True, port=port, lan=args.lan)
        api_server.save(path, config)
    elif args.action == "off":
        config = config.model_copy(update={"enabled": False})
        api_server.save(path, config)
    where = "the local network" if config.lan else "this computer only"
    if config.enabled:
        print(f"Local API server: on, http://127.0.0.1:{config.port}/v1 ({where}).")
    else:
        print("Local API server: off.")
    if args.action in ("on", "off"):
        print("A running Hearth applies this when it next starts; Settings applies it at once.")
    return 0
