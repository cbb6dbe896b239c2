"""Raw HTML reduced to a safe allowlist, as plain-data pieces the article parser turns into blocks.

Markdown is rendered to HTML by pulldown-cmark (raw HTML passes through), then walked here with lxml:
block elements become :class:`Piece` objects (heading, paragraph, list, quote, image, rule);
inline content keeps only ``a, strong, em, b, i, code, br``. Dropped with their content:
script, style, iframe, form, object, embed and the like; ``on*``/``style`` attributes never
survive because only ``href`` (on ``a``) is ever written out. Links must be absolute
``http(s)``/``mailto`` (relative ones are resolved against the article's ``url``, else kept as
text); images must be absolute ``http(s)`` (relative ones resolved the same way, else dropped).
An image becomes an image piece after the block it was met in; inside running text its alt text
stays in place, as a reader without the picture would read it (an image alone in a paragraph
leaves no paragraph behind; alt text is not kept in headings).
Every drop worth knowing about is reported as a short warning sentence.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from .html_repair import repair

#: Inline tags kept as they are (without attributes, except ``href`` on ``a``).
INLINE_TAGS = frozenset({"a", "strong", "em", "b", "i", "code", "br"})
#: Elements removed together with everything inside them.
DROP_TAGS = frozenset({
    "script", "style", "iframe", "frame", "frameset", "form", "object", "embed", "applet",
    "noscript", "template", "svg", "math", "button", "input", "select", "textarea", "canvas",
    "audio", "video", "head", "title", "meta", "link", "base", "nav", "dialog", "portal",
})
#: Of those, the ones a reader would miss or an attacker would plant: dropping them is reported.
_REPORTED_DROPS = frozenset(DROP_TAGS - {"head", "title", "meta", "link", "base", "nav"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_CONTAINERS = frozenset({
    "div", "section", "article", "main", "header", "footer", "aside", "body", "html", "center",
    "figure", "details", "table", "thead", "tbody", "tfoot", "dl", "hgroup", "picture",
})
_PARAGRAPHS = frozenset({"p", "figcaption", "summary", "address", "dt", "dd", "caption", "tr", "li"})
_MAX_DEPTH = 40  # deeper nesting is flattened to text (no recursion blow-up on hostile input)
_WS = re.compile(r"\s+")
_DASH_LINE = re.compile(r"^\s*(?:—|―|–|--)\s*(\S.{0,80})$")
_ALT_OPEN, _ALT_CLOSE = "\ue000", "\ue001"  # mark an image's alt text inside inline content
_ALT = re.compile("\ue000[^\ue001]*\ue001")


@dataclass
class Piece:
    """A block found in HTML; ``text``/``html`` are the plain and safe-inline forms."""

    kind: str
    text: str = ""
    html: str = ""
    level: int = 2
    items: list[tuple[str, str]] = field(default_factory=list)
    ordered: bool = False
    src: str = ""
    alt: str = ""
    cite: str = ""


def safe_link(url: str, base: str = "") -> str:
    """``url`` as an absolute http(s)/mailto URL (resolved against ``base``), or "" if it can't be."""
    url = (url or "").strip()
    if not url or url.startswith("#"):
        return ""
    scheme = urlsplit(url).scheme.lower() if ":" in url else ""
    if scheme == "mailto":
        return url if "@" in url else ""
    if url.startswith("//"):
        url, scheme = "https:" + url, "https"
    if not scheme:
        if not _is_web(base):
            return ""
        url = urljoin(base, url)
        scheme = urlsplit(url).scheme.lower()
    return url if scheme in ("http", "https") and urlsplit(url).netloc else ""


def safe_image(src: str, base: str = "") -> str:
    """``src`` as an absolute http(s) image URL, or "" (data:, javascript:, unresolvable)."""
    link = safe_link(src, base)
    return "" if link.startswith("mailto:") else link


def _is_web(url: str) -> bool:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _unsafe_scheme(url: str) -> str:
    """The scheme name of a dangerous URL (javascript, data, vbscript, ...), else ""."""
    compact = re.sub(r"[\s\x00-\x1f]+", "", url or "").lower()
    match = re.match(r"([a-z][a-z0-9+.-]*):", compact)
    if match and match.group(1) not in ("http", "https", "mailto"):
        return match.group(1)
    return ""


