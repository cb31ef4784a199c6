"""The resumable downloader against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from hearth.errors import DownloadError, InvalidModel
from hearth.library.gguf import read_gguf_info
from hearth.net.download import (
    DownloadControl,
    Downloader,
    DownloadStopped,
    Progress,
    announced_sha256,
    parse_content_range,
    part_path,
)
from hearth.net.rate import RateMeter, eta_seconds

pytestmark = pytest.mark.anyio


@pytest.fixture
def payload(stories_path: Path) -> bytes:
    return stories_path.read_bytes()


@pytest.fixture
def sha(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "models" / "stories.gguf"


@asynccontextmanager
async def downloader(**options) -> AsyncIterator[Downloader]:
    async with httpx.AsyncClient(timeout=5) as client:
        defaults = {"retry_delay": 0, "progress_interval": 0, "max_attempts": 3, "reserve": 0}
        yield Downloader(client=client, **(defaults | options))


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.005)


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.parent.iterdir()) if dest.parent.exists() else []


async def test_a_download_is_verified_against_the_pinned_hash(file_server, payload, sha, dest):
    file_server.add("/m.gguf", data=payload)
    seen: list[Progress] = []
    async with downloader() as dl:
        result = await dl.fetch(
            file_server.url("/m.gguf"), dest, sha256=sha, on_progress=seen.append
        )
    assert (result.path, result.size, result.sha256, result.verified) == (
        dest,
        len(payload),
        sha,
        "pinned",
    )
    assert dest.read_bytes() == payload
    assert leftovers(dest) == ["stories.gguf"]
    downloading = [p for p in seen if p.phase == "downloading"]
    assert downloading[-1].done == downloading[-1].total == len(payload)
    assert [p.done for p in downloading] == sorted(p.done for p in downloading)
    assert seen[-1].phase == "verifying"


async def test_a_dropped_connection_is_resumed_and_the_hash_still_matches(
    file_server, payload, sha, dest
):
    half = len(payload) // 2
    file_server.add("/m.gguf", data=payload, drop_after=half)
    async with downloader() as dl:
        result = await dl.fetch(file_server.url("/m.gguf"), dest, sha256=sha)
    assert file_server.ranges("/m.gguf") == [None, f"bytes={half}-"]
    assert result.sha256 == sha
    assert dest.read_bytes() == payload


async def test_a_dead_connection_fails_after_bounded_attempts(file_server, payload, dest):
    file_server.add("/m.gguf", data=payload, drop_after=0, drops=100)
    async with downloader(max_attempts=3) as dl:
        with pytest.raises(DownloadError) as caught:
            await dl.fetch(file_server.url("/m.gguf"), dest)
    assert caught.value.code == "network_error"
    assert "3 attempts" in caught.value.message
    assert len(file_server.ranges("/m.gguf")) == 3
    assert not dest.exists()


async def test_a_flaky_server_is_retried(file_server, payload, sha, dest):
    file_server.add("/m.gguf", data=payload, fail_times=2, fail_status=503)
    async with downloader(max_attempts=3) as dl:
        result = await dl.fetch(file_server.url("/m.gguf"), dest, sha256=sha)
    assert result.sha256 == sha


async def test_persistent_server_errors_end_as_http_errors(file_server, payload, dest):
    file_server.add("/m.gguf", data=payload, fail_times=10, fail_status=500)
    async with downloader(max_attempts=2) as dl:
        with pytest.raises(DownloadError) as caught:
            await dl.fetch(file_server.url("/m.gguf"), dest)
    assert caught.value.code == "http_error"
    assert "500" in caught.value.message


async def test_the_hugging_face_linked_etag_is_checked(file_server, payload, sha, dest):
    # Like huggingface.co: the resolve URL redirects to a CDN and announces the LFS sha256.
    file_server.add("/cdn/m.gguf", data=payload)
    file_server.add(
        "/resolve/main/m.gguf",
        redirect_to=file_server.url("/cdn/m.gguf"),
        headers={"X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(payload))},
    )
    async with downloader() as dl:
        result = await dl.fetch(file_server.url("/resolve/main/m.gguf"), dest)
    assert (result.verified, result.sha256) == ("server", sha)


async def test_a_wrong_linked_etag_discards_the_file(file_server, payload, dest):
    wrong = "0" * 64
    file_server.add("/m.gguf", data=payload, headers={"X-Linked-Etag": f'"{wrong}"'})
    async with downloader() as dl:
        with pytest.raises(DownloadError) as caught:
            await dl.fetch(file_server.url("/m.gguf"), dest)
    assert caught.value.code == "hash_mismatch"
    assert wrong in caught.value.message
    assert leftovers(dest) == []


async def test_a_wrong_pinned_hash_keeps_nothing(file_server, payload, dest):
    file_server.add("/m.gguf", data=payload)
    async with downloader() as dl:
        with pytest.raises(DownloadError) as caught:
            await dl.fetch(file_server.url("/m.gguf"), dest, sha256="f" * 64)
    assert caught.value.code == "hash_mismatch"
    assert leftovers(dest) == []


async def test_without_any_hash_the_computed_one_is_recorded(file_server, payload, sha, dest):
    file_server.add("/m.gguf", data=payload)
    async with downloader() as dl:
        result = await dl.fetch(file_server.url("/m.gguf"), dest)
    assert (result.verified, result.sha256) == ("unverified", sha)


@pytest.mark.parametrize(("status", "code"), [(404, "http_not_found"), (403, "http_error")])
async def test_http_errors_have_distinct_codes(file_server, dest, status, code):
    file_server.add("/m.gguf", status=status)
    async with downloader() as dl:
        with pytest.raises(DownloadError) as caught:
            await dl.fetch(file_server.url("/m.gguf"), dest)
    assert caught.value.code == code
    assert leftovers(dest) == []


async def test_an_unreachable_server_is_a_network_error(dest):
    async with downloader(max_attempts=2) as dl:
        with pytest.raises(DownloadError) as caught:
            await dl.fetch("http://127.0.0.1:9/nothing.gguf", dest)
    assert caught.value.code == "network_error"


async def test_no_dns_answer_fails_at_once_as_no_internet(dest, monkeypatch):
    """Offline, the name lookup fails: that is said at once and in plain words, not after half a
    minute of retries as "[Errno -2] Name or service not known". The lookup is faked at the OS
    edge (socket.getaddrinfo), so no test ever asks a real resolver."""
    import socket

    lookups = []

    def offline(host, *args, **kwargs):
        lookups.append(host.decode() if isinstance(host, bytes) else host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    async with downloader(max_attempts=5, retry_delay=1) as dl:
        started = time.monotonic()
        with pytest.raises(DownloadError) as caught:
            await dl.fetch("https://huggingface.co/org/repo/resolve/main/model.gguf", dest)
    assert caught.value.code == "offline"
    assert caught.value.message.startswith(
        "No internet connection (could not reach huggingface.co)"
    )
    assert lookups == ["huggingface.co"]  # one try, no retries
    assert time.monotonic() - started < 1  # retry_delay=1 would have slept at least 1 s


async def test_a_part_left_by_an_earlier_run_is_rehashed_and_resumed(
    file_server, payload, sha, dest
):
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(payload[:300_000])
    file_server.add("/m.gguf", data=payload)
    seen: list[Progress] = []
    async with downloader() as dl:
        result = await dl.fetch(
            file_server.url("/m.gguf"), dest, sha256=sha, on_progress=seen.append
        )
    assert file_server.ranges("/m.gguf") == ["bytes=300000-"]
    assert result.sha256 == sha
    assert seen[0].phase == "checking"
    assert dest.read_bytes() == payload


async def test_a_corrupt_part_is_caught_by_the_hash(file_server, payload, sha, dest):
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(b"\xff" * 300_000)
    file_server.add("/m.gguf", data=payload)
    async with downloader() as dl:
        with pytest.raises(DownloadError) as caught:
            await dl.fetch(file_server.url("/m.gguf"), dest, sha256=sha)
    assert caught.value.code == "hash_mismatch"
    assert leftovers(dest) == []


async def test_a_server_that_ignores_ranges_restarts_from_zero(file_server, payload, sha, dest):
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(payload[:300_000])
    file_server.add("/m.gguf", data=payload, ignore_range=True)
    async with downloader() as dl:
        result = await dl.fetch(file_server.url("/m.gguf"), dest, sha256=sha)
    assert result.size == len(payload)
    assert dest.read_bytes() == payload


async def test_a_complete_part_answered_with_416_is_just_verified(file_server, payload, sha, dest):
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(payload)
    file_server.add("/m.gguf", data=payload)
    async with downloader() as dl:
        result = await dl.fetch(file_server.url("/m.gguf"), dest, sha256=sha)
    assert file_server.ranges("/m.gguf") == [f"bytes={len(payload)}-"]
    assert result.sha256 == sha


async def test_a_part_longer_than_the_file_starts_over(file_server, payload, sha, dest):
    dest.parent.mkdir(parents=True)
    part_path(dest).write_bytes(payload + b"extra")
    file_server.add("/m.gguf", data=payload)
    async with downloader() as dl:
        result = await dl.fetch(file_server.url("/m.gguf"), dest, sha256=sha)
    assert file_server.ranges("/m.gguf") == [f"bytes={len(payload) + 5}-", None]
    assert result.sha256 == sha


async def test_too_little_free_space_is_refused_before_writing(file_server, payload, dest):
    file_server.add("/m.gguf", data=payload)
    tiny_disk = lambda _path: SimpleNamespace(free=1000)  # noqa: E731 - the OS edge, faked
    async with downloader(disk_usage=tiny_disk) as dl:
        with pytest.raises(DownloadError) as caught:
            await dl.fetch(file_server.url("/m.gguf"), dest)
    assert (caught.value.code, caught.value.status) == ("disk_full", 507)
    assert "Not enough disk space" in caught.value.message
    assert not dest.exists()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.path.exists("/dev/full"),
    reason="needs Linux /dev/full to make writes fail with ENOSPC",
)
async def test_a_disk_that_fills_up_while_writing_removes_the_part(file_server, payload, dest):
    # The part is a symlink to /dev/full: every write fails with ENOSPC, like a full disk.
    dest.parent.mkdir(parents=True)
    os.symlink("/dev/full", part_path(dest))
    file_server.add("/m.gguf", data=payload)
    async with downloader() as dl:
        with pytest.raises(DownloadError) as caught:
            await dl.fetch(file_server.url("/m.gguf"), dest)
    assert caught.value.code == "disk_full"
    assert "filled up" in caught.value.message
    assert leftovers(dest) == []


async def test_pause_keeps_the_part_and_a_later_fetch_resumes(file_server, payload, sha, dest):
    half = len(payload) // 2
    route = file_server.add("/m.gguf", data=payload, gate_at=half)
    control = DownloadControl()
    done = [0]
    async with downloader() as dl:
        task = asyncio.create_task(
            dl.fetch(
                file_server.url("/m.gguf"),
                dest,
                sha256=sha,
                control=control,
                on_progress=lambda p: done.__setitem__(0, p.done),
            )
        )
        await wait_until(lambda: done[0] >= half)
        control.pause()
        task.cancel()  # the server is stalled: only cancelling interrupts the read
        with pytest.raises(asyncio.CancelledError):
            await task
        assert part_path(dest).stat().st_size == half
        assert not dest.exists()

        route.gate.set()
        result = await dl.fetch(file_server.url("/m.gguf"), dest, sha256=sha)
    assert file_server.ranges("/m.gguf") == [None, f"bytes={half}-"]
    assert result.sha256 == sha


async def test_a_pause_request_alone_stops_at_the_next_chunk(file_server, payload, dest):
    half = len(payload) // 2
    route = file_server.add("/m.gguf", data=payload, gate_at=half)
    control = DownloadControl()
    done = [0]
    async with downloader() as dl:
        task = asyncio.create_task(
            dl.fetch(
                file_server.url("/m.gguf"),
                dest,
                control=control,
                on_progress=lambda p: done.__setitem__(0, p.done),
            )
        )
        await wait_until(lambda: done[0] >= half)
        control.pause()
        route.gate.set()
        with pytest.raises(DownloadStopped) as caught:
            await task
    assert caught.value.code == "paused"
    assert part_path(dest).stat().st_size >= half


async def test_cancel_removes_the_part(file_server, payload, dest):
    half = len(payload) // 2
    file_server.add("/m.gguf", data=payload, gate_at=half)
    control = DownloadControl()
    done = [0]
    async with downloader() as dl:
        task = asyncio.create_task(
            dl.fetch(
                file_server.url("/m.gguf"),
                dest,
                control=control,
                on_progress=lambda p: done.__setitem__(0, p.done),
            )
        )
        await wait_until(lambda: done[0] >= half)
        control.cancel()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert leftovers(dest) == []


async def test_a_plain_task_cancel_keeps_the_part_for_later(file_server, payload, dest):
    half = len(payload) // 2
    file_server.add("/m.gguf", data=payload, gate_at=half)
    done = [0]
    async with downloader() as dl:
        task = asyncio.create_task(
            dl.fetch(
                file_server.url("/m.gguf"), dest, on_progress=lambda p: done.__setitem__(0, p.done)
            )
        )
        await wait_until(lambda: done[0] >= half)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert leftovers(dest) == ["stories.gguf.part"]


async def test_a_file_the_validator_refuses_is_removed(file_server, dest):
    file_server.add("/m.gguf", data=os.urandom(50_000))
    async with downloader() as dl:
        with pytest.raises(InvalidModel) as caught:
            await dl.fetch(file_server.url("/m.gguf"), dest, validate=read_gguf_info)
    assert caught.value.code == "not_gguf"
    assert leftovers(dest) == []


async def test_a_bad_scheme_is_not_retried(dest):
    async with downloader() as dl:
        with pytest.raises(DownloadError) as caught:
            await dl.fetch("gopher://example.invalid/m.gguf", dest)
    assert caught.value.code == "bad_url"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes 100-199/200", (100, 200)),
        ("bytes 0-0/*", (0, None)),
        ("bytes */1234", (None, 1234)),
        ("", (None, None)),
        ("items 1-2/3", (None, None)),
    ],
)
def test_content_range_parsing(header, expected):
    assert parse_content_range(header) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"' + "ab" * 32 + '"', "ab" * 32),
        ("W/" + '"' + "AB" * 32 + '"', "ab" * 32),
        ('"' + "a" * 40 + '"', None),  # a git blob SHA-1, not a content hash
        (None, None),
    ],
)
def test_announced_sha256_accepts_only_sha256(value, expected):
    headers = {"X-Linked-Etag": value} if value else {}
    response = httpx.Response(302, headers=headers)
    assert announced_sha256(response) == expected


def test_rate_meter_uses_a_sliding_window():
    meter = RateMeter(window=2.0)
    meter.reset(0.0, 0)
    assert meter.update(1.0, 100) == pytest.approx(100)
    assert meter.update(2.0, 200) == pytest.approx(100)
    # The window forgets the first samples: after a burst the rate reflects the burst.
    assert meter.update(4.0, 1200) == pytest.approx(500)


@pytest.mark.parametrize(
    ("done", "total", "rate", "eta"),
    [(50, 100, 10.0, 5.0), (100, 100, 0.0, 0.0), (50, None, 10.0, None), (50, 100, 0.0, None)],
)
def test_eta(done, total, rate, eta):
    assert eta_seconds(done, total, rate) == eta
