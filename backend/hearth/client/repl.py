"""`python -m hearth chat`: stream answers in the terminal, through the same HTTP API as the UI."""

from __future__ import annotations

import argparse
import sys

import httpx

from hearth.client.connect import connect
from hearth.client.sse import events
from hearth.settings import Settings

HELP = "Commands: /new starts a conversation, /quit leaves. Ctrl-C stops an answer."


def _new_conversation(client: httpx.Client, args: argparse.Namespace) -> str:
    body = {"system_prompt": args.system, "model": args.model}
    response = client.post("/api/conversations", json={k: v for k, v in body.items() if v})
    _check(response)
    return response.json()["id"]


def _check(response: httpx.Response) -> None:
    if response.status_code >= 400:
        response.read()
        try:
            message = response.json().get("message", response.text)
        except ValueError:
            message = response.text
        raise SystemExit(f"hearth: {message}")


def _ask(client: httpx.Client, conversation: str, text: str, args: argparse.Namespace) -> None:
    body = {
        "content": text,
        "model": args.model,
        "params": {"temperature": args.temperature, "max_tokens": args.max_tokens},
    }
    out = sys.stdout
    try:
        with client.stream("POST", f"/api/conversations/{conversation}/messages", json=body) as r:
            _check(r)
            for name, data in events(r):
                if name == "queued":
                    print(f"(waiting, position {data['position']})", file=sys.stderr)
                elif name == "delta":
                    out.write(data["content"])
                    out.flush()
                elif name == "error":
                    print(f"\n[error] {data['message']}", file=sys.stderr)
                elif name == "done":
                    m = data["message"]
                    stats = f"{m['completion_tokens']} tokens"
                    if m.get("tokens_per_s"):
                        stats += f", {m['tokens_per_s']:.1f} tok/s"
                    if m.get("ttft_ms") is not None:
                        stats += f", first token {m['ttft_ms']:.0f} ms"
                    if m["finish_reason"] != "stop":
                        stats += f", {m['finish_reason']}"
                    print(f"\n[{stats}]", file=sys.stderr)
    except KeyboardInterrupt:
        client.post(f"/api/conversations/{conversation}/stop")
        print("\n[stopped]", file=sys.stderr)


def run_repl(args: argparse.Namespace, settings: Settings) -> int:
    client, server = connect(args.url, settings, "chat")
    try:
        conversation = args.conversation or _new_conversation(client, args)
        if args.message:
            _ask(client, conversation, args.message, args)
            return 0
        print(f"Hearth chat (conversation {conversation}). {HELP}", file=sys.stderr)
        while True:
            try:
                text = input("you> ").strip()
            except (EOFError, KeyboardInterrupt):
                print(file=sys.stderr)
                return 0
            if text in ("/quit", "/exit"):
                return 0
            if text == "/new":
                conversation = _new_conversation(client, args)
                print(f"(new conversation {conversation})", file=sys.stderr)
                continue
            if text:
                _ask(client, conversation, text, args)
    finally:
        client.close()
        if server is not None:
            server.stop()
