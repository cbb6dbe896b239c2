"""Web pages as articles: the main text found by trafilatura, the rest from the page's metadata.

:func:`extract_page` is pure (HTML in, :class:`~newsletter.article_file.NewArticle` out):
trafilatura finds the article's text (dropping menus, banners, footers and comments) and reads
title, author, date, description and lead image from OpenGraph, JSON-LD and meta tags, in the
page as :mod:`newsletter.page_trim` leaves it (its time bounded however big the page).
:func:`import_page` fetches a URL (or reads a saved ``.html`` file) with the limits of
:mod:`newsletter.fetch` and writes the article into the content folder.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import lxml.html
import trafilatura

from . import article_file
from .article_file import NewArticle, html_to_text
from .config import Config
from .content import cut_excerpt, safe_image, safe_link
from .errors import InputError
from .fetch import fetch, is_web_url
from .page_trim import MAX_ATTRIBUTE, MAX_ELEMENTS, MAX_TEXT, trim_page

#: Fewest words of main text a page needs to be an article (a menu alone is not one).
MIN_WORDS = 10
#: Longest title, author or tag taken from a page (characters; longer ones are cut at a word).
MAX_FIELD = 300
#: Longest line before the headline taken for a label (section name, kicker) and dropped.
_LABEL_WORDS = 8
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


def extract_page(html: str | bytes, url: str = "", warnings: list[str] | None = None) -> NewArticle:
    """The article in a web page (``url``: where it came from, for relative links).

    The page's canonical URL (when it states one) wins over ``url``. A page without any
    recognisable article text is an :class:`InputError`. The extractor reads the page as
    :func:`~newsletter.page_trim.trim_page` leaves it; when that had to cut the page, a sentence
    saying so is added to ``warnings``. Title, author and tags are cut at :data:`MAX_FIELD`.
    """
    if not (html.strip() if isinstance(html, str) else html.strip()):
        raise InputError(f"{url or 'page'}: the page is empty")
    html, cut = trim_page(html)
    if cut and warnings is not None:
        warnings.append(f"The page is too big to read whole: it was cut after {MAX_ELEMENTS:,} elements "
                        f"or {MAX_TEXT / 1e6:g} MB of text.")
    meta = trafilatura.extract_metadata(html, default_url=url or None)
    page_url = _fits(safe_link(getattr(meta, "url", "") or "", url) or (url if is_web_url(url) else ""))
    body = _main_text(html, page_url)
    text = html_to_text(body)
    if len(text.split()) < MIN_WORDS:
        raise InputError(f"{url or 'page'}: no article text found in the page")
    title = _short(getattr(meta, "title", "") or "") or _short(_first_heading(body)) or " ".join(text.split()[:10])
    body = _without_headline(body, title)
    description = html_to_text(getattr(meta, "description", "") or "")
    return NewArticle(
        title=title,
        date=_date(getattr(meta, "date", None)),
        author=_short(", ".join(a.strip() for a in (getattr(meta, "author", "") or "").split(";") if a.strip())),
        excerpt=cut_excerpt([description or text])[0],
        url=page_url,
        image=_fits(safe_image(getattr(meta, "image", "") or "", page_url)),
        tags=[_short(t) for t in (getattr(meta, "tags", None) or []) if t.strip()][:10],
        body_html=body,
        base=page_url,
    )


def _short(text: str) -> str:
    """``text`` with its white space collapsed, cut at a word to at most :data:`MAX_FIELD`."""
    text = " ".join(text[:MAX_FIELD * 4].split())
    return text if len(text) <= MAX_FIELD else text[:MAX_FIELD - 1].rsplit(" ", 1)[0] + "…"


def _fits(link: str) -> str:
    """``link``, or "" when it is too long to be one (:data:`~newsletter.page_trim.MAX_ATTRIBUTE`)."""
    return link if len(link) <= MAX_ATTRIBUTE else ""


def _main_text(html: str | bytes, url: str) -> str:
    """The article's body as HTML, or "" when trafilatura finds none."""
    options = dict(url=url or None, output_format="html", include_images=True, include_links=True,
                   include_formatting=True, include_tables=True, include_comments=False)
    found = trafilatura.extract(html, **options) or trafilatura.extract(html, favor_recall=True, **options)
    return found or ""


def _first_heading(body_html: str) -> str:
    root = lxml.html.fromstring(body_html)
    for heading in root.iter("h1", "h2"):
        text = " ".join(heading.text_content().split())
        if text:
            return text
    return ""


def _without_headline(body_html: str, title: str) -> str:
    """The body without its headline (a heading reading as the title) and the short labels
    before it (section name, kicker); pictures before it stay."""
    root = lxml.html.fragment_fromstring(body_html, create_parent="div")
    wanted = _words(title)
    for heading in root.iter("h1", "h2"):
        if _words(heading.text_content()) != wanted:
            continue
        ahead = [el for el in heading.itersiblings(preceding=True)]
        if all(el.tag == "img" or len(el.text_content().split()) <= _LABEL_WORDS for el in ahead):
            for el in ahead:
                if el.tag != "img" and not el.xpath(".//img"):
                    el.drop_tree()
            heading.drop_tree()
            return lxml.html.tostring(root, encoding="unicode")
        break
    return body_html


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _date(value) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)[:10]).date()
    except ValueError:
        return None


def import_page(config: Config, source: str, today: date) -> Path:
    """Fetch (or read) ``source`` and write its article into the content folder; its path."""
    if not is_web_url(source) and Path(source).suffix.lower() not in (".html", ".htm", ".xhtml"):
        raise InputError(f"{source}: not an .html file or an http(s) URL")
    got = fetch(source, timeout=config["fetch"]["timeout"], max_bytes=config["fetch"]["max_bytes"],
                accept=PAGE_ACCEPT)
    article = extract_page(got.body, got.url if is_web_url(got.url) else "")
    return article_file.write(config.content_dir, article, today)
