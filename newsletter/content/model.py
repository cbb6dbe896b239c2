"""The article model every renderer reads, and the limits the readers work to."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

#: Largest article file read, in bytes (1 MB). Bigger files are refused with a ContentError.
MAX_BYTES = 1_000_000
#: Largest saved web page read (10 MB: pages carry their scripts and styles).
HTML_MAX_BYTES = 10_000_000
#: File name endings looked at in the content folder (the format itself is chosen by content).
ARTICLE_SUFFIXES = (".md", ".markdown", ".txt", ".text", ".html", ".htm")
MARKDOWN_SUFFIXES = (".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
#: Reading speed for the estimated read time of articles that do not state one.
WORDS_PER_MINUTE = 230
#: Longest excerpt cut from the opening paragraphs (characters).
EXCERPT_MAX = 300

#: A file name's leading ``YYYY-MM-DD-``: not part of the slug; the date when the text has none.
DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-")


@dataclass(frozen=True)
class Inline:
    """A run of inline text in two safe shapes.

    ``text`` is plain text (links written out as ``label (url)``); ``html`` is safe inline HTML:
    escaped text plus only allowlisted inline tags (a, strong, em, b, i, code, br) with
    absolute ``http(s)``/``mailto`` links.
    """

    text: str
    html: str


@dataclass(frozen=True)
class Block:
    """One body block.

    kind: ``heading`` (``level`` 2-4, ``content``), ``paragraph`` (``content``),
    ``list`` (``items``; ``ordered`` for numbered lists), ``quote`` (``content`` and optional
    ``cite``: a pull quote or blockquote), ``image`` (``src`` absolute URL, ``alt``), ``rule``.
    Quote text carries no enclosing quotation marks; code blocks are paragraphs of ``<code>``.
    """

    kind: str
    content: Inline | None = None
    items: tuple[Inline, ...] = ()
    ordered: bool = False
    level: int = 2
    cite: str = ""
    src: str = ""
    alt: str = ""


@dataclass(frozen=True)
class Quote:
    """The quote shown in the digest: text and who said it (may be empty)."""

    text: str
    by: str = ""


@dataclass
class Article:
    """A parsed article. All strings are plain text (never HTML) unless typed :class:`Inline`.

    The closing quotation (a quote followed by ``— Name``) stays in ``blocks`` as a cited quote
    block, like pull quotes; ``quote`` repeats the chosen one for the digest. The standfirst
    (``excerpt`` of a copied page) and the ``disclaimer`` are not in ``blocks``. ``read_time``
    is the page's own figure, else estimated at :data:`WORDS_PER_MINUTE`.
    """

    slug: str
    path: Path | None
    format: str  # "text", "markdown" or "html"
    title: str
    date: date | None = None
    read_time: int | None = None  # minutes
    author: str = ""
    author_bio: str = ""
    excerpt: str = ""  # the standfirst / front-matter excerpt / opening cut at a sentence end
    quote: Quote | None = None  # the chosen digest quote (front matter > closing > best pull quote)
    disclaimer: str = ""
    url: str = ""  # canonical URL of the published article, absolute, or ""
    image: str = ""  # absolute URL or ""
    image_alt: str = ""
    tags: tuple[str, ...] = ()
    blocks: list[Block] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def slug_for(name: str) -> str:
    """The slug of a file name: no extension, no leading ``YYYY-MM-DD-``, lowercased."""
    stem = Path(name).stem if Path(name).suffix.lower() in ARTICLE_SUFFIXES else Path(name).name
    return DATE_PREFIX.sub("", stem).lower()


def block_text(block: Block) -> str:
    """The plain text of a block (its content, or its list items joined by spaces)."""
    if block.content is not None:
        return block.content.text
    return " ".join(item.text for item in block.items)
