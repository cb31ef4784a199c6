"""A resumable, verified HTTP download into `<dest>.part`, renamed to `dest` once it checks out.

Generic on purpose: models use it now, GPU runtime wheels later. It resumes with `Range`,
re-hashes what an earlier run left, retries dropped connections by resuming, refuses to start
when the disk is too small, and verifies SHA-256 against a pinned hash or the one Hugging Face
announces (`X-Linked-Etag`) before the final atomic rename.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from hearth.errors import DownloadError
from hearth.net.diskspace import DEFAULT_RESERVE, DiskUsage, is_out_of_space, space_shortfall
from hearth.net.rate import RateMeter

log = logging.getLogger(__name__)

Phase = Literal["checking", "downloading", "verifying"]
Verified = Literal["pinned", "server", "unverified"]

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)")
_HASH_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Progress:
    phase: Phase
    done: int
    total: int | None
    rate: float  # bytes per second, over the last few seconds


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    size: int
    sha256: str
    verified: Verified  # what the hash was checked against


class DownloadControl:
    """Lets another task stop a download: pause keeps the `.part`, cancel removes it.

    Checked between chunks. To interrupt a download stalled on the network, also cancel
    its asyncio task; the `.part` is then kept unless `cancel()` was requested.
    """

    def __init__(self) -> None:
        self.request: Literal["pause", "cancel"] | None = None

    def pause(self) -> None:
        self.request = "pause"

    def cancel(self) -> None:
        self.request = "cancel"


class DownloadStopped(DownloadError):
    """Raised when a DownloadControl stopped the transfer; `code` is "paused" or "cancelled"."""

    status = 409


class _Retry(Exception):
    """A failure worth another attempt (dropped connection, 5xx, refused resume)."""

    def __init__(self, message: str, code: str = "network_error"):
        super().__init__(message)
        self.code = code


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def announced_sha256(response: httpx.Response) -> str | None:
    """The SHA-256 a Hugging Face LFS redirect announces, if any response in the chain has one."""
    for resp in (response, *response.history):
        value = resp.headers.get("x-linked-etag")
        if value:
            value = value.strip().removeprefix("W/").strip('"').lower()
            # Non-LFS files announce a git SHA-1 here, which is not a content hash.
            if _SHA256.fullmatch(value):
                return value
    return None


def parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) from a Content-Range header; None where unknown."""
    match = _CONTENT_RANGE.fullmatch((value or "").strip())
    if not match:
        return None, None
    start, _, total = match.groups()
    return (int(start) if start else None), (int(total) if total and total != "*" else None)


@dataclass
class _Transfer:
    """What one `fetch` call knows so far; `done` bytes are both in the part and in `hasher`."""

    dest: Path
    part: Path
    expected_size: int | None
    on_progress: Callable[[Progress], None] | None
    control: DownloadControl | None
    hasher: Any = field(default_factory=hashlib.sha256)
    done: int = 0
    server_total: int | None = None
    announced: str | None = None
    meter: RateMeter = field(default_factory=RateMeter)
    last_emit: float = float("-inf")

    @property
    def total(self) -> int | None:
        return self.server_total if self.server_total is not None else self.expected_size

    def restart(self, now: float) -> None:
        self.hasher = hashlib.sha256()
        self.done = 0
        self.meter.reset(now, 0)

    def check_control(self) -> None:
        request = self.control.request if self.control else None
        if request == "pause":
            raise DownloadStopped(f"Paused {self.dest.name}", code="paused")
        if request == "cancel":
            raise DownloadStopped(f"Cancelled {self.dest.name}", code="cancelled")


