"""Find one pinned file on a Python package index (PyPI or an organisation's mirror).

The simple API comes in two forms: PEP 691 JSON, which PyPI answers when asked for it, and the
PEP 503 HTML page, which is all that many mirrors and pip's own `--index-url` servers serve. One
request asks for JSON first and takes whichever form the server answers; parsing is pure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

import httpx

from hearth.errors import DownloadError

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
# PEP 691's recommended negotiation: JSON, else the versioned HTML, else any HTML page.
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str  # absolute, without a #fragment
    sha256: str | None  # what the index announces, if anything


class IndexFormatError(ValueError):
    """The page is neither a PEP 691 JSON document nor a PEP 503 HTML page."""


def project_url(index_url: str, project: str) -> str:
    """`<index>/<normalised project>/`, the page that lists a project's files (PEP 503)."""
    name = re.sub(r"[-_.]+", "-", project).lower()
    return f"{index_url.rstrip('/')}/{name}/"


def parse_json_page(body: str, page_url: str) -> list[IndexFile]:
    """The files of a PEP 691 project page; relative URLs resolve against `page_url`."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise IndexFormatError(f"not JSON: {exc}") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        raise IndexFormatError("no list of files in the JSON page")
    found = []
    for item in files:
        if not isinstance(item, dict):
            continue
        filename, url = item.get("filename"), item.get("url")
        if not isinstance(filename, str) or not isinstance(url, str):
            continue
        hashes = item.get("hashes")
        sha = hashes.get("sha256") if isinstance(hashes, dict) else None
        found.append(_file(filename, url, sha if isinstance(sha, str) else None, page_url))
    return found


def parse_html_page(body: str, page_url: str) -> list[IndexFile]:
    """The files of a PEP 503 project page: `<a href="url#sha256=...">filename</a>`."""
    parser = _Anchors()
    parser.feed(body)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    found = []
    for href, text in parser.anchors:
        _, fragment = urldefrag(href)
        name, _, value = fragment.partition("=")
        sha = value if name == "sha256" else None
        found.append(_file(text.strip(), href, sha, base))
    return found


def parse_page(body: str, content_type: str, page_url: str) -> list[IndexFile]:
    """Either form, told apart by the answer's Content-Type."""
    if "json" in content_type.lower():
        return parse_json_page(body, page_url)
    return parse_html_page(body, page_url)


@dataclass(frozen=True)
class Refusal:
    code: str  # starter_not_on_index or hash_mismatch
    reason: str


def pick(files: list[IndexFile], filename: str, sha256: str) -> IndexFile | Refusal:
    """The file named `filename` whose announced hash (if any) is the pin, else why not."""
    match = next((f for f in files if f.filename == filename), None)
    if match is None:
        return Refusal("starter_not_on_index", f"the index does not list {filename}")
    if match.sha256 is not None and match.sha256 != sha256:
        return Refusal(
            "hash_mismatch",
            f"the index lists {filename} with SHA-256 {match.sha256}, but Hearth expects "
            f"{sha256}; it was refused",
        )
    return match


async def locate(
    client: httpx.AsyncClient, index_url: str, project: str, filename: str, sha256: str
) -> IndexFile:
    """Ask the index where `filename` is. Raises DownloadError index_unreachable,
    index_unreadable, starter_not_on_index or hash_mismatch."""
    page = project_url(index_url, project)
    try:
        resp = await client.get(page, headers={"Accept": ACCEPT}, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise DownloadError(
            f"Could not reach the package index at {index_url} ({type(exc).__name__}: {exc}). "
            "Check the connection, or set HEARTH_PACKAGE_INDEX to a mirror.",
            code="index_unreachable",
        ) from exc
    if resp.status_code == 404:
        raise DownloadError(
            f"The package index at {index_url} has no project {project}",
            code="starter_not_on_index",
        )
    if resp.status_code != 200:
        raise DownloadError(
            f"The package index at {index_url} answered HTTP {resp.status_code} for {page}",
            code="index_unreachable",
        )
    try:
        files = parse_page(resp.text, resp.headers.get("content-type", ""), str(resp.url))
    except IndexFormatError as exc:
        raise DownloadError(
            f"The package index page {page} could not be read: {exc}", code="index_unreadable"
        ) from None
    chosen = pick(files, filename, sha256)
    if isinstance(chosen, Refusal):
        raise DownloadError(f"{page}: {chosen.reason}", code=chosen.code)
    return chosen


def _file(filename: str, url: str, sha256: str | None, base: str) -> IndexFile:
    absolute, _ = urldefrag(urljoin(base, url))
    sha = sha256.lower() if sha256 and _SHA256.fullmatch(sha256.lower()) else None
    return IndexFile(filename=filename, url=absolute, sha256=sha)


class _Anchors(HTMLParser):
    """Collects (href, text) of every <a> and the <base href>, if the page has one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[str, str]] = []
        self.base: str | None = None
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "base" and href and self.base is None:
            self.base = href
        elif tag == "a":
            self._href, self._text = href, []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, "".join(self._text)))
            self._href = None
