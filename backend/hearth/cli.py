"""Command line: serve, chat, models, detect. Each command is a small function over Settings."""

from __future__ import annotations

import argparse
import logging
import sys

from hearth.errors import ConfigError, HearthError
from hearth.settings import Settings


def _settings() -> Settings:
    return Settings.load()


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings()  # a bad value stops here, before any heavy import
    from hearth import logs
    from hearth.server import Server, token_for

    log_path = logs.configure(settings.logs_dir, settings.log_level)
    token, generated = token_for(settings)
    server = Server(settings, token, announce=True)
    if generated:
        # Once, for the person at the terminal; the shell passes its own token instead.
        print(f"Hearth token for this launch: {token}", file=sys.stderr, flush=True)
    print(
        f"Hearth {server.url}  (API docs: {server.url}/docs, logs: {log_path})",
        file=sys.stderr,
        flush=True,
    )
    server.run()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from hearth.client.repl import run_repl

    return run_repl(args, _settings())


def cmd_models(args: argparse.Namespace) -> int:
    from hearth.client.models import run_models

    return run_models(args, _settings())


def cmd_detect(args: argparse.Namespace) -> int:
    from hearth.hardware.report import detect_command

    settings = _settings()
    return detect_command(
        as_json=args.json,
        data_dir=settings.data_dir,
        timeout=settings.gpu_detection_timeout,
        use_cache=settings.gpu_detection_cache and not args.refresh,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearth", description="Private, offline chat.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="run the backend on 127.0.0.1").set_defaults(func=cmd_serve)

    chat = sub.add_parser("chat", help="chat in the terminal, streaming answers")
    chat.add_argument(
        "--url", help="a running Hearth (e.g. http://127.0.0.1:8765); default: start one"
    )
    chat.add_argument("--model", help="model file name")
    chat.add_argument("--conversation", help="continue this conversation id")
    chat.add_argument("--system", help="system prompt for a new conversation")
    chat.add_argument("--temperature", type=float, default=0.7)
    chat.add_argument("--max-tokens", type=int, default=512)
    chat.add_argument("-m", "--message", help="send one message, print the answer, exit")
    chat.set_defaults(func=cmd_chat)

    models = sub.add_parser("models", help="list, import, download or delete models")
    msub = models.add_subparsers(dest="action")
    msub.add_parser("list", help="installed models (default)")
    imp = msub.add_parser("import", help="copy a GGUF file into the models folder")
    imp.add_argument("path")
    rm = msub.add_parser("delete", help="delete an installed model")
    rm.add_argument("model")
    msub.add_parser("catalogue", help="models that can be downloaded")
    dl = msub.add_parser("download", help="download a catalogue model, with progress")
    dl.add_argument("catalogue_id")
    msub.add_parser("provision-starter", help="install the starter chat model if none is there")
    models.set_defaults(func=cmd_models, action="list")

    detect = sub.add_parser("detect", help="what this machine's hardware can do")
    detect.add_argument("--json", action="store_true", help="machine-readable output")
    detect.add_argument("--refresh", action="store_true", help="ignore the cached detection")
    detect.set_defaults(func=cmd_detect)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"hearth: {exc.message}", file=sys.stderr)
        return 2
    except HearthError as exc:
        print(f"hearth: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig()
    raise SystemExit(main())
