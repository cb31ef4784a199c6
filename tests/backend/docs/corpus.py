"""Documents the tests write themselves: real PDFs (fpdf2, pypdf), .docx (python-docx), text."""

from __future__ import annotations

from pathlib import Path


def make_pdf(path: Path, pages: list[str]) -> Path:
    """A PDF with a real text layer, one string per page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def make_scan_pdf(path: Path, n_pages: int = 2) -> Path:
    """A PDF whose pages hold only drawings: no text layer, as a scan without OCR."""
    from fpdf import FPDF

    pdf = FPDF()
    for i in range(n_pages):
        pdf.add_page()
        pdf.set_fill_color(40 * i, 90, 160)
        pdf.rect(20, 20, 120, 80, style="F")
        pdf.line(20, 150, 180, 250)
    pdf.output(str(path))
    return path


def encrypt_pdf(source: Path, path: Path, user_password: str, owner_password: str) -> Path:
    """`source` encrypted with AES-256; an empty user password opens without asking."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password, owner_password, algorithm="AES-256")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def make_docx(path: Path, blocks: list[tuple[str, str]]) -> Path:
    """blocks: ("h1"|"h2"|"p", text), plus ("table", "a|b") rows."""
    import docx

    document = docx.Document()
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1:]))
        elif kind == "table":
            cells = text.split("|")
            table = document.add_table(rows=1, cols=len(cells))
            for cell, value in zip(table.rows[0].cells, cells, strict=True):
                cell.text = value
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path
