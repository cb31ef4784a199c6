"""Every supported format gives text with its page or heading; every bad file gives its reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from hearth.docs.extract import Section, Unusable, decode_text, extract, markdown_sections
from hearth.docs.html_text import html_sections

from tests.backend.docs.corpus import encrypt_pdf, make_docx, make_pdf, make_scan_pdf


def reason(path: Path) -> str:
    with pytest.raises(Unusable) as caught:
        extract(path)
    assert caught.value.message  # always something a person can read
    return caught.value.code


def test_pdf_pages_keep_their_numbers(tmp_path):
    pdf = make_pdf(tmp_path / "r.pdf", ["Apples grow on trees.", "", "The vault code is 4417."])
    got = extract(pdf)
    assert got.kind == "pdf" and got.pages == 3
    # The empty middle page has no section, and the third keeps its number.
    assert [(s.page, s.text) for s in got.sections] == [
        (1, "Apples grow on trees."),
        (3, "The vault code is 4417."),
    ]


def test_pdf_with_only_an_owner_password_opens(tmp_path):
    plain = make_pdf(tmp_path / "p.pdf", ["Printing is restricted here."])
    locked = encrypt_pdf(plain, tmp_path / "owner.pdf", user_password="", owner_password="o")
    assert extract(locked).sections == [Section("Printing is restricted here.", page=1)]


def test_bad_files_each_give_their_reason(tmp_path):
    plain = make_pdf(tmp_path / "p.pdf", ["Secret."])
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text("  \n\n\t\n")
    (tmp_path / "blob.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)))
    (tmp_path / "fake.pdf").write_text("just text pretending")
    (tmp_path / "fake.docx").write_text("not a zip")
    (tmp_path / "cut.pdf").write_bytes(plain.read_bytes()[:400])
    assert reason(encrypt_pdf(plain, tmp_path / "enc.pdf", "pw", "owner")) == "encrypted_pdf"
    assert reason(make_scan_pdf(tmp_path / "scan.pdf")) == "no_text_layer"
    assert reason(tmp_path / "empty.txt") == "empty_file"
    assert reason(tmp_path / "blank.md") == "empty_file"
    assert reason(tmp_path / "blob.txt") == "binary_file"
    assert reason(tmp_path / "fake.pdf") == "unreadable"
    assert reason(tmp_path / "fake.docx") == "unreadable"
    assert reason(tmp_path / "cut.pdf") in ("unreadable", "no_text_layer")
    assert reason(tmp_path / "missing.txt") == "not_found"


def test_markdown_sections_follow_headings_not_code(tmp_path):
    text = (
        "Preface line.\n\n# Setup\nInstall it.\n\n```sh\n# not a heading\n```\n\n"
        "Usage\n-----\nRun it.\n\n## Flags ##\n--fast\n"
    )
    sections = markdown_sections(text)
    assert [(s.heading, s.text.splitlines()[0]) for s in sections] == [
        (None, "Preface line."),
        ("Setup", "# Setup"),
        ("Usage", "Usage"),
        ("Flags", "## Flags ##"),
    ]
    assert "# not a heading" in sections[1].text


def test_html_visible_text_under_headings():
    html = (
        "<html><head><title>Kitchen</title><style>p{color:red}</style></head><body>"
        "<p>Welcome &amp; hello.</p><script>var secret = 1;</script>"
        "<h2>Bread</h2><p>Knead for <b>ten</b> minutes.</p><ul><li>flour</li><li>salt</li></ul>"
        "</body></html>"
    )
    sections = html_sections(html)
    assert sections == [
        Section("Welcome & hello.", heading="Kitchen"),
        Section("Bread\nKnead for ten minutes.\nflour\nsalt", heading="Bread"),
    ]


def test_docx_paragraphs_tables_and_headings(tmp_path):
    path = make_docx(
        tmp_path / "m.docx",
        [
            ("p", "Before any heading."),
            ("h1", "Installation"),
            ("p", "Unpack the archive."),
            ("table", "Port|8080"),
            ("h2", "Upgrades"),
            ("p", "Back up first."),
        ],
    )
    got = extract(path)
    assert got.kind == "docx"
    assert [(s.heading, s.text) for s in got.sections] == [
        (None, "Before any heading."),
        ("Installation", "Installation\nUnpack the archive.\nPort | 8080"),
        ("Upgrades", "Upgrades\nBack up first."),
    ]


def test_text_pages_are_form_feed_separated(tmp_path):
    (tmp_path / "t.txt").write_text("one\fTwo words\f\fthree")
    got = extract(tmp_path / "t.txt")
    assert got.pages == 4
    assert [(s.page, s.text) for s in got.sections] == [(1, "one"), (2, "Two words"), (4, "three")]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("héllo".encode(), "héllo"),
        (b"\xef\xbb\xbfbom", "bom"),
        ("caf\xe9 cr\xe8me".encode("cp1252"), "café crème"),
    ],
)
def test_decode_text(data, text):
    assert decode_text(data) == text


def test_an_unknown_extension_chosen_by_hand_is_read_when_it_is_text(tmp_path):
    (tmp_path / "notes.rst").write_text("Title\n=====\nBody text.")
    assert extract(tmp_path / "notes.rst").sections == [Section("Title\n=====\nBody text.")]
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(300))
    assert reason(tmp_path / "photo.jpg") == "binary_file"
