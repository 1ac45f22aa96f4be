"""Checks on rendered HTML shared by the Block Kit HTML tests."""

from __future__ import annotations

from html.parser import HTMLParser

VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "source", "wbr"})


class Tags(HTMLParser):
    """Start tags with their attributes; fails on an end tag that closes the wrong element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    assert parser.problems == []
    assert parser.open == [], f"never closed: {parser.open}"
    return parser
