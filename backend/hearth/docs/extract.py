"""Turn one file into text sections that remember their page or heading, or say why not.

A bad file never stops a batch: every refusal is an `Unusable(code, message)` that the ingest
job records for that file and shows verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Extensions a folder walk picks up; an explicitly chosen file of another type is sniffed.
SUPPORTED = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
}
MAX_FILE_BYTES = 256 * 1024 * 1024
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Section:
    """A stretch of text with one location: a PDF page, or the heading it sits under."""

    text: str
    page: int | None = None
    heading: str | None = None


@dataclass(frozen=True)
class Extracted:
    kind: str
    sections: list[Section]
    pages: int  # real pages for PDFs and form-feed-separated text; 1 otherwise


class Unusable(Exception):
    """Why a file cannot be indexed; `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def kind_for(path: Path) -> str | None:
    return SUPPORTED.get(path.suffix.lower())


def extract(path: Path) -> Extracted:
    """Read `path` and return its sections; raises Unusable with the reason it cannot be used."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise Unusable("not_found", "The file does not exist (moved or deleted?).") from None
    except OSError as exc:
        raise Unusable("unreadable", f"The file cannot be read: {exc.strerror or exc}.") from None
    if size == 0:
        raise Unusable("empty_file", "The file is empty.")
    if size > MAX_FILE_BYTES:
        raise Unusable(
            "too_large", f"The file is {size // 2**20} MiB; at most {MAX_FILE_BYTES // 2**20} MiB."
        )
    kind = kind_for(path)
    try:
        if kind == "pdf":
            from hearth.docs.office import read_pdf

            return _non_empty(read_pdf(path))
        if kind == "docx":
            from hearth.docs.office import read_docx

            return _non_empty(read_docx(path))
        data = path.read_bytes()
    except OSError as exc:
        raise Unusable("unreadable", f"The file cannot be read: {exc.strerror or exc}.") from None
    text = decode_text(data)
    if kind == "html":
        from hearth.docs.html_text import html_sections

        return _non_empty(Extracted("html", html_sections(text), 1))
    if kind == "markdown":
        return _non_empty(Extracted("markdown", markdown_sections(text), 1))
    # Plain text, or a file of another type the user picked by hand and that sniffed as text.
    sections = text_sections(text)
    return _non_empty(Extracted("text", sections, max(1, len(text.split("\f")))))


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252; refuses what looks like binary data."""
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        raise Unusable("binary_file", "This looks like a binary file, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text[:_SNIFF_BYTES] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > len(text[:_SNIFF_BYTES]) * 0.02 or text.count("\ufffd") > len(text) * 0.02:
        raise Unusable("binary_file", "This looks like a binary file, not text.")
    return text


def text_sections(text: str) -> list[Section]:
    """Form feeds separate pages (as pdftotext writes them); otherwise one section."""
    pages = text.split("\f")
    if len(pages) == 1:
        return [Section(text.strip())] if text.strip() else []
    return [Section(p.strip(), page=i) for i, p in enumerate(pages, 1) if p.strip()]


_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")


def markdown_sections(text: str) -> list[Section]:
    """One section per heading (ATX `#` or setext underline), ignoring `#` inside code fences."""
    sections: list[Section] = []
    heading: str | None = None
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(body, heading=heading))
        lines.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _ATX.match(line)
        setext = (
            not fenced
            and lines
            and lines[-1].strip()
            and _SETEXT.match(line)
            and not (len(lines) > 1 and lines[-2].strip())  # a one-line paragraph above
        )
        if match:
            flush()
            heading = match.group(2).strip()
            lines.append(line.strip())  # the heading's words help retrieval too
        elif setext:
            title = lines.pop().strip()
            flush()
            heading = title
            lines.append(title)
        else:
            lines.append(line)
    flush()
    return sections


def _non_empty(extracted: Extracted) -> Extracted:
    if not any(s.text.strip() for s in extracted.sections):
        raise Unusable("empty_file", "The file contains no text.")
    return extracted
