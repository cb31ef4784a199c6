"""Command line: serve, chat, models, detect, upgrade, runtime. Each command is a small
function over Settings."""

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
    if not settings.supervised and not settings.launcher_child:
        from hearth.runtime.launcher import serve_with_launcher

        # No Electron: a launcher runs the server as its child and respawns it (PROTOCOL.md).
        return serve_with_launcher(settings)
    from hearth import logs

    log_path = logs.configure(settings.logs_dir, settings.log_level)
    _boot_runtime(settings)
    if settings.launcher_child:
        from hearth.runtime.launcher import watch_launcher

        watch_launcher()
    if settings.network_guard:
        # Process-wide and for good (an audit hook), so here at process start, not per app.
        from hearth import netguard

        netguard.install(settings.logs_dir / "network-guard.jsonl")
    from hearth.server import Server, token_for

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
    if not settings.supervised:
        from hearth.session_codes import link

        # Web mode: a one-time code in the #fragment, which the page trades for the token.
        code = server.app.state.session_codes.issue()
        print(f"Open Hearth: {link(server.url, code)}", file=sys.stderr, flush=True)
    server.run()
    from hearth.runtime.switch import RESTART_EXIT_CODE

    return RESTART_EXIT_CODE if server.restart_requested else 0  # respawn me (PROTOCOL.md)


def _boot_runtime(settings: Settings, *, apply_rules: bool = True) -> None:
    """Choose the llama.cpp runtime before anything imports llama_cpp."""
    import os

    from hearth.runtime import bootstrap, ggml_backends

    if settings.cpu_variant:  # also from .env; the probe children inherit it
        os.environ[ggml_backends.ENV] = settings.cpu_variant
    bootstrap.boot(
        settings.data_dir,
        force_cpu=settings.force_cpu_runtime,
        previous_exit=settings.previous_exit,
        apply_rules=apply_rules,
    )


def cmd_chat(args: argparse.Namespace) -> int:
    from hearth.client.repl import run_repl

    settings = _settings()
    if not args.url:  # its in-process server runs on the active (confirmed) runtime
        _boot_runtime(settings, apply_rules=False)
    return run_repl(args, settings)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from hearth.client.upgrade import run_upgrade

    settings = _settings()
    if not args.url:  # the job runs here; its probes are child processes
        from hearth import logs

        logs.configure(settings.logs_dir, settings.log_level)
    return run_upgrade(args, settings)


def cmd_runtime(args: argparse.Namespace) -> int:
    from hearth.client.upgrade import run_runtime

    return run_runtime(args, _settings())


def cmd_probe_runtime(args: argparse.Namespace) -> int:
    from hearth.runtime.probe_child import run

    return run(args)


def cmd_models(args: argparse.Namespace) -> int:
    from hearth.client.models import run_models

    return run_models(args, _settings())


def cmd_docs(args: argparse.Namespace) -> int:
    from hearth.docs.cli import run_docs

    settings = _settings()
    if not args.url:  # as chat: its in-process server runs on the active runtime
        _boot_runtime(settings, apply_rules=False)
    return run_docs(args, settings)


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

    from hearth.docs.cli import add_parser as add_docs_parser

    add_docs_parser(sub).set_defaults(func=cmd_docs)

    from hearth.keys.cli import add_parsers as add_key_parsers

    add_key_parsers(sub)

    detect = sub.add_parser("detect", help="what this machine's hardware can do")
    detect.add_argument("--json", action="store_true", help="machine-readable output")
    detect.add_argument("--refresh", action="store_true", help="ignore the cached detection")
    detect.set_defaults(func=cmd_detect)

    upgrade = sub.add_parser("upgrade", help="install and switch to a faster (GPU) runtime")
    upgrade.add_argument("--variant", help="registry variant id; default: the recommended one")
    upgrade.add_argument("--from-pack", metavar="FILE", help="install from a runtime pack (zip)")
    upgrade.add_argument("--url", help="run it in a running Hearth (token in HEARTH_TOKEN)")
    upgrade.set_defaults(func=cmd_upgrade)

    runtime = sub.add_parser("runtime", help="list, use, roll back, remove or pack runtimes")
    rsub = runtime.add_subparsers(dest="action")
    rsub.add_parser("list", help="installed runtimes (default)")
    use = rsub.add_parser("use", help="switch to an installed runtime at the next start")
    use.add_argument("runtime")
    rsub.add_parser("rollback", help="back to the bundled CPU runtime at the next start")
    remove = rsub.add_parser("remove", help="delete an installed runtime's folder")
    remove.add_argument("runtime")
    pack = rsub.add_parser("pack", help="download a variant into a pack for offline installs")
    pack.add_argument("variant")
    pack.add_argument("-o", "--output", help="pack file (default: hearth-runtime-<variant>.zip)")
    pack.add_argument("--python", help="Python tag of the target machine, e.g. cp311")
    pack.add_argument("--platform", help="platform tag of the target machine, e.g. win_amd64")
    runtime.set_defaults(func=cmd_runtime, action="list")

    # The runtime probe's child process (hearth.runtime.probe); not for people.
    from hearth.runtime.probe_child import add_arguments

    probe = sub.add_parser("probe-runtime")
    add_arguments(probe)
    probe.set_defaults(func=cmd_probe_runtime)
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
