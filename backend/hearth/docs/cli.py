"""`python -m hearth docs ...`: libraries from the terminal, with ingest progress.

Talks to the HTTP API: of a running Hearth with --url (token in HEARTH_TOKEN; use this while the
app is open, since two processes must not write one vector store), else of a server started in
this process for the command.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parser is built on every start, even `serve`: keep it light
    import httpx

    from hearth.settings import Settings


def add_parser(sub) -> argparse.ArgumentParser:
    docs = sub.add_parser("docs", help="document libraries: add files, search, ask")
    docs.add_argument("--url", help="a running Hearth (token in HEARTH_TOKEN); default: start one")
    dsub = docs.add_subparsers(dest="action")
    dsub.add_parser("list", help="libraries and their state (default)")
    create = dsub.add_parser("create", help="create a library")
    create.add_argument("name")
    add = dsub.add_parser("add", help="add files or folders to a library, with progress")
    add.add_argument("library", help="library name or id")
    add.add_argument("paths", nargs="*", help="files or folders; none: re-check the library")
    reindex = dsub.add_parser("reindex", help="rebuild a library with the current embedding model")
    reindex.add_argument("library")
    files = dsub.add_parser("files", help="a library's documents, with the reason of bad ones")
    files.add_argument("library")
    search = dsub.add_parser("search", help="the passages nearest a query")
    search.add_argument("library")
    search.add_argument("query")
    search.add_argument("-k", "--top-k", type=int, default=None)
    ask = dsub.add_parser("ask", help="ask a question about a library; cites its sources")
    ask.add_argument("library")
    ask.add_argument("question")
    ask.add_argument("--model", help="chat model file name")
    ask.add_argument("--max-tokens", type=int, default=512)
    delete = dsub.add_parser("delete", help="delete a library (your files stay)")
    delete.add_argument("library")
    docs.set_defaults(action="list")
    return docs


def run_docs(args: argparse.Namespace, settings: Settings) -> int:
    from hearth.client.connect import connect  # httpx: only for the commands that talk HTTP

    client, server = connect(args.url, settings, "docs")
    try:
        return int(ACTIONS[args.action](client, args) or 0)
    finally:
        client.close()
        if server is not None:
            server.stop()


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        response.read()
        try:
            body = response.json()
            message = f"{body.get('message', response.text)} ({body.get('code')})"
        except ValueError:
            message = response.text
        raise SystemExit(f"hearth: {message}")
    return response.json() if response.content else None


def _library(client: httpx.Client, key: str) -> dict[str, Any]:
    libraries = _ok(client.get("/api/libraries"))
    for library in libraries:
        if key in (library["id"], library["name"]) or key.lower() == library["name"].lower():
            return library
    raise SystemExit(f"hearth: no library named {key!r} (see `hearth docs list`)")


def _list(client: httpx.Client, args: argparse.Namespace) -> int:
    libraries = _ok(client.get("/api/libraries"))
    if not libraries:
        print("No libraries yet: hearth docs create NAME")
    for lib in libraries:
        print(
            f"{lib['name']:30} {lib['state']:18} {lib['indexed']:>5} files "
            f"{lib['chunks']:>7} chunks {lib['failed']:>4} failed  {lib['id']}"
        )
        if lib["state_message"]:
            print(f"    {lib['state_message']}")
    return 0


def _create(client: httpx.Client, args: argparse.Namespace) -> int:
    lib = _ok(client.post("/api/libraries", json={"name": args.name}))
    print(f"created {lib['name']} ({lib['id']})")
    return 0


def _follow(client: httpx.Client, library_id: str, job: dict[str, Any]) -> int:
    from hearth.client.progress import show
    from hearth.client.sse import events

    started = time.monotonic()
    final: dict[str, Any] = job
    url = f"/api/libraries/{library_id}/jobs/{job['id']}/events"
    with client.stream("GET", url) as response:
        for name, data in events(response):
            if name == "progress":
                current = Path(data["current"]).name if data.get("current") else ""
                show(
                    f"{data['files_done']}/{data['files_total']} files, {data['pages_done']} "
                    f"pages, {data['embedded']} chunks embedded  {current}"[:120]
                )
            elif name == "done":
                final = data
    elapsed = time.monotonic() - started
    summary = ", ".join(f"{n} {k}" for k, n in final["summary"].items() if n)
    show(f"{final['status']} in {elapsed:.1f} s: {summary or 'nothing to do'}", end=True)
    for result in final.get("results", []):
        if result["status"] in ("failed", "skipped"):
            print(f"  {result['status']}: {result['path']}: {result['reason']}")
    if final.get("error"):
        print(f"hearth: {final['error']['message']} ({final['error']['code']})", file=sys.stderr)
    return 0 if final["status"] == "done" else 1


def _add(client: httpx.Client, args: argparse.Namespace) -> int:
    lib = _library(client, args.library)
    paths = [str(Path(p).expanduser().resolve()) for p in args.paths]
    job = _ok(client.post(f"/api/libraries/{lib['id']}/ingest", json={"paths": paths}))
    return _follow(client, lib["id"], job)


def _reindex(client: httpx.Client, args: argparse.Namespace) -> int:
    lib = _library(client, args.library)
    return _follow(client, lib["id"], _ok(client.post(f"/api/libraries/{lib['id']}/reindex")))


def _files(client: httpx.Client, args: argparse.Namespace) -> int:
    lib = _library(client, args.library)
    for doc in _ok(client.get(f"/api/libraries/{lib['id']}/documents")):
        detail = f"{doc['chunks']} chunks" if doc["status"] == "indexed" else doc["reason"] or ""
        print(f"{doc['status']:8} {doc['path']}  {detail}")
    return 0


def _where(hit: dict[str, Any]) -> str:
    if hit.get("page") is not None:
        return f"{hit['file']}, page {hit['page']}"
    return f"{hit['file']}" + (f" ({hit['heading']})" if hit.get("heading") else "")


def _search(client: httpx.Client, args: argparse.Namespace) -> int:
    lib = _library(client, args.library)
    body = {"query": args.query, "top_k": args.top_k}
    found = _ok(client.post(f"/api/libraries/{lib['id']}/search", json=body))
    for i, hit in enumerate(found["results"], 1):
        text = " ".join(hit["text"].split())
        print(f"[{i}] {_where(hit)}  score {hit['score']:.3f}\n    {text[:300]}")
    if not found["results"]:
        print("No passage is close enough to the query.")
    return 0


def _ask(client: httpx.Client, args: argparse.Namespace) -> int:
    from hearth.client.sse import events

    lib = _library(client, args.library)
    body = {
        "query": args.question,
        "model": args.model,
        "params": {"max_tokens": args.max_tokens},
    }
    citations: list[dict[str, Any]] = []
    with client.stream("POST", f"/api/libraries/{lib['id']}/ask", json=body) as response:
        if response.status_code >= 400:
            _ok(response)
        for name, data in events(response):
            if name == "delta":
                print(data["content"], end="", flush=True)
            elif name == "done":
                citations = data["citations"]
            elif name == "error":
                raise SystemExit(f"\nhearth: {data['message']} ({data['code']})")
    print()
    for i, hit in enumerate(citations, 1):
        print(f"  [{i}] {_where(hit)}")
    return 0


def _delete(client: httpx.Client, args: argparse.Namespace) -> int:
    lib = _library(client, args.library)
    _ok(client.delete(f"/api/libraries/{lib['id']}"))
    print(f"deleted {lib['name']}")
    return 0


ACTIONS = {
    "list": _list,
    "create": _create,
    "add": _add,
    "reindex": _reindex,
    "files": _files,
    "search": _search,
    "ask": _ask,
    "delete": _delete,
}
