"""Markdown written by people, made safe to show: markdown-it-py renders, nh3 keeps only harmless HTML."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from app.services.catalogue import slugify

# Raw HTML in the source is not rendered at all ("html": False); nh3 is the second net.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "a",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
}


_HEADING = re.compile(r"<h([234])>(.*?)</h\1>", re.S)


def _anchor(text: str) -> str:
    return "g-" + slugify(re.sub(r"<[^>]+>", "", text))


def render(text: str, *, anchors: bool = False) -> Markup:
    """Safe HTML from Markdown; with `anchors`, every heading gets an id to link to."""
    html = _md.render(text or "")
    if anchors:
        html = _HEADING.sub(lambda m: f'<h{m[1]} id="{_anchor(m[2])}">{m[2]}</h{m[1]}>', html)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    # Sanitised just above by nh3, with its allow-lists.
    return Markup(clean)  # nosec B704


def headings(text: str) -> list[tuple[int, str, str]]:
    """(level, anchor, text) of the headings, for a table of contents."""
    found = []
    tokens = _md.parse(text or "")
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            inline = tokens[index + 1].content
            found.append((int(token.tag[1]), _anchor(_md.renderInline(inline)), inline))
    return found
