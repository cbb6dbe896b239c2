"""The saved-web-page reader: an ``.html`` file (or text starting ``<html``) in the content folder.

The page's article is found by the page extractor (:func:`newsletter.extract.extract_page`:
trafilatura and the page's metadata, as ``articles import`` does), written out as an article
file would be, and read by the Markdown reader; a page too big to read whole is cut (see
:mod:`newsletter.page_trim`), with a warning. Pure: no I/O.
"""
from __future__ import annotations

import re

from ..errors import ContentError, InputError
from .markdown import parse_markdown
from .model import Article

#: Text that is a whole web page: comments, then a doctype or an ``<html`` tag. Each comment is
#: taken once (possessively): comments with no page after them are not tried again split up
#: other ways (30 empty comments before a line of text took minutes).
_HTML_START = re.compile(r"\s*+(?:<!--.*?-->\s*+)*+<(?:!doctype\s+html|html)[\s>]", re.I | re.S)


def is_saved_page(text: str) -> bool:
    """``text`` starts like a whole web page (``<!doctype html>`` or ``<html>``, after comments)."""
    return _HTML_START.match(text) is not None


def parse_saved_page(text: str, article: Article, where: str, name: str) -> None:
    """Fill ``article`` from a saved web page; :class:`ContentError` when no article text is
    found in it (a page of menus, an empty page)."""
    from ..article_file import render  # both import this package: imported when first used
    from ..extract import extract_page

    notes: list[str] = []
    try:
        found = extract_page(text, warnings=notes)
    except InputError:
        raise ContentError(f"{where}: no article text found in the page") from None
    parse_markdown(render(found), article, where, name)
    article.warnings[:0] = notes
