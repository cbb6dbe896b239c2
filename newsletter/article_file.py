"""Writing a new article file into the content folder, from fields found in a feed or a page.

The file is Markdown with YAML front matter (keys the article reader knows) and, as its body,
the source's HTML as one raw HTML block: links and images made absolute, comments dropped, no
blank line inside (so Markdown leaves it whole). The reader reduces it to its safe allowlist
like any raw HTML in an article. :func:`render` is pure; :func:`write` picks a free file name
``YYYY-MM-DD-<slug>.md`` and never overwrites a file.
"""
from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path

import lxml.html
import yaml
from lxml import etree

from .content import safe_image, safe_link, slug_for
from .errors import InputError

#: Longest slug made from a title (characters; cut at a word boundary).
SLUG_MAX = 60
_LINK_ATTRS = {"a": "href", "img": "src"}
#: Attributes kept in a written body (the reader uses no others: class, style, on* go).
_KEPT_ATTRS = {"a": ("href",), "img": ("src", "alt"), "td": ("colspan",), "th": ("colspan",)}


@dataclass
class NewArticle:
    """An article about to be written; every field optional but the title."""

    title: str
    date: date | None = None
    author: str = ""
    excerpt: str = ""
    url: str = ""
    image: str = ""
    image_alt: str = ""
    tags: list[str] = field(default_factory=list)
    body_html: str = ""
    base: str = ""  # what relative links in body_html are relative to (default: url)


def slugify(title: str) -> str:
    """A file-name-safe slug: ASCII letters, digits and hyphens, at most :data:`SLUG_MAX` long."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().replace("'", "")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX + 1].rsplit("-", 1)[0] if "-" in slug[:SLUG_MAX + 1] else slug[:SLUG_MAX]
    return slug.strip("-") or "article"


def html_to_text(html: str) -> str:
    """The visible text of an HTML fragment, entities decoded and white space collapsed."""
    if not html or not html.strip():
        return ""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return " ".join(html.split())
    for bad in root.xpath(".//script|.//style"):
        bad.drop_tree()
    return " ".join(root.text_content().split())


def text_to_html(text: str) -> str:
    """Plain text as HTML paragraphs (blank lines separate them)."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text or "")]
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs if p)


def html_block(html: str, base: str = "") -> str:
    """``html`` as one raw HTML block for a Markdown body (see module docstring), with only
    the attributes the reader uses."""
    if not html or not html.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    for comment in root.xpath(".//comment()|.//processing-instruction()"):
        comment.drop_tree()
    for element in root.iter(etree.Element):
        for name in list(element.attrib):
            if name not in _KEPT_ATTRS.get(element.tag, ()):
                del element.attrib[name]
        attr = _LINK_ATTRS.get(element.tag)
        value = element.get(attr) if attr else None
        if value is not None:
            absolute = (safe_image if element.tag == "img" else safe_link)(value, base)
            if absolute:
                element.set(attr, absolute)
            else:
                del element.attrib[attr]
    text = lxml.html.tostring(root, encoding="unicode")
    return re.sub(r"\n\s*\n", "\n", text).strip()


def render(article: NewArticle) -> str:
    """The file's text: front matter, a blank line, the body."""
    meta: dict = {"title": " ".join(article.title.split())}
    if article.date:
        meta["date"] = article.date
    for key in ("author", "excerpt", "url", "image", "image_alt"):
        value = " ".join(str(getattr(article, key) or "").split())
        if value:
            meta[key] = value
    if article.tags:
        meta["tags"] = [" ".join(t.split()) for t in article.tags if t.strip()]
    head = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    body = html_block(article.body_html, article.base or article.url)
    return f"---\n{head}---\n\n{body}\n" if body else f"---\n{head}---\n"


def write(folder: Path, article: NewArticle, today: date) -> Path:
    """Write ``article`` as a new file in ``folder``; returns its path.

    The name is ``YYYY-MM-DD-<slug>.md`` (the article's date, else ``today``); a slug already
    used in the folder gets ``-2``, ``-3``… An existing file is never overwritten.
    """
    day = article.date or today
    base = slugify(article.title)
    text = render(article).encode("utf-8")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        taken = {slug_for(name) for name in os.listdir(folder)}
        for n in range(1, 1000):
            slug = base if n == 1 else f"{base}-{n}"
            if slug in taken:
                continue
            path = folder / f"{day.isoformat()}-{slug}.md"
            if _publish(folder, path, text):
                return path
    except OSError as exc:
        raise InputError(f"{folder}: cannot write an article: {exc.strerror or exc}") from None
    raise InputError(f"{folder}: no free file name for {base!r}")


def _publish(folder: Path, path: Path, data: bytes) -> bool:
    """Write ``data`` to a hidden temporary file, then link it to ``path`` unless that exists.

    The article appears whole or not at all, and an existing file is never replaced.
    """
    fd, temp = tempfile.mkstemp(prefix=".new-", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temp)
