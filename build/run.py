#!/usr/bin/env python3
"""`make run`: the Electron app where Electron is installed and can open a window; otherwise the
same UI in the browser (web mode), served by `python -m hearth serve`, whose launcher does the
respawns (docs/PROTOCOL.md, "Who supervises").

    build/run.py [--web | --electron]    default: decide as above and say why
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import webbrowser
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINK_PREFIX = "Open Hearth: "  # the line `hearth serve` prints in web mode (hearth/cli.py)

log = logging.getLogger("run")


@dataclass(frozen=True)
class Choice:
    mode: str  # electron | web
    command: tuple[str, ...]
    reason: str


def electron_binary(repo: Path, env: Mapping[str, str]) -> Path | None:
    """The binary `npm install` downloaded (node_modules/electron/path.txt names it), if any.
    Not `npx electron`: without a binary, electron's own index.js tries to download one."""
    package = repo / "node_modules" / "electron"
    override = env.get("ELECTRON_OVERRIDE_DIST_PATH")
    try:
        name = (package / "path.txt").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    binary = Path(override) / name if override else package / "dist" / name
    return binary if binary.is_file() and os.access(binary, os.X_OK) else None


def has_display(platform: str, env: Mapping[str, str]) -> bool:
    if platform.startswith("linux"):
        return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    return True  # Windows and macOS always have a desktop session for a person running make


def choose(
    *, electron: Path | None, python: Path, repo: Path, platform: str, env: Mapping[str, str]
) -> Choice:
    """Electron or web mode, with the reason shown to the person running `make run`. Pure."""
    web = (str(python), "-m", "hearth", "serve")
    if electron is None:
        return Choice(
            "web",
            web,
            "Electron is not installed (npm install downloads it unless "
            "ELECTRON_SKIP_BINARY_DOWNLOAD=1): serving the UI to the browser",
        )
    if not has_display(platform, env):
        return Choice("web", web, "no display (DISPLAY/WAYLAND_DISPLAY unset): serving the UI")
    return Choice("electron", (str(electron), str(repo)), f"starting the Electron app ({electron})")


def venv_python(repo: Path) -> Path:
    return repo / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run_electron(command: tuple[str, ...]) -> int:
    child = subprocess.Popen(command, cwd=REPO)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # Ctrl-C reached Electron too; it quits and stops the backend
            continue


def run_web(command: tuple[str, ...], open_browser: bool) -> int:
    """Run `hearth serve`, passing its output through, and open the first link it prints."""
    child = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True, bufsize=1)

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)  # the launcher stops its server and exits 0

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    opened = False
    assert child.stderr is not None
    for line in child.stderr:
        sys.stderr.write(line)
        if open_browser and not opened and line.startswith(LINK_PREFIX):
            opened = True
            webbrowser.open(line[len(LINK_PREFIX) :].strip())
    return child.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start Hearth: Electron, or web mode.")
    force = parser.add_mutually_exclusive_group()
    force.add_argument("--web", action="store_true", help="web mode even if Electron is there")
    force.add_argument("--electron", action="store_true", help="fail unless Electron can start")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="hearth run: %(message)s")
    python = venv_python(REPO)
    electron = None if args.web else electron_binary(REPO, os.environ)
    choice = choose(
        electron=electron, python=python, repo=REPO, platform=sys.platform, env=os.environ
    )
    if args.electron and choice.mode != "electron":
        log.error("cannot start Electron: %s", choice.reason)
        return 1
    log.info("%s", choice.reason)
    if choice.mode == "electron":
        return run_electron(choice.command)
    open_browser = has_display(sys.platform, os.environ) and not os.environ.get("HEARTH_NO_BROWSER")
    return run_web(choice.command, open_browser)


if __name__ == "__main__":
    raise SystemExit(main())