class _Walker:
    def __init__(self, base: str) -> None:
        self.base = base if _is_web(base) else ""
        self.warnings: list[str] = []
        self._warned: set[str] = set()  # the same, for a membership test that stays quick
        self.pieces: list[Piece] = []
        self.images: list[Piece] = []  # images met inside inline content, emitted after it

    def warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.warnings.append(message)

    # -- inline -------------------------------------------------------------------------
    def inline(self, el: HtmlElement, depth: int = 0, skip: Collection[HtmlElement] = ()) -> tuple[str, str]:
        """Plain text and safe HTML of ``el``'s content (``el.text`` and children but ``skip``).

        Whitespace runs become one space; ``<br>`` is the only newline of the plain text.
        """
        texts: list[str] = []
        htmls: list[str] = []
        _add_text(el.text, texts, htmls)
        for child in el:
            if child not in skip:
                t, h = self._inline_element(child, depth + 1)
                texts.append(t)
                htmls.append(h)
            _add_text(child.tail, texts, htmls)
        return "".join(texts), "".join(htmls)

    def _inline_element(self, el: HtmlElement, depth: int) -> tuple[str, str]:
        if not isinstance(el.tag, str):
            return "", ""  # comments, processing instructions
        tag = el.tag.lower()
        if tag in DROP_TAGS:
            self._dropped(tag)
            return "", ""
        if tag == "img":
            alt = self._image(el)
            return f"{_ALT_OPEN}{alt}{_ALT_CLOSE}", f"{_ALT_OPEN}{escape(alt)}{_ALT_CLOSE}"
        if tag == "br":
            return "\n", "<br>"
        if depth > _MAX_DEPTH:
            text = _WS.sub(" ", el.text_content())
            return text, escape(text)
        if tag in ("ul", "ol"):  # a list inside inline content: items run on
            parts = [self.inline(li, depth) for li in el if isinstance(li.tag, str)]
            return " ".join(p[0] for p in parts), " ".join(p[1] for p in parts)
        text, html = self.inline(el, depth)
        if tag == "a":
            return self._link(el.get("href", ""), text, html)
        if tag == "pre":
            return text, f"<code>{escape(el.text_content())}</code>"
        if tag in INLINE_TAGS:
            return text, f"<{tag}>{html}</{tag}>" if text.strip() else html
        if tag in _HEADINGS or tag in _PARAGRAPHS or tag in _CONTAINERS or tag == "blockquote":
            return f" {text} ", f" {html} "  # a block inside inline content: keep words apart
        return text, html  # unknown inline element (span, font, u, ...): keep its content

    def _link(self, href: str, text: str, html: str) -> tuple[str, str]:
        href = href.strip()
        if not _ALT.sub("", text).strip():
            text, html = "", ""  # a linked image: the link shows its URL, the image follows
        url = safe_link(href, self.base)
        if not url:
            scheme = _unsafe_scheme(href)
            if scheme:
                self.warn(f"Removed a {scheme}: link (kept its text).")
            elif href and not href.startswith("#"):
                self.warn(f"Link {href[:60]!r} is relative and the article has no url; kept as text.")
            return text, html
        label = _WS.sub(" ", text).strip()
        shown = url[7:] if url.startswith("mailto:") else url
        plain = label if not label or shown in label else f"{label} ({shown})"
        return plain or shown, f'<a href="{escape(url, quote=True)}">{html or escape(shown)}</a>'

    def _image(self, el: HtmlElement) -> str:
        """Queue the image piece (if its URL is usable); returns its alt text."""
        src = (el.get("src") or "").strip()
        alt = _WS.sub(" ", el.get("alt") or "").replace(_ALT_OPEN, "").replace(_ALT_CLOSE, "").strip()
        url = safe_image(src, self.base)
        if not url:
            if src:
                what = src[:60] if not src.startswith("data:") else "data: URI"
                self.warn(f"Dropped image {what!r}: not an absolute http(s) URL"
                          + (" and the article has no url." if not self.base else "."))
            return alt
        self.images.append(Piece("image", src=url, alt=alt))
        return alt

    def _dropped(self, tag: str) -> None:
        if tag in _REPORTED_DROPS:
            self.warn(f"Removed <{tag}> from the article's HTML.")

    # -- blocks -------------------------------------------------------------------------
    def blocks(self, el: HtmlElement, depth: int = 0) -> None:
        """Walk a container: block children become pieces, loose inline content paragraphs."""
        loose_t: list[str] = []
        loose_h: list[str] = []

        def flush() -> None:
            self._paragraph("".join(loose_t), "".join(loose_h))
            loose_t.clear()
            loose_h.clear()

        _add_text(el.text, loose_t, loose_h)
        for child in el:
            tag = child.tag.lower() if isinstance(child.tag, str) else ""
            if tag in _HEADINGS or tag in _PARAGRAPHS or tag in _CONTAINERS or tag in (
                "ul", "ol", "blockquote", "hr", "pre"
            ):
                flush()
                self._block(child, tag, depth + 1)
            else:
                t, h = self._inline_element(child, depth + 1)
                loose_t.append(t)
                loose_h.append(h)
            _add_text(child.tail, loose_t, loose_h)
        flush()

    def _block(self, el: HtmlElement, tag: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            text = _WS.sub(" ", el.text_content())
            self._paragraph(text, escape(text))
        elif tag in _HEADINGS:
            text, html = _alt_text(*self.inline(el, depth), keep=False)
            text, html = _squash(text), _squash_html(html)
            if text:
                self.pieces.append(Piece("heading", text, html, level=_HEADINGS[tag]))
            self._flush_images()
        elif tag in ("ul", "ol"):
            items: list[tuple[str, str]] = []
            self._items(el, items, depth)
            if items:
                self.pieces.append(Piece("list", items=items, ordered=tag == "ol"))
            self._flush_images()
        elif tag == "blockquote":
            self._quote(el, depth)
        elif tag == "hr":
            self.pieces.append(Piece("rule"))
        elif tag == "pre":
            code = el.text_content().strip("\n")
            if code.strip():
                lines = [escape(line) for line in code.split("\n")]
                self.pieces.append(Piece("paragraph", code, "<code>" + "<br>".join(lines) + "</code>"))
        elif tag in _PARAGRAPHS and tag != "tr":
            text, html = self.inline(el, depth)
            self._paragraph(text, html)
        elif tag == "tr":
            cells = [_alt_text(*self.inline(c, depth)) for c in el if isinstance(c.tag, str)]
            cells = [(_squash(t), _squash_html(h)) for t, h in cells if t.strip()]
            self._paragraph(" | ".join(c[0] for c in cells), " | ".join(c[1] for c in cells))
        else:
            self.blocks(el, depth)

    def _items(self, el: HtmlElement, items: list[tuple[str, str]], depth: int) -> None:
        for li in el:
            if not isinstance(li.tag, str):
                continue
            nested = [c for c in li if isinstance(c.tag, str) and c.tag.lower() in ("ul", "ol")]
            text, html = _alt_text(*self.inline(li, depth, skip=nested))
            text, html = _squash(text), _squash_html(html)
            if text:
                items.append((text, html))
            for sub in nested:
                if depth < _MAX_DEPTH:
                    self._items(sub, items, depth + 1)

    def _quote(self, el: HtmlElement, depth: int) -> None:
        inner = _Walker(self.base)
        inner.blocks(el, depth)
        for message in inner.warnings:
            self.warn(message)
        texts: list[str] = []
        htmls: list[str] = []
        cite = ""
        for piece in inner.pieces:
            if piece.kind == "list":
                texts += [t for t, _ in piece.items]
                htmls += [h for _, h in piece.items]
            elif piece.kind == "image":
                self.images.append(piece)
            elif piece.text:
                texts.append(piece.text)
                htmls.append(piece.html)
        cites = el.xpath(".//cite|.//footer")
        if texts and (match := _DASH_LINE.match(texts[-1])):
            cite = match.group(1).strip()
            texts.pop()
            htmls.pop()
        elif cites:
            cite = _squash(cites[-1].text_content()).lstrip("—–- ")
            if texts and _squash(texts[-1]).lstrip("—–- ") == cite:
                texts.pop()
                htmls.pop()
        if texts:
            self.pieces.append(Piece("quote", "\n".join(texts), "<br>".join(htmls), cite=cite))
        self._flush_images()

    def _paragraph(self, text: str, html: str) -> None:
        text, html = _alt_text(text, html)
        text, html = _squash(text), _squash_html(html)
        if text:
            self.pieces.append(Piece("paragraph", text, html))
        self._flush_images()

    def _flush_images(self) -> None:
        self.pieces.extend(self.images)
        self.images.clear()


def _alt_text(text: str, html: str, keep: bool = True) -> tuple[str, str]:
    """Inline content with its images' alt text in place (``keep``) or left out; content made
    of images only comes back empty (the image pieces carry it)."""
    if not keep or not _ALT.sub("", text).strip():
        text, html = _ALT.sub("", text), _ALT.sub("", html)
    strip = str.maketrans("", "", _ALT_OPEN + _ALT_CLOSE)
    return text.translate(strip), html.translate(strip)


def _squash(text: str) -> str:
    """Trim and tidy plain text whose whitespace runs were already collapsed (``\n`` = ``<br>``)."""
    return re.sub(r" *\n *", "\n", re.sub(r" {2,}", " ", text)).strip()


def _add_text(text: str | None, texts: list[str], htmls: list[str]) -> None:
    if text:
        text = _WS.sub(" ", text).replace(_ALT_OPEN, "").replace(_ALT_CLOSE, "")
        texts.append(text)
        htmls.append(escape(text))


def _squash_html(html: str) -> str:
    html = _WS.sub(" ", html).strip()
    return strip_breaks(re.sub(r"\s*<br>\s*", "<br>", html))


def strip_breaks(html: str, *, leading: bool = True) -> str:
    """``html`` without the ``<br>`` tags and whitespace at its end (and, with ``leading``, at its
    start). A loop, not a regex: ``(?:<br>)+$`` rescans a long run of breaks from each of them."""
    start, end = 0, len(html)
    while True:
        while end > start and html[end - 1].isspace():
            end -= 1
        if not html.endswith("<br>", start, end):
            break
        end -= 4
    while leading:
        while start < end and html[start].isspace():
            start += 1
        if not html.startswith("<br>", start, end):
            break
        start += 4
    return html[start:end]


def _fragment(html: str) -> HtmlElement | None:
    try:
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


def html_to_pieces(html: str, base: str = "") -> tuple[list[Piece], list[str]]:
    """Block pieces and warnings for an HTML fragment (e.g. Markdown rendered with raw HTML on).

    ``base`` is the article's absolute URL, used to resolve relative links and images.
    """
    walker = _Walker(base)
    html, repaired = repair(html, DROP_TAGS)
    for message in repaired:
        walker.warn(message)
    root = _fragment(html)
    if root is not None:
        walker.blocks(root)
    return walker.pieces, walker.warnings
