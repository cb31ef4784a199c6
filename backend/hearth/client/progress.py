"""A one-line progress bar for the terminal (downloads, provisioning)."""

from __future__ import annotations

import sys


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def bar(label: str, done: int, total: int | None, rate: float | None = None) -> str:
    if total:
        frac = min(done / total, 1.0)
        filled = int(frac * 30)
        text = f"{label} [{'#' * filled}{'.' * (30 - filled)}] {frac * 100:5.1f}% "
        text += f"{human_bytes(done)}/{human_bytes(total)}"
    else:
        text = f"{label} {human_bytes(done)}"
    if rate:
        text += f" {human_bytes(rate)}/s"
        if total and rate > 0:
            text += f" eta {max(total - done, 0) / rate:.0f}s"
    return text


def show(line: str, *, end: bool = False) -> None:
    stream = sys.stderr
    if stream.isatty():
        stream.write("\r\x1b[2K" + line + ("\n" if end else ""))
    elif end:
        stream.write(line + "\n")
    stream.flush()
