"""A process-wide guard that refuses and records any network access other than loopback.

Installed by `HEARTH_NETWORK_GUARD=1` (tests, and anyone who wants proof that Hearth stays
offline). It is a Python audit hook (PEP 578): every `socket.connect`, `socket.sendto`,
`socket.sendmsg` and name lookup made through Python passes through it. A refused attempt raises
OSError in the caller and is appended to a JSON-lines file. Native code that opens sockets
without Python (none of our dependencies does) is outside its reach; the offline test samples
the server's open sockets from the OS as well.

Audit hooks cannot be removed, so installing is once per process.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_state: dict[str, Any] = {}
_lock = threading.Lock()


class NetworkRefused(OSError):
    pass


def is_loopback(host: object) -> bool:
    """Loopback addresses and names (and no host at all, i.e. a local wildcard). Pure."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    if not isinstance(host, str):
        return False
    name = host.strip().lower().strip("[]").split("%", 1)[0]
    if name in _LOOPBACK_NAMES or name == "":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def verdict(event: str, args: tuple) -> str | None:
    """The host a socket event would reach if it is not loopback, else None. Pure."""
    if event in ("socket.connect", "socket.sendto"):
        address = args[1] if len(args) > 1 else None
        if isinstance(address, tuple) and address:
            return None if is_loopback(address[0]) else str(address[0])
        return None  # AF_UNIX path or None: local by construction
    if event == "socket.sendmsg":
        address = args[1] if len(args) > 1 else None
        if isinstance(address, tuple) and address:
            return None if is_loopback(address[0]) else str(address[0])
        return None
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        host = args[0] if args else None
        return None if is_loopback(host) else str(host)
    if event == "socket.gethostbyaddr":
        host = args[0] if args else None
        return None if is_loopback(host) else str(host)
    return None


def install(log_path: Path) -> bool:
    """Install the guard (once per process); attempts are appended to `log_path`."""
    with _lock:
        if "log" in _state:
            _state["log"] = log_path
            return False
        _state["log"] = log_path
    log_path.parent.mkdir(parents=True, exist_ok=True)

    def hook(event: str, args: tuple) -> None:
        if not event.startswith("socket."):
            return
        host = verdict(event, args)
        if host is None:
            return
        _record({"event": event, "host": host, "args": repr(args)[:300], "time": time.time()})
        raise NetworkRefused(f"network access to {host} refused by HEARTH_NETWORK_GUARD")

    sys.addaudithook(hook)
    # Make sure the hook itself never needs the network or an import later.
    socket.getaddrinfo("127.0.0.1", 0)
    return True


def installed() -> bool:
    return "log" in _state


def _record(entry: dict[str, Any]) -> None:
    path = _state.get("log")
    if path is None:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
    except OSError:
        pass


def attempts(log_path: Path) -> list[dict[str, Any]]:
    """What a guarded process tried (for tests and diagnostics)."""
    try:
        lines = log_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if line.strip()]
