"""Catalogue sizes the catalogue does not give, asked of a real 127.0.0.1 server with HEAD:
Hugging Face's redirect with X-Linked-Size, a plain Content-Length, a server that fails, and the
cache that answers the next look (and an offline one) without asking again."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from hearth.library.catalogue import Catalogue, CatalogueEntry
from hearth.library.downloads import DownloadManager
from hearth.library.library import ModelLibrary
from hearth.library.sizes import RETRY_AFTER, SizeCache
from hearth.net.download import Downloader

pytestmark = pytest.mark.anyio


def _entry(id_: str, url: str, size: int | None = None) -> CatalogueEntry:
    return CatalogueEntry(
        id=id_,
        name=id_.title(),
        kind="chat",
        url=url,
        filename=f"{id_}.gguf",
        size=size,
        license="mit",
    )


async def test_sizes_come_from_the_server_and_are_kept(file_server, tmp_path: Path):
    data = b"GGUF" + bytes(5000)
    file_server.add("/plain.gguf", data=data)
    # Hugging Face: resolve/… answers 302 with the size of the file it points to.
    file_server.add("/cdn/hf.gguf", data=b"x")
    file_server.add(
        "/resolve/hf.gguf",
        redirect_to=file_server.url("/cdn/hf.gguf"),
        headers={"X-Linked-Size": "123456789"},
    )
    file_server.add("/broken.gguf", status=500)
    pinned = _entry("pinned", file_server.url("/pinned.gguf"), size=42)
    catalogue = Catalogue(
        [
            _entry("plain", file_server.url("/plain.gguf")),
            _entry("hf", file_server.url("/resolve/hf.gguf")),
            _entry("broken", file_server.url("/broken.gguf")),
            pinned,
        ]
    )
    cache_file = tmp_path / "catalogue-sizes.json"
    async with httpx.AsyncClient() as client:
        downloads = DownloadManager(
            ModelLibrary(tmp_path / "models"),
            catalogue,
            downloader=Downloader(client=client),
            sizes=cache_file,
        )
        sizes = {e.id: e.size for e in await downloads.catalogue_entries(wait=5)}
        await downloads.aclose()
    assert sizes == {"plain": len(data), "hf": 123456789, "broken": None, "pinned": 42}
    assert "/pinned.gguf" not in file_server.heads  # a pinned size is never asked
    kept = json.loads(cache_file.read_text())
    assert kept[file_server.url("/plain.gguf")]["size"] == len(data)

    # The next start knows them without a question; the failed one waits RETRY_AFTER.
    asked = len(file_server.heads)
    async with httpx.AsyncClient() as client:
        again = DownloadManager(
            ModelLibrary(tmp_path / "models"),
            catalogue,
            downloader=Downloader(client=client),
            sizes=cache_file,
        )
        assert {e.id: e.size for e in await again.catalogue_entries(wait=5)} == sizes
        await again.aclose()
    assert len(file_server.heads) == asked


async def test_a_server_that_did_not_answer_is_asked_again_only_after_a_while(
    file_server, tmp_path: Path
):
    file_server.add("/down.gguf", status=503)
    url, now = file_server.url("/down.gguf"), [1000.0]
    async with httpx.AsyncClient() as client:
        cache = SizeCache(tmp_path / "sizes.json", client, clock=lambda: now[0])
        await cache.fill([url], wait=5)
        await cache.fill([url], wait=5)  # soon after: the cached "no answer" stands
        assert (cache.size(url), file_server.heads) == (None, ["/down.gguf"])
        now[0] += RETRY_AFTER
        await cache.fill([url], wait=5)
    assert file_server.heads == ["/down.gguf", "/down.gguf"]


async def test_an_unreachable_server_costs_no_more_than_the_wait(tmp_path: Path):
    url = "http://127.0.0.1:9/model.gguf"  # nothing listens on the discard port
    async with httpx.AsyncClient() as client:
        cache = SizeCache(tmp_path / "sizes.json", client)
        await cache.fill([url], wait=5)
        assert cache.size(url) is None


async def test_a_damaged_cache_file_is_asked_anew(file_server, tmp_path: Path):
    file_server.add("/m.gguf", data=b"GGUF1234")
    path = tmp_path / "sizes.json"
    path.write_text("{not json")
    async with httpx.AsyncClient() as client:
        cache = SizeCache(path, client)
        await cache.fill([file_server.url("/m.gguf")], wait=5)
    assert cache.size(file_server.url("/m.gguf")) == 8
