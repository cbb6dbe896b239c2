"""A web page cut down to what the page extractor reads in bounded time.

trafilatura's time grows faster than the page (a page of 40,000 table cells took 6 s, one of
10 MB of links over 5 minutes), while a saved page may be 10 MB, mostly scripts and styles.
:func:`trim_page` parses the page once (libxml2 stops nesting at 256 levels), drops what the
extractor would drop anyway (scripts, styles, embedded media and pictures in code; JSON-LD
metadata is kept unless it is huge), drops attribute values (and a title) too long to be a link
or a description, and cuts the page after :data:`MAX_ELEMENTS` elements or :data:`MAX_TEXT`
characters. Pure: no I/O.
"""
from __future__ import annotations

import lxml.html
import trafilatura
from lxml.html import HtmlElement

from .content import MAX_BYTES

#: Most elements of a page handed to the extractor. An article's page has a few thousand, a long
#: manual page 15,000 (read in 1 to 2 s); hostile pages of this many take as long.
MAX_ELEMENTS = 10_000
#: Most characters of text and attribute values handed to the extractor: an article's limit.
MAX_TEXT = MAX_BYTES
#: Longest attribute value kept (a link, a description); longer ones are dropped.
MAX_ATTRIBUTE = 4_000
#: Longest JSON-LD metadata block kept (characters; real ones take a few thousand).
MAX_JSON_LD = 100_000
#: Elements dropped with everything inside them: the extractor reads no text in them.
DROPPED = frozenset({
    "script", "style", "noscript", "svg", "math", "iframe", "object", "embed", "canvas", "audio",
    "video",
})
_METADATA_TYPES = ("application/ld+json", "application/settings+json")  # as the extractor reads them


def trim_page(html: str | bytes) -> tuple[str | bytes, bool]:
    """``html`` as the extractor should see it, and whether it had to be cut (past
    :data:`MAX_ELEMENTS` elements or :data:`MAX_TEXT` characters; dropping code, styles and
    overlong attribute values is not a cut). Text that is not HTML is returned as it is."""
    root = trafilatura.load_html(html)
    if root is None:
        return html, False
    cut = _cut(root)
    return lxml.html.tostring(root, encoding="unicode"), cut


def _cut(root: HtmlElement) -> bool:
    """Drop code and overlong attribute values from ``root``, then everything past the limits
    (in document order); True if anything past the limits was dropped."""
    doomed: list[HtmlElement] = []
    inside: set[HtmlElement] = set()  # doomed elements and those inside them, not counted
    room, count, cut = MAX_TEXT, 0, False
    for el in root.iter():
        if el.getparent() in inside or not isinstance(el.tag, str) or el.tag in DROPPED and not _metadata(el):
            inside.add(el)
            if el.getparent() not in inside:
                doomed.append(el)
            continue
        count += 1
        if count > MAX_ELEMENTS:
            _drop_after(el, root, with_el=True)
            cut = True
            break
        room -= _attribute_room(el)
        if el.tag == "title" and len(el.text or "") > MAX_ATTRIBUTE:
            el.text = None  # no title, rather than no page: the body is not cut for it
        text, tail = el.text or "", el.tail or ""
        if len(text) + len(tail) > room:
            el.text, el.tail = text[:max(room, 0)], tail[:max(room - len(text), 0)]
            _drop_after(el, root, with_el=False)
            cut = True
            break
        room -= len(text) + len(tail)
    for el in doomed:
        el.drop_tree()  # its tail stays
    return cut


def _metadata(el: HtmlElement) -> bool:
    """A JSON-LD (or settings) metadata block of a reasonable size: the extractor reads the
    author and date there."""
    return el.tag == "script" and el.get("type") in _METADATA_TYPES and len(el.text or "") <= MAX_JSON_LD


def _attribute_room(el: HtmlElement) -> int:
    """Drop ``el``'s attribute values over :data:`MAX_ATTRIBUTE`; the characters of the rest."""
    used = 0
    for name, value in el.attrib.items():
        if len(value) > MAX_ATTRIBUTE:
            del el.attrib[name]
        else:
            used += len(name) + len(value)
    return used


def _drop_after(el: HtmlElement, root: HtmlElement, *, with_el: bool) -> None:
    """Remove everything after ``el``'s text in document order (``el`` too, ``with_el``): its
    children, the siblings after it and after each of its ancestors, and those ancestors' tails.
    Slices are deleted in one go (a million siblings looked at one by one took seconds)."""
    if not with_el:
        del el[:]
    node = el
    while node is not root and (parent := node.getparent()) is not None:
        index = parent.index(node)
        del parent[index if node is el and with_el else index + 1:]  # with their tails
        if node is not el:
            node.tail = None
        node = parent