@dataclass
class Downloader:
    """Fetches URLs with one shared client; policy knobs are fields so tests can tighten them."""

    client: httpx.AsyncClient
    max_attempts: int = 5  # consecutive attempts that make no progress
    retry_delay: float = 1.0  # seconds, times the attempt number
    progress_interval: float = 0.25
    disk_usage: DiskUsage = shutil.disk_usage
    reserve: int = DEFAULT_RESERVE
    clock: Callable[[], float] = time.monotonic

    async def fetch(
        self,
        url: str,
        dest: Path,
        *,
        sha256: str | None = None,
        size: int | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        control: DownloadControl | None = None,
        validate: Callable[[Path], object] | None = None,
    ) -> DownloadResult:
        """Download `url` to `dest`, resuming `dest.part`; `validate(part)` runs before the rename.

        Raises DownloadError with code offline (no DNS answer: at once, no retries),
        http_not_found, http_error, network_error, bad_url,
        disk_full or hash_mismatch; DownloadStopped (paused/cancelled); or what `validate` raises.
        The `.part` is kept for network, HTTP and free-space errors and pauses (so it can be
        resumed), removed on cancel, a hash mismatch, a write that filled the disk, or `validate`.
        """
        dest = Path(dest)
        part = part_path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        t = _Transfer(dest, part, size, on_progress, control)
        t.meter.reset(self.clock(), 0)
        try:
            await self._transfer(url, t)
            self._emit(t, "verifying", force=True)
            digest = t.hasher.hexdigest()
            expected = (sha256 or t.announced or "").lower() or None
            if expected and digest != expected:
                raise DownloadError(
                    f"{dest.name} failed verification: its SHA-256 is {digest}, expected "
                    f"{expected}; the download was discarded",
                    code="hash_mismatch",
                )
            if validate is not None:
                await asyncio.to_thread(validate, part)
            await asyncio.to_thread(_sync_and_replace, part, dest)
        except asyncio.CancelledError:
            if control is not None and control.request == "cancel":
                _remove(part)
            raise
        except DownloadError as exc:
            # Keep what may be resumed; a full disk during writing already removed the part.
            if exc.code in ("cancelled", "hash_mismatch"):
                _remove(part)
            raise
        except BaseException:
            _remove(part)  # validate refused the file, or something unexpected broke
            raise
        verified: Verified = "pinned" if sha256 else ("server" if t.announced else "unverified")
        log.info("downloaded %s (%d bytes, sha256 %s, %s)", dest.name, t.done, digest, verified)
        return DownloadResult(path=dest, size=t.done, sha256=digest, verified=verified)

    async def _transfer(self, url: str, t: _Transfer) -> None:
        failures = 0
        while True:
            before = t.done
            try:
                await self._attempt(url, t)
                return
            except (httpx.TransportError, _Retry) as exc:
                if isinstance(exc, httpx.UnsupportedProtocol):
                    raise DownloadError(f"Cannot download {url}: {exc}", code="bad_url") from exc
                if _name_lookup_failed(exc):
                    # No DNS answer: retrying for half a minute only delays the same answer.
                    host = httpx.URL(url).host
                    kept = " The partial file is kept; resume to continue." if t.done else ""
                    raise DownloadError(
                        f"No internet connection (could not reach {host}). Check the "
                        f"connection, then try again.{kept}",
                        code="offline",
                    ) from exc
                # A flaky link that keeps making progress may drop many times; a dead one may not.
                failures = 1 if t.done > before else failures + 1
                if failures >= self.max_attempts:
                    raise DownloadError(
                        f"Download of {t.dest.name} failed after {failures} attempts: "
                        f"{_describe(exc)}. The partial file is kept; resume to continue.",
                        code=exc.code if isinstance(exc, _Retry) else "network_error",
                    ) from exc
                log.warning(
                    "download of %s interrupted at %d bytes (%s); resuming",
                    t.dest.name,
                    t.done,
                    _describe(exc),
                )
                await asyncio.sleep(self.retry_delay * failures)
            except httpx.InvalidURL as exc:
                raise DownloadError(f"Cannot download {url}: {exc}", code="bad_url") from exc

    async def _attempt(self, url: str, t: _Transfer) -> None:
        t.check_control()
        have = t.part.stat().st_size if t.part.exists() else 0
        if have != t.done:  # a part left by an earlier run: its bytes must enter the hash
            await self._rehash(t, have)
            have = t.done
        headers = {"Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
        async with self.client.stream("GET", url, headers=headers, follow_redirects=True) as resp:
            t.announced = announced_sha256(resp) or t.announced
            status = resp.status_code
            if status == 416 and have:
                _, total = parse_content_range(resp.headers.get("content-range"))
                if total == have:  # the part was already complete
                    t.server_total = total
                    return
                _remove(t.part)
                t.restart(self.clock())
                raise _Retry(f"the server refused to resume at byte {have}; starting over")
            if status == 404:
                raise DownloadError(f"Not found on the server: {url}", code="http_not_found")
            if status in RETRYABLE_STATUS:
                raise _Retry(f"the server answered HTTP {status}", code="http_error")
            if status not in (200, 206):
                raise DownloadError(
                    f"The server answered HTTP {status} for {url}", code="http_error", status=502
                )
            mode = self._position(t, resp, have)
            self._check_space(t)
            await self._receive(t, resp, mode)
        if t.server_total is not None and t.done < t.server_total:
            raise _Retry(f"connection closed at byte {t.done} of {t.server_total}")

    def _position(self, t: _Transfer, resp: httpx.Response, have: int) -> str:
        """Decide where the body goes: appended to the part (206) or over it (200)."""
        if resp.status_code == 206:
            start, total = parse_content_range(resp.headers.get("content-range"))
            if start != have:
                raise _Retry(f"the server sent bytes from {start}, not {have}")
            t.server_total = total
            log.info("resuming %s at byte %d", t.dest.name, have)
            return "ab"
        if have:
            log.info("server ignored the range request for %s; starting over", t.dest.name)
        t.restart(self.clock())
        length = resp.headers.get("content-length")
        t.server_total = int(length) if length and length.isdigit() else None
        return "wb"

    def _check_space(self, t: _Transfer) -> None:
        total = t.total
        if total is None:
            return
        reason = space_shortfall(
            t.part.parent, total - t.done, disk_usage=self.disk_usage, reserve=self.reserve
        )
        if reason:
            raise DownloadError(reason, code="disk_full", status=507)

    async def _receive(self, t: _Transfer, resp: httpx.Response, mode: str) -> None:
        try:
            with t.part.open(mode) as fh:
                async for chunk in resp.aiter_bytes():
                    t.check_control()
                    fh.write(chunk)
                    t.hasher.update(chunk)
                    t.done += len(chunk)
                    self._emit(t, "downloading")
        except OSError as exc:
            if not is_out_of_space(exc):
                raise
            _remove(t.part)
            t.restart(self.clock())
            raise DownloadError(
                f"The disk filled up while downloading {t.dest.name}; the partial file was "
                "removed. Free some space and try again.",
                code="disk_full",
                status=507,
            ) from exc
        self._emit(t, "downloading", force=True)

    async def _rehash(self, t: _Transfer, have: int) -> None:
        t.restart(self.clock())
        self._emit(t, "checking", force=True)
        hasher = hashlib.sha256()
        with t.part.open("rb") as fh:
            # Read exactly `have` bytes: the part may be something odd that never ends.
            while t.done < have:
                t.check_control()
                n = await asyncio.to_thread(
                    _hash_chunk, fh, hasher, min(_HASH_CHUNK, have - t.done)
                )
                if n == 0:
                    break
                t.done += n
                self._emit(t, "checking")
        t.hasher = hasher
        t.meter.reset(self.clock(), t.done)

    def _emit(self, t: _Transfer, phase: Phase, *, force: bool = False) -> None:
        if t.on_progress is None:
            return
        now = self.clock()
        if not force and now - t.last_emit < self.progress_interval:
            return
        t.last_emit = now
        rate = t.meter.update(now, t.done) if phase == "downloading" else 0.0
        t.on_progress(Progress(phase=phase, done=t.done, total=t.total, rate=rate))


def _hash_chunk(fh: Any, hasher: Any, n: int) -> int:
    data = fh.read(n)
    hasher.update(data)
    return len(data)


def _sync_and_replace(part: Path, dest: Path) -> None:
    with part.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(part, dest)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # e.g. still open elsewhere on Windows; not worth masking the cause
        log.warning("could not remove %s: %s", path, exc)


def _name_lookup_failed(exc: BaseException) -> bool:
    """True when the host name could not be resolved (socket.gaierror somewhere in the chain):
    offline, or a network without DNS."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
