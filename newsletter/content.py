"""Articles: the model every renderer reads, and the parsers that build it from files.

Two formats (see CONTRACT.md): Markdown with YAML/TOML front matter, and plain text as copied
from a web page. Parsers never crash on messy input: they produce the best article they can
and list what was doubtful in ``Article.warnings``. Input that cannot be an article at all
raises :class:`ContentError` naming the file (and line, for front matter).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


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
    """A parsed article. All strings are plain text (never HTML) unless typed :class:`Inline`."""

    slug: str
    path: Path | None
    format: str  # "text" or "markdown"
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
