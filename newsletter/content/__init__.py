"""Articles: the model every renderer reads, and the readers that build it from files.

Three formats, chosen by content rather than extension: Markdown with YAML (``---``) or TOML
(``+++``) front matter, a saved web page (``.html``, or text starting ``<html``), and plain
text as copied from a web page. Readers never crash on messy input: they produce the best
article they can and list what was doubtful in ``Article.warnings`` (short sentences). Input
that cannot be an article at all raises :class:`ContentError` naming the file (and line, for
front matter): a missing, empty or binary file, text that is neither UTF-8 nor clean
Windows-1252, a file over :data:`MAX_BYTES` (1 MB: a long article is ~50 KB;
:data:`HTML_MAX_BYTES`, 10 MB, for a saved page), or text without a recoverable title.

Modules: :mod:`.model` (the article), :mod:`.files` (reading files and the folder, the only
I/O), :mod:`.parse` (format choice and what the readers share), :mod:`.frontmatter` and
:mod:`.markdown` (the Markdown reader), :mod:`.sanitize` (its HTML allowlist, and the link
and image URL rules the page importers share), :mod:`.saved_page` (saved pages, through the
page extractor), :mod:`.page` and :mod:`.page_patterns` (the copied-web-page reader),
:mod:`.text` and :mod:`.template_code` (helpers the readers share).
"""
from __future__ import annotations

from ..errors import ContentError, InputError
from .files import load_article, load_articles, load_articles_report, resolve
from .frontmatter import FRONT_MATTER_KEYS
from .model import (
    ARTICLE_SUFFIXES,
    EXCERPT_MAX,
    HTML_MAX_BYTES,
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    MAX_BYTES,
    WORDS_PER_MINUTE,
    Article,
    Block,
    Inline,
    Quote,
    slug_for,
)
from .parse import parse_text
from .sanitize import safe_image, safe_link
from .text import cut_excerpt, find_date

__all__ = [
    "ARTICLE_SUFFIXES", "EXCERPT_MAX", "FRONT_MATTER_KEYS", "HTML_MAX_BYTES", "HTML_SUFFIXES",
    "MARKDOWN_SUFFIXES", "MAX_BYTES", "WORDS_PER_MINUTE", "Article", "Block", "ContentError",
    "Inline", "InputError", "Quote", "cut_excerpt", "find_date", "load_article", "load_articles",
    "load_articles_report", "parse_text", "resolve", "safe_image", "safe_link", "slug_for",
]
