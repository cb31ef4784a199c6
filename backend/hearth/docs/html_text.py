"""Visible text of an HTML page, split at its headings (stdlib html.parser, no dependency)."""

from __future__ import annotations

from html.parser import HTMLParser

from hearth.docs.extract import Section

_HIDDEN = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "td",
    "th",
    "pre",
    "blockquote",
    "section",
    "article",
    "table",
    "ul",
    "ol",
    "dd",
    "dt",
    "hr",
    "header",
    "footer",
    "main",
    "nav",
    "figure",
    "figcaption",
}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "source", "wbr"}


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.heading: str | None = None
        self.parts: list[str] = []
        self.hidden = 0
        self.in_heading = False
        self.heading_parts: list[str] = []
        self.title: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "title":
            self.in_title = True
        if tag in _HIDDEN and tag not in _VOID:
            self.hidden += 1
        elif tag in _HEADINGS and not self.hidden:
            self.flush()
            self.in_heading = True
            self.heading_parts = []
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _HIDDEN and tag not in _VOID:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _HEADINGS and self.in_heading:
            self.in_heading = False
            text = " ".join("".join(self.heading_parts).split())
            if text:
                self.heading = text
                self.parts.append(text + "\n")
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self.hidden:
            return
        if self.in_heading:
            self.heading_parts.append(data)
        else:
            self.parts.append(data)

    def flush(self) -> None:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        body = "\n".join(line for line in lines if line)
        if body:
            self.sections.append(Section(body, heading=self.heading))
        self.parts = []


def html_sections(html: str) -> list[Section]:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    parser.flush()
    sections = parser.sections
    title = " ".join("".join(parser.title).split())
    if title and sections and sections[0].heading is None:
        # Text before the first heading sits under the page's <title>.
        sections[0] = Section(sections[0].text, heading=title)
    return sections
