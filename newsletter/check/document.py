"""An email's HTML, parsed and walked: each element with its inline style and what it inherits.

The walk is what the HTML rules read: the colours and text size an element's text ends up with
(for contrast), whether it is hidden, and the text a reader sees.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from .contrast import RGB, parse_color
from .css import parse_declarations

#: elements whose content a reader never sees as text
HIDDEN_TAGS = {"head", "style", "script", "title", "template", "noscript"}
_HEADING_SIZES = {"h1": 2.0, "h2": 1.5, "h3": 1.17, "h4": 1.0, "h5": 0.83, "h6": 0.67}
_BLOCK_TAGS = ("br", "p", "div", "td", "th", "tr", "li", "h1", "h2", "h3", "h4")
_LINK_BLUE = (0, 0, 238)  # what clients colour a link that sets no colour of its own
_DOCTYPE = re.compile(r"\ufeff?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<!DOCTYPE\s+html[^>]*>",
                      re.I | re.S)


@dataclass(frozen=True)
class Inherited:
    """What an element's text gets from it and its ancestors: colour, background (None: an
    image, colours unknown), size in px, weight, and whether it is hidden."""

    color: RGB | None = (0, 0, 0)
    background: RGB | None = (255, 255, 255)
    size: float = 16.0
    bold: bool = False
    hidden: bool = False


class WalkedElement(NamedTuple):
    """An element of the document, its inline style and what it inherits."""

    element: HtmlElement
    style: dict[str, str]
    inherited: Inherited


@dataclass
class EmailDocument:
    """A parsed email HTML: the tree, the doctype as written, Outlook-only comments, style
    sheets, and (after :func:`walk`) every element in document order."""

    root: HtmlElement
    doctype: str
    mso_comments: str
    styles: list[str]
    elements: list[WalkedElement] = field(default_factory=list)


def parse_html(html: str | bytes) -> EmailDocument:
    """The document, walked; a document that cannot be parsed reads as an empty one."""
    data = html.encode("utf-8", "replace") if isinstance(html, str) else html
    try:
        root = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError):
        root = lxml.html.document_fromstring(b"<html><body></body></html>")
    head = data[:2048].decode("utf-8", "replace")
    m = _DOCTYPE.match(head)  # lxml invents a doctype when there is none: read the source
    doctype = m.group(0).strip() if m else ""
    comments = [c.text or "" for c in root.iter(etree.Comment)]
    mso = "\n".join(c for c in comments if re.match(r"\s*\[if [^\]]*mso", c, re.I))
    styles = [s.text_content() for s in root.iter("style")]
    doc = EmailDocument(root, doctype, mso, styles)
    doc.elements = walk(root)
    return doc


def walk(root: HtmlElement) -> list[WalkedElement]:
    """Each element with its style and inherited context, in document order."""
    elements = []
    stack = [(root, Inherited())]
    while stack:
        el, parent = stack.pop()
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        style = dict(parse_declarations(el.get("style") or ""))
        inherited = _inherit(el, tag, style, parent)
        elements.append(WalkedElement(el, style, inherited))
        if tag in HIDDEN_TAGS and tag != "head":
            continue  # their content is code or a title, not elements
        for child in reversed(el):
            stack.append((child, inherited))
    return elements


def visible_text(doc: EmailDocument) -> str:
    """The text a reader sees: no head, no hidden elements, no MSO-only comments."""
    parts: list[str] = []

    def visit(el: HtmlElement, hidden: bool) -> None:
        if not isinstance(el.tag, str):
            if el.tail and not hidden:
                parts.append(el.tail)
            return
        tag = el.tag.lower()
        style = (el.get("style") or "").lower().replace(" ", "")
        hide = (hidden or tag in HIDDEN_TAGS or "display:none" in style
                or el.get("hidden") is not None)
        if not hide and el.text:
            parts.append(el.text)
        if not hide and tag in _BLOCK_TAGS:
            parts.append(" ")
        for child in el:
            visit(child, hide)
        if el.tail and not hidden:
            parts.append(el.tail)

    visit(doc.root, False)
    return " ".join(parts)


def direct_text(el: HtmlElement) -> str:
    """The element's own text, without its children's (but with the text between them)."""
    parts = [el.text or ""] + [child.tail or "" for child in el]
    return " ".join(p.strip() for p in parts if p and p.strip())


def _inherit(el: HtmlElement, tag: str, style: dict[str, str], parent: Inherited) -> Inherited:
    bold = parent.bold or tag in ("b", "strong", "th") or tag in _HEADING_SIZES
    weight = style.get("font-weight", "").strip().lower()
    if weight:
        bold = weight in ("bold", "bolder") or (weight.isascii() and weight.isdigit() and int(weight) >= 600)
    compact = re.sub(r"\s+", "", (el.get("style") or "").lower())
    hidden = (parent.hidden or tag == "head" or "display:none" in compact
              or el.get("hidden") is not None)
    return Inherited(_text_color(el, tag, style, parent.color),
                     _background(el, style, parent.background),
                     _text_size(tag, style, parent.size), bold, hidden)


def _text_color(el: HtmlElement, tag: str, style: dict[str, str],
                inherited: RGB | None) -> RGB | None:
    color = inherited
    if tag == "a" and el.get("href"):
        color = _LINK_BLUE
    if el.get("color") and tag == "font":
        color = parse_color(el.get("color")) or color
    if "color" in style:
        color = parse_color(style["color"]) or color
    return color


def _background(el: HtmlElement, style: dict[str, str], inherited: RGB | None) -> RGB | None:
    """The background colour behind the element's text; None behind an image."""
    if style.get("background-image") or el.get("background") or re.search(
            r"url\(|gradient\(", style.get("background", ""), re.I):
        return None  # an image: its colours are unknown
    value = style.get("background-color") or style.get("background") or el.get("bgcolor")
    if not value:
        return inherited
    color = _first_color(value)
    return inherited if color is None or color == "transparent" else color


def _first_color(value: str) -> RGB | str | None:
    """The first colour in a background value, "transparent" for none, None when unknown."""
    low = value.strip().lower()
    if low in ("transparent", "none", "inherit", "initial"):
        return "transparent"
    for token in re.findall(r"rgba?\([^)]*\)|#[0-9a-f]{3,8}\b|[a-z]+", low):
        color = parse_color(token)
        if color is not None:
            return color
    return None


def _text_size(tag: str, style: dict[str, str], inherited: float) -> float:
    size = inherited
    if tag in _HEADING_SIZES:
        size = inherited * _HEADING_SIZES[tag]
    if "font-size" in style:
        size = _font_size(style["font-size"], inherited)
    return size


def _font_size(value: str, inherited: float) -> float:
    m = re.match(r"\s*(\d*\.?\d+)\s*(px|pt|em|rem|%)?", value.lower())
    if not m:
        return {"small": 13.0, "x-small": 10.0, "large": 18.0, "x-large": 24.0,
                "xx-large": 32.0}.get(value.strip().lower(), inherited)
    number, unit = float(m.group(1)), m.group(2) or "px"
    return {"px": number, "pt": number * 4 / 3, "em": number * inherited,
            "rem": number * 16, "%": number * inherited / 100}[unit]
