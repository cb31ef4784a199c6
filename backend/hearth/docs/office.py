"""PDF (text layer, page by page) and .docx (paragraphs under their headings).

pypdf and python-docx are imported here, on the ingest thread, never at app start.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from hearth.docs.extract import Extracted, Section, Unusable

log = logging.getLogger(__name__)


def read_pdf(path: Path) -> Extracted:
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    with path.open("rb") as fh:
        if not fh.read(1024).lstrip().startswith(b"%PDF"):
            raise Unusable("unreadable", "This is not a PDF file (no %PDF header).")
    try:
        reader = pypdf.PdfReader(path)
        # Many PDFs are "encrypted" with an empty user password (copy/print limits only);
        # those open fine. A real password is something we cannot guess.
        if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
            raise Unusable(
                "encrypted_pdf", "The PDF is protected by a password; remove it and add again."
            )
        sections = []
        for number, page in enumerate(reader.pages, 1):
            text = _clean(page.extract_text() or "")
            if text:
                sections.append(Section(text, page=number))
        n_pages = len(reader.pages)
    except Unusable:
        raise
    except (FileNotDecryptedError, DependencyError):
        raise Unusable(
            "encrypted_pdf", "The PDF is protected by a password; remove it and add again."
        ) from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # pypdf raises a handful of plain exceptions on damaged files; all mean "unreadable".
        log.info("pdf %s unreadable: %r", path.name, exc)
        raise Unusable("unreadable", f"The PDF is damaged and cannot be read ({exc}).") from None
    if n_pages == 0:
        raise Unusable("empty_file", "The PDF has no pages.")
    if not sections:
        raise Unusable(
            "no_text_layer",
            "The PDF has no text layer (a scan or images only); OCR it first, then add it again.",
        )
    return Extracted("pdf", sections, n_pages)


def read_docx(path: Path) -> Extracted:
    if not zipfile.is_zipfile(path):
        raise Unusable("unreadable", "This is not a .docx file (not a zip archive).")
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise Unusable("unreadable", f"The .docx file is damaged ({exc}).") from None
    sections: list[Section] = []
    heading: str | None = None
    lines: list[str] = []

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(body, heading=heading))
        lines.clear()

    for block in _blocks(document):
        if isinstance(block, str):
            lines.append(block)
            continue
        style, text = block
        if style.startswith(("heading", "title")) and text:
            flush()
            heading = text
        if text:
            lines.append(text)
    flush()
    return Extracted("docx", sections, 1)


def _blocks(document):
    """Paragraphs as (style, text) and table rows as text, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            style = (item.style.name if item.style is not None else "") or ""
            yield style.lower(), item.text.strip()
        elif isinstance(item, Table):
            for row in item.rows:
                cells = [c.text.strip() for c in row.cells]
                # Merged cells repeat; keep each distinct cell once.
                distinct = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
                if distinct:
                    yield " | ".join(distinct)


def _clean(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\x00", "").splitlines()]
    return "\n".join(lines).strip()
