"""From an article's text to an :class:`Article`: tidy the text, choose the reader, finish up.

Three formats (see the README), chosen by content rather than extension: Markdown with YAML
(``---``) or TOML (``+++``) front matter (:mod:`.markdown`), a saved web page (``.html``, or
text starting ``<html``: :mod:`.saved_page`), and plain text as copied from a web page
(:mod:`.page`). Pure: no I/O.
"""
from __future__ import annotations

import math
import re
from datetime import date
from itertools import islice
from pathlib import Path

from ..errors import ContentError
from .frontmatter import front_matter_bounds
from .markdown import parse_markdown
from .model import DATE_PREFIX, HTML_SUFFIXES, MARKDOWN_SUFFIXES, WORDS_PER_MINUTE, Article, block_text, slug_for
from .page import parse_page
from .saved_page import is_saved_page, parse_saved_page
from .text import check_quotes, choose_quote, opening_excerpt

#: Longest list of warnings an article keeps (the last one says how many more there were).
MAX_WARNINGS = 30
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# White space ending a line, from where its run starts (each run is scanned once).
_TRAILING_SPACE = re.compile(r"(?<![^\S\n])[^\S\n]++$", re.M)

# Signs of each format: (pattern, weight); each pattern counts at most five times (the search
# stops there). Every pattern runs in linear time over the whole text: no run of characters can
# be scanned again from each of its positions (link text and URLs stop at brackets; whitespace
# runs are taken possessively).
_MD_SIGNS = (
    (re.compile(r"^#{1,6}[ \t]+\S", re.M), 3),
    (re.compile(r"^(?:```|~~~)", re.M), 3),
    (re.compile(r"!?\[[^\[\]\n]+\]\([^)\[\]\s]+\)"), 2),
    (re.compile(r"^\s{0,3}+<(?:h[1-6]|p|div|ul|ol|blockquote|img|table)\b", re.M | re.I), 2),
    (re.compile(r"^\s{0,3}+(?:[-*+]|\d+\.)[ \t]+\S", re.M), 1),
    (re.compile(r"^>[ \t]?\S", re.M), 1),
    (re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"), 1),
)
_PAGE_SIGNS = (
    (re.compile(r"^[^\S\n]*[•◦▪]\s", re.M), 2),
    (re.compile(r"^\d++\s*+-?\s*+min(?:ute)?s?\.?\s*read", re.M | re.I), 3),
    (re.compile(r"^[\d.,]++\s*+[km]?\s*+views?$", re.M | re.I), 2),
    (re.compile(r"^(?:about the )?author$|^related (?:articles|posts)$", re.M | re.I), 3),
    (re.compile(r"^by:?\s+[A-Z]", re.M), 1),
    (re.compile(r"^\?>$", re.M), 2),
    (re.compile(r"^(?:—|―)\s*\S", re.M), 1),
)


def parse_text(text: str, name: str, path: str | Path | None = None) -> Article:
    """Parse an article's text. ``name`` is its file name (slug, extension, date prefix).

    Raises only :class:`ContentError` (messages name ``path``, else ``name``).
    """
    where = str(path) if path is not None else name
    warnings: list[str] = []
    text = _normalize(text, warnings)
    if not text.strip():
        raise ContentError(f"{where}: empty file")
    suffix = Path(name).suffix.lower()
    fmt = detect_format(text, suffix)
    article = Article(slug=slug_for(name), path=Path(path) if path is not None else None,
                      format=fmt, title="", warnings=warnings)
    if fmt == "markdown":
        parse_markdown(text, article, where, name)
    elif fmt == "html":
        parse_saved_page(text, article, where, name)
    else:
        parse_page(text, article, where, name)
    _finish(article, name)
    return article


def detect_format(text: str, suffix: str) -> str:
    """"html" for a saved web page, "markdown" for front matter or Markdown-shaped text, else
    "text" (a page's text as copied)."""
    if suffix in HTML_SUFFIXES or is_saved_page(text):
        return "html"
    first = text.lstrip("\n").split("\n", 1)[0].strip()
    if first in ("---", "+++") and front_matter_bounds(text.lstrip("\n").split("\n")):
        return "markdown"
    if suffix not in MARKDOWN_SUFFIXES and not (text.startswith("#") or "\n#" in text):
        return "text"  # without a # heading only front matter makes a non-.md file Markdown
    md = sum(_count(p, text) * w for p, w in _MD_SIGNS)
    page = sum(_count(p, text) * w for p, w in _PAGE_SIGNS)
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown" if md and md >= page else "text"
    return "markdown" if md > page and _MD_SIGNS[0][0].search(text) else "text"


def _count(pattern: re.Pattern, text: str, most: int = 5) -> int:
    """How many times ``pattern`` matches ``text``, counting up to ``most``."""
    return sum(1 for _ in islice(pattern.finditer(text), most))


def _normalize(text: str, warnings: list[str]) -> str:
    """Unix line ends, no tabs, no invisible or control characters, no trailing spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub("[\u2028\u2029\x85\x0c]", "\n", text)
    text = text.replace("\t", "    ").replace("\u00a0", " ")
    text = re.sub("[\ufeff\u200b\u2060\u00ad]", "", text)
    text, count = _CONTROL.subn("", text)
    if count:
        warnings.append(f"Removed {count} control character{'s' if count > 1 else ''} from the text.")
    return _TRAILING_SPACE.sub("", text)


def _finish(article: Article, name: str) -> None:
    """What both formats share: date fallback, read time, excerpt, quote, checks."""
    if article.date is None:
        match = DATE_PREFIX.match(Path(name).name)
        if match:
            try:
                article.date = date(*map(int, match.groups()))
            except ValueError:
                pass
    if article.date is None:
        article.warnings.append("No date found.")
    if not article.author:
        article.warnings.append("No author found.")
    if not any(b.kind in ("paragraph", "list", "quote", "heading") for b in article.blocks) \
            and not article.excerpt:
        article.warnings.append("The article has no body text.")
    if not article.read_time:
        words = len(article.excerpt.split()) + sum(len(block_text(b).split()) for b in article.blocks)
        article.read_time = max(1, math.ceil(words / WORDS_PER_MINUTE))
    if not article.excerpt:
        article.excerpt, cut = opening_excerpt(article.blocks)
        if cut:
            article.warnings.append("The excerpt had to be cut mid-sentence.")
    if not article.excerpt:
        article.warnings.append("No excerpt: no standfirst or opening paragraph to show under the title.")
    if article.quote is None:
        article.quote = choose_quote(article.blocks)
    check_quotes(article)
    if len(article.warnings) > MAX_WARNINGS:
        more = len(article.warnings) - MAX_WARNINGS + 1
        article.warnings[MAX_WARNINGS - 1:] = [f"…and {more:,} more warnings."]
