"""Articles: the model every renderer reads, and the parsers that build it from files.

Two formats (see CONTRACT.md), chosen by content rather than extension: Markdown with YAML
(``---``) or TOML (``+++``) front matter, and plain text as copied from a web page. Parsers
never crash on messy input: they produce the best article they can and list what was doubtful
in ``Article.warnings`` (short sentences). Input that cannot be an article at all raises
:class:`ContentError` naming the file (and line, for front matter): a missing, empty or
binary file, text that is neither UTF-8 nor clean Windows-1252, a file over
:data:`MAX_BYTES` (1 MB: a long article is ~50 KB), or text without a recoverable title.

I/O happens only in :func:`load_article` (and the folder helpers built on it);
:func:`parse_text` is pure.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from html import escape
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from . import sanitize
from .errors import ContentError, InputError

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


# --- files and folders (the only I/O) ---------------------------------------------------------


def slug_for(name: str) -> str:
    """The slug of a file name: no extension, no leading ``YYYY-MM-DD-``, lowercased."""
    stem = Path(name).stem if Path(name).suffix.lower() in ARTICLE_SUFFIXES else Path(name).name
    return _DATE_PREFIX.sub("", stem).lower()


def load_article(path: str | Path) -> Article:
    """Read and parse one article file; :class:`ContentError` if it cannot be an article."""
    path = Path(path)
    data = _read_bytes(path)
    text, note = _decode(data, path)
    article = parse_text(text, path.name, path=path)
    if note:
        article.warnings.insert(0, note)
    return article


def load_articles_report(content_dir: str | Path) -> tuple[list[Article], list[str]]:
    """Every article in ``content_dir`` (newest first) and one error line per file that failed.

    Looks at files ending in :data:`ARTICLE_SUFFIXES`, not in subfolders, skipping hidden
    files, ``_drafts``-style names and README files. A second file with an already used slug
    is reported and skipped.
    """
    folder = Path(content_dir)
    if not folder.is_dir():
        return [], [f"{folder}: no such content folder"]
    articles: list[Article] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for path in _article_files(folder):
        slug = slug_for(path.name)
        if slug in seen:
            errors.append(f"{path}: slug {slug!r} is already used by {seen[slug]}; skipped")
            continue
        try:
            article = load_article(path)
        except ContentError as exc:
            errors.append(str(exc))
            continue
        seen[slug] = path.name
        articles.append(article)
    return _newest_first(articles), errors


def load_articles(content_dir: str | Path) -> list[Article]:
    """The articles of ``content_dir`` that parse, newest first (see :func:`load_articles_report`)."""
    return load_articles_report(content_dir)[0]


def resolve(slug_or_path: str | Path, content_dir: str | Path, *, allow_paths: bool = True) -> Article:
    """The article named by a slug of ``content_dir`` or (with ``allow_paths``) a file path.

    A slug is looked up among the folder's file names, never joined into a path, so
    ``../secret`` finds nothing. Unknown slug: :class:`InputError`; unreadable file:
    :class:`ContentError`. Pass ``allow_paths=False`` for untrusted input (web requests).
    """
    raw = str(slug_or_path).strip()
    looks_like_path = any(sep in raw for sep in ("/", "\\")) or raw.lower().endswith(ARTICLE_SUFFIXES)
    if allow_paths and (looks_like_path or isinstance(slug_or_path, Path)):
        bare = not any(sep in raw for sep in ("/", "\\"))
        if bare and not Path(raw).exists() and (Path(content_dir) / raw).is_file():
            return load_article(Path(content_dir) / raw)  # a file name of the content folder
        return load_article(raw)
    if not raw or looks_like_path or raw.startswith(".") or not _SLUG_OK.match(raw):
        raise InputError(f"{raw!r} is not an article slug (file names are not accepted here)")
    folder = Path(content_dir)
    wanted = raw.lower()
    if folder.is_dir():
        for path in _article_files(folder):
            if slug_for(path.name) == wanted:
                return load_article(path)
    raise InputError(f"no article {raw!r} in {folder} (see the `articles` command)")


def _article_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.suffix.lower() in ARTICLE_SUFFIXES and not p.name.startswith((".", "_"))
        and not p.name.lower().startswith("readme") and p.is_file()
    )


def _newest_first(articles: list[Article]) -> list[Article]:
    ordered = sorted(articles, key=lambda a: a.slug)
    return sorted(ordered, key=lambda a: (a.date is not None, a.date or date.min), reverse=True)


def _read_bytes(path: Path) -> bytes:
    limit = HTML_MAX_BYTES if path.suffix.lower() in HTML_SUFFIXES else MAX_BYTES
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ContentError(f"{path}: is a folder, not an article file")
        if size > limit:
            raise ContentError(f"{path}: {size / 1e6:.1f} MB is over the {limit / 1e6:g} MB article size limit")
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise ContentError(f"{path}: no such file") from None
    except OSError as exc:
        raise ContentError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise ContentError(f"{path}: over the {limit / 1e6:g} MB article size limit")
    return data


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """Text of an article file and a warning when it was not UTF-8."""
    if not data.strip():
        raise ContentError(f"{path}: empty file")
    if b"\x00" in data:
        raise ContentError(f"{path}: binary file (NUL bytes), not an article")
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        offset = exc.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ContentError(f"{path}: not UTF-8 text (bad byte at offset {offset})") from None
    return text, "The file is not UTF-8; it was read as Windows-1252 (save it as UTF-8 to be sure)."


# --- parsing (pure) ---------------------------------------------------------------------------


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
    fmt = _detect_format(text, suffix)
    article = Article(slug=slug_for(name), path=Path(path) if path is not None else None,
                      format=fmt, title="", warnings=warnings)
    if fmt == "markdown":
        _parse_markdown(text, article, where, name)
    elif fmt == "html":
        _parse_html(text, article, where, name)
    else:
        _parse_page(text, article, where, name)
    _finish(article, name)
    return article


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DATE_PREFIX = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-")
_SLUG_OK = re.compile(r"^[^\x00-\x1f/\\]{1,200}$")


def _normalize(text: str, warnings: list[str]) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub("[\u2028\u2029\x85\x0c]", "\n", text)
    text = text.replace("\t", "    ").replace("\u00a0", " ")
    text = re.sub("[\ufeff\u200b\u2060\u00ad]", "", text)
    text, count = _CONTROL.subn("", text)
    if count:
        warnings.append(f"Removed {count} control character{'s' if count > 1 else ''} from the text.")
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _finish(article: Article, name: str) -> None:
    """What both formats share: date fallback, read time, excerpt, quote, checks."""
    if article.date is None:
        match = _DATE_PREFIX.match(Path(name).name)
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
        words = len(article.excerpt.split()) + sum(len(_block_text(b).split()) for b in article.blocks)
        article.read_time = max(1, math.ceil(words / WORDS_PER_MINUTE))
    if not article.excerpt:
        article.excerpt, cut = _opening_excerpt(article.blocks)
        if cut:
            article.warnings.append("The excerpt had to be cut mid-sentence.")
    if not article.excerpt:
        article.warnings.append("No excerpt: no standfirst or opening paragraph to show under the title.")
    if article.quote is None:
        article.quote = _choose_quote(article.blocks)
    _check_quotes(article)


def _block_text(block: Block) -> str:
    if block.content is not None:
        return block.content.text
    return " ".join(item.text for item in block.items)


# --- shared helpers: dates, names, inline text, excerpt, quotes --------------------------------

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_MON = r"(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(?P<tail>[a-z]*)\.?"
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d])"),
    re.compile(r"(?<!\d)(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?i)(?:\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?" + _MON
               + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})(?!\d(?!\d?:\d\d))"),  # may run into a time
    re.compile(r"(?i)(?<!\d)(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MON
               + r",?\s+(?P<y>\d{4})(?!\d)"),
    re.compile(r"(?<!\d)(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\d)"),
)


def find_date(text: str) -> tuple[date, tuple[int, int], str] | None:
    """The first date written in ``text``: (date, span, note); ``note`` flags an ambiguous one.

    Reads ``Dec 3, 2025``, ``3 December 2025``, ``2025-12-03``, ``2025/12/03``, ``3.12.2025``
    and ``03/12/2025`` (day first when ambiguous, with a note saying so).
    """
    found: list[tuple[int, date, tuple[int, int], str]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            value = _date_of(match)
            if value is not None:
                found.append((match.start(), value[0], match.span(), value[1]))
                break
    if not found:
        return None
    _, day, span, note = min(found, key=lambda f: f[0])
    return day, span, note


def _date_of(match: re.Match) -> tuple[date, str] | None:
    groups = match.groupdict()
    note = ""
    year = int(groups["y"])
    if groups.get("mon"):
        word = (groups["mon"] + groups["tail"]).lower()
        month = next((i for i, full in enumerate(_MONTHS, 1) if full.startswith(word) or word == "sept"
                      and full == "september"), None)
        if month is None:
            return None
        day = int(groups["d"])
    elif groups.get("a"):
        a, b = int(groups["a"]), int(groups["b"])
        if groups["sep"] == "." or a > 12:
            day, month = a, b
        elif b > 12:
            month, day = a, b
        else:
            day, month = a, b
            if a != b:
                note = (f"The date {match.group()} is ambiguous; read as day first "
                        f"({day} {_MONTHS[month - 1][:3].title()} {year}).") if month <= 12 else ""
    else:
        month, day = int(groups["m"]), int(groups["d"])
    if not 1900 <= year <= 2200:
        return None
    try:
        return date(year, month, day), note
    except ValueError:
        return None


def _name_like(text: str, min_words: int = 1, max_words: int = 5) -> bool:
    """Looks like a person's name: a few capitalised words, no digits or sentence punctuation."""
    words = text.split()
    if not min_words <= len(words) <= max_words or len(text) > 60:
        return False
    if any(ch.isdigit() for ch in text) or text[-1] in ".!?:;,\"”":
        return False
    particles = {"de", "da", "van", "von", "der", "den", "del", "la", "le", "di", "bin", "al", "and", "&"}
    return words[0][0].isupper() and all(w[0].isupper() or w.lower() in particles for w in words)


_URL = re.compile(r"https?://[^\s<>\"“”]+")


def _plain_inline(text: str) -> Inline:
    """An Inline for plain text: escaped, with bare http(s) URLs made links."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group().rstrip(".,;:!?)]’'")
        if not sanitize.safe_link(url):
            continue
        end = match.start() + len(url)
        parts.append(escape(text[last:match.start()]))
        parts.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        last = end
    parts.append(escape(text[last:]))
    return Inline(text, "".join(parts))


_OPENERS = {"“": "”", '"': '"', "«": "»", "„": "“", "‘": "’", "”": "”"}
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "u.s", "u.k",
                  "inc", "no", "fig", "prof", "gen", "gov", "sen", "rep", "approx"}


def _sentences(text: str) -> list[str]:
    """Split prose at sentence ends (not after common abbreviations or initials)."""
    out: list[str] = []
    start = 0
    for match in re.finditer(r"[.!?…]+[”’\"')\]]*\s+", text):
        nxt = text[match.end():match.end() + 2].lstrip("“\"‘([")
        if not nxt or not (nxt[0].isupper() or nxt[0].isdigit()):
            continue
        word = text[start:match.start()].rsplit(None, 1)[-1].lower() if text[start:match.start()].split() else ""
        if match.group().startswith(".") and (word.strip("(\"“") in _ABBREVIATIONS
                                             or (len(word) == 1 and word.isalpha())):
            continue
        out.append(text[start:match.end()].strip())
        start = match.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def cut_excerpt(paragraphs: list[str], limit: int = EXCERPT_MAX) -> tuple[str, bool]:
    """Opening paragraphs cut at a sentence end within ``limit`` characters.

    Returns (excerpt, cut_mid_sentence): when even the first sentence is too long it is cut
    at a word boundary and ends with "…".
    """
    out = ""
    for para in paragraphs:
        for sentence in _sentences(para):
            candidate = f"{out} {sentence}".strip()
            if len(candidate) > limit:
                if out:
                    return out, False
                head = sentence[: limit - 1]
                if " " in head and not sentence[limit - 1:limit].isspace():
                    head = head.rsplit(" ", 1)[0]
                return head.rstrip(" ,;:—–-") + "…", True
            out = candidate
        if len(out) >= limit * 0.4:
            break
    return out, False


def _opening_excerpt(blocks: list[Block]) -> tuple[str, bool]:
    paragraphs: list[str] = []
    for block in blocks:
        if block.kind == "paragraph" and block.content is not None:
            paragraphs.append(block.content.text.replace("\n", " "))
            if len(paragraphs) == 3:
                break
        elif paragraphs and block.kind in ("heading", "list", "quote"):
            break
    return cut_excerpt(paragraphs)


def _strip_quotes(text: str) -> str | None:
    """``text`` without the quotation marks enclosing all of it, else None."""
    text = text.strip()
    if len(text) < 3 or text[0] not in _OPENERS:
        return None
    closer = _OPENERS[text[0]]
    core = text.rstrip(".,;")
    if core.endswith(closer) and len(core) > 2:
        inner = core[1:-1]
        if closer not in inner and not (closer == "”" and "“" in inner[1:] and inner.count("“") != inner.count("”")):
            return inner.strip()
    return None


def _unquoted(inline: Inline) -> Inline:
    """An Inline without enclosing quotation marks (text and html alike)."""
    inner = _strip_quotes(inline.text)
    if inner is None:
        return inline
    html = inline.html.strip()
    for opener, closer in (("“", "”"), ("&quot;", "&quot;"), ("«", "»"), ("„", "“"), ("‘", "’")):
        core = html.rstrip(".,;")
        if html.startswith(opener) and core.endswith(closer):
            return Inline(inner, core[len(opener):-len(closer)].strip())
    return Inline(inner, escape(inner))


_TRAILING_CITE = re.compile(r"^(?P<q>.*?[.!?…”\"’])\s+(?:—|―|–|--)\s*(?P<by>[^\s—–―-][^—–―]{0,70})$", re.S)


def _split_cite(inline: Inline, strict: bool = True) -> tuple[Inline, str] | None:
    """A quotation ending in ``— Name`` split into (quote, name).

    ``strict`` wants a person's name; a blockquote's last ``— ...`` line is taken as it is.
    """
    match = _TRAILING_CITE.match(inline.text.strip())
    if not match:
        return None
    if strict and not _name_like(match.group("by").split(",")[0].strip(), 1, 6) \
            or len(match.group("by").split()) > 10:
        return None
    by = match.group("by").strip()
    text = match.group("q").strip()
    html = inline.html
    cut = max(html.rfind(mark) for mark in ("—", "―", "–", "--"))
    html = html[:cut].strip() if cut > 0 and "<" not in html[cut:] else escape(text)
    html = re.sub(r"(?:<br>\s*)+$", "", html).strip()
    return _unquoted(Inline(text, html)), by


def _choose_quote(blocks: list[Block]) -> Quote | None:
    """The closing attributed quotation, else the best pull quote, else None."""
    body = [b for b in blocks if b.kind not in ("rule", "image")]
    if body and body[-1].kind == "quote" and body[-1].cite and body[-1].content:
        return Quote(body[-1].content.text, body[-1].cite)
    quotes = [b for b in body if b.kind == "quote" and b.content and b.content.text.strip()]
    if not quotes:
        return None
    best = min(quotes, key=lambda b: (not 30 <= len(b.content.text) <= 280, not b.cite))
    return Quote(best.content.text, best.cite)


def _check_quotes(article: Article) -> None:
    texts = ([article.excerpt] if article.excerpt else []) + [
        b.content.text for b in article.blocks if b.kind in ("paragraph", "quote") and b.content]
    for text in texts:
        if text.count("“") > text.count("”") or text.count('"') % 2:
            article.warnings.append(f"A quotation opens and never closes: {_snippet(text)}")
            return


def _snippet(text: str, width: int = 60) -> str:
    text = " ".join(text.split()).lstrip("“\"«„‘")
    return f"“{text}”" if len(text) <= width else f"“{text[:width].rsplit(' ', 1)[0]}…”"


# --- format detection -------------------------------------------------------------------------

_MD_SIGNS = (
    (re.compile(r"^#{1,6}[ \t]+\S", re.M), 3),
    (re.compile(r"^(?:```|~~~)", re.M), 3),
    (re.compile(r"!?\[[^\]\n]+\]\([^)\s]+\)"), 2),
    (re.compile(r"^\s{0,3}<(?:h[1-6]|p|div|ul|ol|blockquote|img|table)\b", re.M | re.I), 2),
    (re.compile(r"^\s{0,3}(?:[-*+]|\d+\.)[ \t]+\S", re.M), 1),
    (re.compile(r"^>[ \t]?\S", re.M), 1),
    (re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"), 1),
)
_PAGE_SIGNS = (
    (re.compile(r"^\s*[•◦▪]\s", re.M), 2),
    (re.compile(r"^\d+\s*-?\s*min(?:ute)?s?\.?\s*read", re.M | re.I), 3),
    (re.compile(r"^[\d.,]+\s*[km]?\s*views?$", re.M | re.I), 2),
    (re.compile(r"^(?:about the )?author$|^related (?:articles|posts)$", re.M | re.I), 3),
    (re.compile(r"^by:?\s+[A-Z]", re.M), 1),
    (re.compile(r"^\?>$", re.M), 2),
    (re.compile(r"^(?:—|―)\s*\S", re.M), 1),
)


def _detect_format(text: str, suffix: str) -> str:
    """"html" for a saved web page, "markdown" for front matter or Markdown-shaped text, else
    "text" (a page's text as copied)."""
    if suffix in HTML_SUFFIXES or _HTML_START.match(text):
        return "html"
    first = text.lstrip("\n").split("\n", 1)[0].strip()
    if first in ("---", "+++") and _front_matter_bounds(text.lstrip("\n").split("\n")):
        return "markdown"
    if suffix not in MARKDOWN_SUFFIXES and not (text.startswith("#") or "\n#" in text):
        return "text"  # without a # heading only front matter makes a non-.md file Markdown
    md = sum(min(len(p.findall(text)), 5) * w for p, w in _MD_SIGNS)
    page = sum(min(len(p.findall(text)), 5) * w for p, w in _PAGE_SIGNS)
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown" if md and md >= page else "text"
    return "markdown" if md > page and _MD_SIGNS[0][0].search(text) else "text"


_HTML_START = re.compile(r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S)


def _parse_html(text: str, article: Article, where: str, name: str) -> None:
    """A saved web page: its article found by the page extractor (trafilatura and the page's
    metadata, as ``articles import`` does), then read as Markdown with that HTML as its body."""
    from .article_file import render
    from .extract import extract_page

    try:
        found = extract_page(text)
    except InputError:
        raise ContentError(f"{where}: no article text found in the page") from None
    _parse_markdown(render(found), article, where, name)


# --- Markdown ---------------------------------------------------------------------------------

_MD = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
_KEY_LINE = re.compile(r"^[A-Za-z_][\w.-]*\s*[:=]")
FRONT_MATTER_KEYS = frozenset({
    "title", "date", "author", "author_bio", "excerpt", "description", "summary", "quote",
    "quote_by", "url", "image", "image_alt", "tags", "disclaimer", "read_time",
})


def _front_matter_bounds(lines: list[str]) -> int | None:
    """Index of the closing fence line when ``lines`` open with front matter, else None.

    ``---`` counts as front matter only if a ``key:`` line follows it (else it is a rule).
    """
    fence = lines[0].strip()
    closers = ("---", "...") if fence == "---" else ("+++",)
    for index in range(1, len(lines)):
        if lines[index].strip() in closers:
            inside = lines[1:index]
            if fence == "+++" or not any(line.strip() for line in inside) or any(
                    _KEY_LINE.match(line) for line in inside):
                return index
            return None
    if fence == "+++" or any(_KEY_LINE.match(line) for line in lines[1:4]):
        return -1  # opened, never closed
    return None


def _front_matter(text: str, where: str) -> tuple[dict, str, int]:
    """(front matter mapping, body, number of lines before the body)."""
    lead = len(text) - len(text.lstrip("\n"))
    skipped = text[:lead].count("\n")
    lines = text[lead:].split("\n")
    fence = lines[0].strip()
    if fence not in ("---", "+++"):
        return {}, text, 0
    end = _front_matter_bounds(lines)
    if end is None:
        return {}, text, 0
    if end == -1:
        raise ContentError(f"{where}:{skipped + 1}: front matter: opened with {fence} but never closed")
    raw = "\n".join(lines[1:end])
    first_line = skipped + 2  # 1-based number of the first line inside the fences
    try:
        meta = tomllib.loads(raw) if fence == "+++" else yaml.safe_load(raw)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = first_line + int(match.group(1)) - 1 if match else first_line + raw.count("\n")
        message = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", str(exc))
        raise ContentError(f"{where}:{line}: front matter: {message} (TOML)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise ContentError(f"{where}:{line}: front matter: {problem} (YAML)") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        message = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ContentError(f"{where}:{first_line}: front matter: {message}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ContentError(f"{where}:{first_line}: front matter: expected `key: value` lines, "
                           f"got a {type(meta).__name__}")
    return meta, "\n".join(lines[end + 1:]), skipped + end + 1


def _fm_text(meta: dict, key: str, warnings: list[str]) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    warnings.append(f"Front matter {key!r} should be text; ignored.")
    return ""


def _fm_date(value, warnings: list[str]) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()  # the date where it was written (offset datetimes keep their offset)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            pass
        found = find_date(text)
        if found:
            if found[2]:
                warnings.append(found[2])
            return found[0]
    warnings.append(f"Front matter date {str(value)[:40]!r} is not a date; ignored.")
    return None


def _fm_tags(value, warnings: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        raw = value.split(",")
    elif isinstance(value, (list, tuple)):
        raw = [str(v) for v in value if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
        if len(raw) != len(value):
            warnings.append("Some front matter tags are not text; ignored them.")
    else:
        warnings.append("Front matter 'tags' should be a list or a comma-separated string; ignored.")
        return ()
    tags: list[str] = []
    for tag in raw:
        tag = " ".join(tag.split()).lstrip("#")
        if tag and tag.lower() not in (t.lower() for t in tags):
            tags.append(tag)
    return tuple(tags)


def _fm_read_time(value, warnings: list[str]) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 1000:
        return value
    if isinstance(value, str) and (match := re.match(r"\s*(\d{1,3})\b", value)) and int(match.group(1)):
        return int(match.group(1))
    if value is not None:
        warnings.append(f"Front matter read_time {str(value)[:20]!r} is not a number of minutes; ignored.")
    return None


def _apply_front_matter(meta: dict, article: Article) -> Quote | None:
    warnings = article.warnings
    for key in meta:
        if str(key) not in FRONT_MATTER_KEYS:
            warnings.append(f"Unknown front matter key {str(key)[:40]!r} ignored.")
    article.title = _fm_text(meta, "title", warnings)
    article.date = _fm_date(meta.get("date"), warnings)
    author = meta.get("author")
    if isinstance(author, dict):
        for key in author:
            if key not in ("name", "bio"):
                warnings.append(f"Unknown front matter key {'author.' + str(key)[:30]!r} ignored.")
        article.author = _fm_text(author, "name", warnings)
        article.author_bio = _fm_text(author, "bio", warnings)
    elif isinstance(author, list):
        article.author = ", ".join(" ".join(a.split()) for a in author if isinstance(a, str))
    else:
        article.author = _fm_text(meta, "author", warnings)
    article.author_bio = _fm_text(meta, "author_bio", warnings) or article.author_bio
    for key in ("excerpt", "description", "summary"):
        if meta.get(key):
            article.excerpt = _fm_text(meta, key, warnings)
            break
    article.disclaimer = _fm_text(meta, "disclaimer", warnings)
    article.read_time = _fm_read_time(meta.get("read_time"), warnings)
    article.tags = _fm_tags(meta.get("tags"), warnings)
    url = _fm_text(meta, "url", warnings)
    if url:
        article.url = sanitize.safe_link(url)
        if not article.url or article.url.startswith("mailto:"):
            article.url = ""
            warnings.append(f"Front matter url {url[:60]!r} is not an absolute http(s) URL; ignored.")
    image = _fm_text(meta, "image", warnings)
    if image:
        article.image = sanitize.safe_image(image, article.url)
        if not article.image:
            warnings.append(f"Dropped image {image[:60]!r}: not an absolute http(s) URL"
                            + (" and the article has no url." if not article.url else "."))
    article.image_alt = _fm_text(meta, "image_alt", warnings)
    quote = meta.get("quote")
    if isinstance(quote, dict):
        text, by = _fm_text(quote, "text", warnings), _fm_text(quote, "by", warnings)
    else:
        text, by = _fm_text(meta, "quote", warnings), ""
    by = _fm_text(meta, "quote_by", warnings) or by
    if text:
        return Quote(_strip_quotes(text) or text, by.lstrip("—–- "))
    return None


_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_TEMPLATE_SPAN = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<\?(?:php|=)?.*?\?>|<%.*?%>", re.S)
_PHP_BLOCK = re.compile(r"<\?php\b.*?(?:\?>|\Z)", re.S)


def _template_only(line: str) -> bool:
    """A line made of template code only (``{{ x }}``, ``{% if %}``, ``<?php ?>``, a stray ``?>``)."""
    stripped = line.strip()
    if stripped in ("?>", "<?php", "<?", "%>"):
        return True
    rest = _TEMPLATE_SPAN.sub("", stripped)
    return rest != stripped and not re.sub(r"[\W_]", "", rest)


def _drop_template_code(text: str, warnings: list[str], *, fenced: bool) -> str:
    """Drop template debris lines (outside fenced code when ``fenced``), with one warning."""
    dropped: list[str] = []

    def php(match: re.Match) -> str:
        if len(match.group()) > 2000:
            return match.group()
        dropped.append(match.group())
        return "\n" * match.group().count("\n")

    text = _PHP_BLOCK.sub(php, text)
    out: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        if fenced and _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and _template_only(line):
            dropped.append(line.strip())
            out.append("")
        else:
            out.append(line)
    if dropped:
        sample = " ".join(dropped[0].split())[:40]
        warnings.append(f"Dropped template code ({sample}{' and more' if len(dropped) > 1 else ''}).")
    return "\n".join(out)


def _parse_markdown(text: str, article: Article, where: str, name: str) -> None:
    meta, body, _ = _front_matter(text, where)
    quote = _apply_front_matter(meta, article) if meta else None
    body = _drop_template_code(body, article.warnings, fenced=True)
    for span in _TEMPLATE_SPAN.findall(body)[:1]:
        article.warnings.append(f"Template code {_snippet(span, 30)} left in the text, shown as is.")
    try:
        html = _MD.render(body)
    except RecursionError:
        html = escape(body)
        article.warnings.append("The Markdown is nested too deeply; shown as plain text.")
    pieces, notes = sanitize.html_to_pieces(html, article.url)
    article.warnings.extend(notes)
    blocks = [_block_of(p) for p in pieces]
    blocks = _attributions(blocks)
    if not article.title:
        article.title, blocks = _markdown_title(blocks, article, name, where)
    elif blocks and blocks[0].kind == "heading" and _same_text(blocks[0].content.text, article.title):
        blocks = blocks[1:]
    article.title = " ".join(article.title.split())
    article.blocks = [replace(b, level=min(max(b.level, 2), 4)) if b.kind == "heading" else b for b in blocks]
    article.quote = quote


def _block_of(piece: sanitize.Piece) -> Block:
    if piece.kind == "heading":
        return Block("heading", Inline(piece.text, piece.html), level=min(max(piece.level, 1), 6))
    if piece.kind == "list":
        return Block("list", items=tuple(Inline(t, h) for t, h in piece.items), ordered=piece.ordered)
    if piece.kind == "quote":
        content = Inline(piece.text, piece.html)
        if not piece.cite and (split := _split_cite(content, strict=False)):
            content, cite = split
            return Block("quote", content, cite=cite)
        return Block("quote", _unquoted(content), cite=piece.cite)
    if piece.kind == "image":
        return Block("image", src=piece.src, alt=piece.alt)
    if piece.kind == "rule":
        return Block("rule")
    return Block("paragraph", Inline(piece.text, piece.html))


def _attributions(blocks: list[Block]) -> list[Block]:
    """Quotations followed by ``— Name`` (same paragraph or the next) become cited quote blocks."""
    out: list[Block] = []
    for block in blocks:
        text = block.content.text.strip() if block.content else ""
        match = re.match(r"^(?:—|―|--)\s*(\S.{0,70})$", text)
        if (match and out and out[-1].kind in ("paragraph", "quote") and not out[-1].cite
                and len(out[-1].content.text) <= 400 and _name_like(match.group(1).split(",")[0], 1, 6)):
            prev = out.pop()
            out.append(Block("quote", _unquoted(prev.content), cite=match.group(1).strip()))
            continue
        if block.kind == "paragraph" and block.content and len(text) <= 400:
            split = _split_cite(block.content)
            if split and (_strip_quotes(split[0].text) is not None or text[0] in _OPENERS
                          or re.search(r"\n\s*(?:—|―|--)", block.content.text) or block is blocks[-1]):
                out.append(Block("quote", split[0], cite=split[1]))
                continue
        out.append(block)
    return out


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _markdown_title(blocks: list[Block], article: Article, name: str, where: str) -> tuple[str, list[Block]]:
    for index, block in enumerate(blocks):
        if block.kind == "heading" and block.level == 1:
            return block.content.text, blocks[:index] + blocks[index + 1:]
    if blocks and blocks[0].kind == "heading":
        article.warnings.append("No title in the front matter or a # heading; used the first heading.")
        return blocks[0].content.text, blocks[1:]
    if blocks and blocks[0].kind == "paragraph" and len(blocks[0].content.text) <= 120 \
            and "\n" not in blocks[0].content.text and len(blocks[0].content.text.split()) <= 16:
        article.warnings.append("No title in the front matter or a # heading; title guessed from the first line.")
        return blocks[0].content.text, blocks[1:]
    return _title_from_name(article, name, where), blocks


def _title_from_name(article: Article, name: str, where: str) -> str:
    words = re.split(r"[-_\s]+", slug_for(name))
    words = [w for w in words if w]
    if len(words) >= 2 and any(w.isalpha() for w in words):
        article.warnings.append("No title found in the text; title made from the file name.")
        title = " ".join(words)
        return title[:1].upper() + title[1:]
    raise ContentError(f"{where}: no title found (add a title line, a # heading or front matter `title:`)")


# --- plain text copied from a web page --------------------------------------------------------


@dataclass
class _Unit:
    """A line of a copied page (hard-wrapped lines joined), with whether a blank line follows."""

    text: str
    gap_after: bool = False


_BULLET = re.compile(r"^(?:[•◦▪▫‣∙●○■□►▶➤✓✔→*+]|-|–)\s+(\S.*)$")
_NUMBERED = re.compile(r"^(\d{1,2})[.)]\s+(\S.*)$")
_RULE = re.compile(r"^([-*_=~—•·])(?:\s*\1){2,}$")
_STRONG_ATTRIBUTION = re.compile(r"^(?:—|―|--)\s*(\S.{0,80})$")
_WEAK_ATTRIBUTION = re.compile(r"^(?:-|–|~)\s*(\S.{0,80})$")
_READ_TIME = re.compile(
    r"(?i)(?:reading\s+time:?\s*)?(?<!\d)(\d{1,3})\s*-?\s*min(?:ute)?s?\.?(?:\s*read(?:ing)?)?(?:\s*time)?")
_VIEWS = re.compile(r"(?i)(?<![\w.,])[\d.,]+\s*[km]?\s*(?:views?|reads|comments?|likes?|shares?|claps?|responses?)\b")
_TIME = re.compile(r"(?i)\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+(?:[A-Z]{2,4}|UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?)?(?!\d)")
_AGO = re.compile(r"(?i)\b(?:updated\s+)?\d+\s+(?:seconds?|mins?|minutes?|hours?|hrs?|days?|weeks?)\s+ago\b")
_BYLINE = re.compile(r"(?i)^(?:by|written\s+by|posted\s+by|words\s+by|author)\s*:?\s+(\S.*)$")
_META_FILLER = re.compile(
    r"(?i)^(?:updated|last\s+updated|published|posted|on|at|follow|share|listen|save|"
    r"min\s+read|read|and|·|\||•|-|–|—|,|"
    r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?)$")
_SEPARATORS = re.compile(r"\s*(?:[|·•]|\s[-–—]\s)\s*")
_MENU_RUN = re.compile(r"(?:[A-Z][a-z]+){3,}")
_JUNK_WORDS = frozenset(
    "share tweet follow following listen save print email copy link advertisement ad sponsored "
    "facebook twitter x linkedin whatsapp pinterest reddit telegram loading skip to main content "
    "back top scroll continue reading below see show more subscribe sign up in log login "
    "bookmark like clap comment comments".split())
_NAV_WORDS = frozenset(
    "home news markets market opinion politics business tech technology world sports sport "
    "culture finance economy crypto cryptocurrency stocks investing money about contact menu "
    "subscribe login search blog latest trending video videos podcasts podcast newsletter "
    "newsletters lifestyle health science entertainment travel food style arts books us u.s. "
    "uk europe asia analysis features more shop deals reviews guides careers energy commodities "
    "forex personal real estate skip to content main toggle navigation close account watchlist "
    "portfolio sign in log up policy economics local national international live".split())
_END = re.compile(
    r"(?i)^(?:related(?:\s+(?:articles|posts|stories|content|reading|news))?|you\s+(?:may|might)\s+(?:also\s+)?like"
    r"|more\s+(?:from|on|in)\b.{0,40}|recommended(?:\s+for\s+you|\s+articles|\s+reading)?|read\s+next|up\s+next"
    r"|trending(?:\s+now)?|popular\s+(?:posts|articles|stories)|latest\s+(?:news|posts|articles)"
    r"|leave\s+a\s+(?:reply|comment)|comments?(?:\s*\(\d+\))?|\d+\s+comments?|share\s+this(?:\s+(?:article|post|story))?:?"
    r"|tags?:.*|filed\s+under:?.*|categories:.*|©.*|copyright\s+.*|all\s+rights\s+reserved.*"
    r"|(?:subscribe|sign\s+up)\s+(?:to|for)\s+(?:our|the)\s+newsletter.*"
    r"|(?:additional\s+)?reporting\s+by\s+.{3,200};\s*(?:editing|writing)\s+by\s+.*|our\s+standards:.*|suggested\s+topics:?|more\s+on\s+this\s+story)$")
_AUTHOR_MARK = re.compile(r"(?i)^(?:about\s+(?:the\s+)?author|the\s+author|author|written\s+by)\s*:?$")
_PAYWALL = re.compile(
    r"(?i)^(?:continue\s+reading|read\s+(?:the\s+)?(?:full|rest\s+of\s+the)\s+(?:article|story)|"
    r"subscribe\s+to\s+(?:continue|read)|to\s+continue\s+reading|this\s+(?:article|content|story)\s+is\s+"
    r"(?:for|available\s+to)\s+(?:subscribers|members)|(?:already\s+a\s+subscriber|register\s+to\s+read)).*$")
_DISCLAIMER = re.compile(
    r"(?i)(disclaimer|not\s+(?:financial|investment|legal|tax)\s+advice|for\s+(?:general\s+)?"
    r"(?:informational|educational|information)\s+purposes\s+only|may\s+have\s+changed\s+since\s+publication"
    r"|analysis\s+from\s+\d|past\s+performance\s+(?:is|does)\s+not|do\s+your\s+own\s+research"
    r"|contains\s+affiliate\s+links|this\s+(?:post|article)\s+(?:is|was)\s+sponsored)")
_ROLE = re.compile(  # the line under a byline name: "Business reporter, BBC News"
    r"(?i)^(?:[\w.'’&-]+\s+){0,3}(?:reporter|correspondent|editor|writer|columnist|analyst|contributor"
    r"|journalist)(?:[,|·]\s*\S.{0,40})?$")
_CREDIT = re.compile(  # a picture credit left where the lead image was
    r"(?i)^(?:(?:image|photo|picture)(?:\s+(?:credit|source))?:?\s*)?(?:getty\s+images|reuters|afp"
    r"|ap(?:\s+photo)?|epa|shutterstock|alamy|bloomberg|pa\s+media)(?:\s*/\s*\S.{0,40})?$")
_TICKER = re.compile(  # a stock-quote widget's ticker line: "NASDAQ: PEP", "(NYSE: KO)"
    r"^\(?(?:NASDAQ|NYSE(?:\s*(?:MKT|American|Arca))?|AMEX|OTC(?:QX|QB|MKTS)?|TSXV?|LSE|ASX|CBOE)"
    r"\s*:\s*[A-Z][A-Z0-9.-]{0,6}\)?$")
_QUOTE_FIGURE = re.compile(r"^(?=.*\d)[-+−–—$€£¥()%.,\d\s]*\d[-+−–—$€£¥()%.,\d\s]*[%BMKT]?\)?$")
_QUOTE_LABEL = re.compile(  # "Market Cap: $200B", "Today's Change", "52-Week Range", "Volume: 5.2M"
    r"(?i)^(?:market\s+cap(?:italization)?|today['’]?s\s+change|current\s+price|day['’]?s\s+range"
    r"|52[-\s]?week\s+(?:range|high|low)|volume|avg\.?\s+vol(?:ume)?|average\s+volume|dividend\s+yield"
    r"|gross\s+margin|p/?e\s+ratio|key\s+data\s+points)(?:\s*:\s*|\s+)?(?:[-+−–—$€£¥()%.,\d\s]*\d"
    r"[-+−–—$€£¥()%.,\d\s]*[%BMKT]?\)?)?$")
_PRICE_AS_OF = re.compile(r"(?i)^prices?\s+as\s+of\s+\S.{0,60}$")
_KEY_POINTS = re.compile(r"(?i)^key\s+(?:points|takeaways)\s*:?$")
_WRITTEN_BY = re.compile(r"(?i)^written\s+by\s+\S")  # Medium's author block: "Written by Name"
_PUNCTUATION_ONLY = re.compile(r"[^\w\s]{1,2}")  # a lone "·" or "--" between page parts
_BIO_JUNK = re.compile(r"(?i)^(?:[\d.,]+\s*[km]?\s+followers|view\s+all\s+(?:posts|articles)|see\s+all|more\s+articles\s+by|follow\b|contact\b.{0,20}$)")


def _units(text: str) -> list[_Unit]:
    units: list[_Unit] = []
    for line in text.split("\n"):
        stripped = " ".join(line.split())
        if not stripped:
            if units:
                units[-1].gap_after = True
            continue
        if units and not units[-1].gap_after and _continues(units[-1].text, stripped):
            units[-1].text += " " + stripped
            continue
        units.append(_Unit(stripped))
    if units:
        units[-1].gap_after = True
    return units


def _continues(prev: str, line: str) -> bool:
    """A hard-wrapped line: the previous one stops mid-sentence and this one goes on in lowercase."""
    return (line[0].islower() and prev[-1] not in ".!?:;…\"”’)" and not _BULLET.match(line)
            and len(prev) > 40)


def _junk(text: str) -> bool:
    if len(text) > 60:
        return False
    words = re.findall(r"[\w.']+", text.lower())
    return bool(words) and len(words) <= 6 and all(w in _JUNK_WORDS or w.isdigit() for w in words) \
        and not text.endswith(("?", "!"))


def _nav(text: str) -> bool:
    if len(text) > 120:
        return False
    if _MENU_RUN.fullmatch(text):
        return True  # menu words run together when copied: "HomeNewsSportBusiness"
    words = re.findall(r"[\w.&']+", text.lower().replace("&", " "))
    return bool(words) and all(w in _NAV_WORDS for w in words)


def _meta(text: str) -> dict | None:
    """Metadata found in a short header line (read time, views, date, byline), or None if the
    line is something else."""
    if len(text) > 160:
        return None
    found: dict = {}
    rest = text
    if match := _READ_TIME.search(rest):
        if 0 < int(match.group(1)) < 1000:
            found["read_time"] = int(match.group(1))
        rest = rest[:match.start()] + " | " + rest[match.end():]
    if dated := find_date(rest):
        found["date"], span, found["date_note"] = dated
        rest = rest[:span[0]] + " | " + rest[span[1]:]
    rest = _TIME.sub(" | ", rest)
    if _AGO.search(rest):
        found["ago"] = True  # "2 hours ago": a time stamp with no date in it
        rest = _AGO.sub(" | ", rest)
    if _VIEWS.search(rest):
        found["views"] = True
        rest = _VIEWS.sub(" | ", rest)
    for segment in _SEPARATORS.split(rest):
        segment = segment.strip(" ,|")
        segment = re.sub(r"(?i)^(?:updated|published|posted|last\s+updated)(?:\s+on)?:?\s*", "", segment)
        segment = re.sub(r"(?i)\s+(?:on|at|updated|published)$", "", segment).strip(" ,:")
        if not segment or _META_FILLER.match(segment) or _junk(segment):
            continue
        by = _BYLINE.match(segment)
        name = _clean_name(by.group(1)) if by else ""
        if name:
            found["author"] = name
        elif found and "author" not in found and _name_like(segment, 2, 4):
            found["author"] = segment
        else:
            return None
    return found or None


def _clean_name(text: str) -> str:
    text = re.split(r"\s+(?:and\s+)?(?:follow|updated|published)\b|[|·•,(]", text, flags=re.I)[0]
    text = text.strip(" .:-–—")
    return text if _name_like(text, 1, 6) else ""


def _title_cleanup(title: str, warnings: list[str]) -> str:
    words = title.split()
    stripped = 0
    while stripped < len(words) - 3 and words[stripped].lower().strip("|›>»/·•") in _NAV_WORDS:
        stripped += 1
    if stripped >= 2 or (stripped == 1 and words[0].strip("|›>»/·•").lower() in ("home", "menu")):
        warnings.append(f"Removed what looks like a menu from the title ({' '.join(words[:stripped])}).")
        title = " ".join(words[stripped:]).lstrip("|›>»/·• ")
    if " | " in title:
        head, site = title.split(" | ", 1)
        if len(head.split()) >= 3:
            warnings.append(f"Removed the site name from the title ({site}).")
            title = head
    return title.strip()


def _prose(text: str) -> bool:
    return len(text) > 160 or len(text.split()) > 25 or (text.endswith(".") and len(text.split()) > 12)


def _quote_of(text: str) -> tuple[str, str, bool] | None:
    """A stand-alone quotation line: (text, cite, closed), else None."""
    match = re.match(r"^(?P<q>[“\"«].+[”\"»])[,.]?\s*(?:—|―|–|--|-)\s*(?P<by>\S.{0,70})$", text)
    if match and (inner := _strip_quotes(match.group("q"))) and _name_like(match.group("by").split(",")[0], 1, 6):
        return inner, match.group("by").strip(), True
    if (inner := _strip_quotes(text)) is not None and len(text) <= 400:
        return inner, "", True
    if text[0] in "“\"«" and _OPENERS[text[0]] not in text[1:] and len(text) <= 300:
        return text[1:].strip(), "", False
    return None


def _heading_like(text: str, following: str | None) -> bool:
    if following is None or len(text) > 100:
        return False
    words = text.split()
    if len(words) > 14 or not (text[0].isupper() or text[0].isdigit()):
        return False
    if text[-1] in ".,;:…\"”’'" or text[0] in _OPENERS:
        return False
    if text.endswith(("?", "!")):
        long_words = [w for w in words if len(w) > 3]
        capitalised = sum(w[0].isupper() for w in long_words)
        if len(words) < 3 or capitalised < 0.6 * len(long_words):
            return False  # a short question in sentence case is a paragraph
    return not _STRONG_ATTRIBUTION.match(following)


def _parse_page(text: str, article: Article, where: str, name: str) -> None:
    warnings = article.warnings
    notes: list[str] = []  # warnings about the article's own text (not its discarded tail)
    text = _PHP_BLOCK.sub(lambda m: _dropped_php(m, notes), text) if "<?php" in text else text
    units = _drop_quote_widgets(_units(text), notes)
    pos, header = _page_header(units, article, notes, name, where)
    end, tail = _page_end(units, pos)
    body_units = units[pos:end]
    if body_units and not article.excerpt:
        pos = _standfirst(body_units, article)
        body_units = body_units[pos:]
    if not article.disclaimer:
        for index, unit in enumerate(body_units):
            if (index < 3 or index >= len(body_units) - 2) and len(unit.text) <= 400 \
                    and _DISCLAIMER.search(unit.text) and not _heading_like(unit.text, "x"):
                article.disclaimer = unit.text
                del body_units[index]
                break
    article.blocks = _page_blocks(body_units, notes)
    _page_tail(tail, article, notes)
    dropped = [n for n in notes if n.startswith("Dropped template code (")]
    if len(dropped) > 1:
        notes = [n for n in notes if n not in dropped]
        notes.append(dropped[0][:-2] + f" and {len(dropped) - 1} more).")
    warnings.extend(n for n in notes if n not in warnings)
    if header.get("date_note") and article.date:
        warnings.append(header["date_note"])


def _drop_quote_widgets(units: list[_Unit], notes: list[str]) -> list[_Unit]:
    """Units without stock-quote widgets (``NASDAQ: PEP``, ``Market Cap: $200B``, ``Volume``...).

    A widget is a run of ticker, quote-label and figure lines with at least two ticker or label
    lines (the company name may follow the ticker) that does not end on a bare label; one such
    line alone is left as it is.
    """
    kept: list[_Unit] = []
    dropped: list[str] = []
    index = 0
    while index < len(units):
        end = index
        strong = 0
        while end < len(units):
            text = units[end].text
            if _TICKER.match(text) or _QUOTE_LABEL.match(text):
                strong += 1
            elif not (end > index and (_QUOTE_FIGURE.match(text) or _PRICE_AS_OF.match(text) or (
                    _TICKER.match(units[end - 1].text) and _name_like(text, 1, 4)))):
                break
            end += 1
        while end > index + 1 and _QUOTE_LABEL.match(units[end - 1].text) \
                and not re.search(r"\d", units[end - 1].text):
            end -= 1  # a label with no figure under it ends no widget: it is a heading
            strong -= 1
        if strong >= 2:
            dropped += [u.text for u in units[index:end]]
            index = end
        else:
            kept.append(units[index])
            index += 1
    if dropped:
        notes.append(f"Dropped stock-quote widget lines ({_snippet(', '.join(dropped), 50)[1:-1]}).")
    return kept


def _page_header(units: list[_Unit], article: Article, notes: list[str], name: str,
                 where: str) -> tuple[int, dict]:
    """Read the title and metadata lines; returns (index of the first body unit, metadata)."""
    meta: dict = {}
    pos = 0

    def take(found: dict) -> None:
        for key, value in found.items():
            if key not in meta or (key == "date_note" and "date" not in meta):
                meta[key] = value

    anchor = _title_anchor(units)
    while pos < len(units):
        text = units[pos].text
        if (found := _meta(text)) is not None:
            take(found)
        elif re.fullmatch(r"https?://\S+", text) and sanitize.safe_link(text):
            article.url = article.url or text
        elif _template_only(text):
            notes.append(f"Dropped template code ({text[:40]}).")
        elif pos >= anchor and not (_nav(text) or _junk(text) or _RULE.match(text)
                                    or _END.match(text) or _BULLET.match(text)):
            break
        pos += 1
    if pos >= len(units):
        raise ContentError(f"{where}: no title found (only page furniture and metadata)")
    title = units[pos].text
    if _prose(title):
        article.title = _title_from_name_or_text(article, name, title)
    else:
        article.title = _title_cleanup(title, notes)
        pos += 1
    subtitle = None
    while pos < len(units):
        text = units[pos].text
        following = units[pos + 1].text if pos + 1 < len(units) else ""
        if (found := _meta(text)) is not None:
            take(found)
        elif _nav(text) and len(text.split()) <= 3 or _junk(text) or _PUNCTUATION_ONLY.fullmatch(text) \
                or _CREDIT.match(text) or "author" in meta and _ROLE.match(text):
            pass  # menu words, "Share", counters, a lone "·" or "--" between metadata lines
        elif _template_only(text):
            notes.append(f"Dropped template code ({text[:40]}).")
        elif "author" not in meta and _name_like(text, 2, 4) and (
                _meta(following) or _junk(following) or _ROLE.match(following)):
            meta["author"] = text
        elif subtitle is None and "date" not in meta and "read_time" not in meta \
                and not _BULLET.match(text) and (_meta(following) is not None or (
                    _name_like(following, 2, 4) and pos + 2 < len(units)
                    and (_meta(units[pos + 2].text) is not None or _junk(units[pos + 2].text)))):
            subtitle = text
        elif not article.disclaimer and _DISCLAIMER.search(text) and len(text) <= 400:
            article.disclaimer = text
        else:
            break
        pos += 1
    if subtitle:
        article.excerpt = subtitle
    article.date = meta.get("date")
    article.read_time = meta.get("read_time")
    article.author = meta.get("author", "")
    return pos, meta


def _dropped_php(match: re.Match, notes: list[str]) -> str:
    if len(match.group()) > 2000:
        return match.group()
    notes.append(f"Dropped template code ({' '.join(match.group().split())[:40]}).")
    return "\n" * match.group().count("\n")


def _title_anchor(units: list[_Unit]) -> int:
    """Where the title is when metadata lines (date, read time, byline) follow it closely.

    Everything above that title is page furniture (menus, section labels). A prose line just
    above the metadata is a subtitle, so the title is the short line above it. Returns 0 when
    the page has no such metadata near the top.
    """
    for index, unit in enumerate(units[:10]):
        if _meta(unit.text) is not None and index > 0:
            above = index - 1
            while above > 0 and (_prose(units[above].text) or _junk(units[above].text)
                                 or _template_only(units[above].text) or (
                    _name_like(units[above].text, 2, 4) and not _nav(units[above - 1].text)
                    and not _junk(units[above - 1].text))):
                above -= 1  # subtitle, "Follow", author name: the title is above them
            if above > 0 and _dek_under_title(units[above].text, units[above - 1].text):
                above -= 1
            if _prose(units[above].text) or _meta(units[above].text):
                return 0
            if _label_like(units[above].text) and "author" not in _meta(unit.text) \
                    and index + 1 < len(units) and _headline_like(units[index + 1].text):
                return index + 1  # a section label over a date line, and the headline under it
            return above
    return _headline_anchor(units)


#: How far down (in units) the headline of a page without metadata lines is looked for.
HEADLINE_WINDOW = 8


def _headline_anchor(units: list[_Unit]) -> int:
    """The most headline-like line near the top, for a page whose title no metadata line marks.

    Before the first prose line, page furniture is passed over: menus, a site banner in
    capitals, section labels (one or two words) and date lines; the headline is the first
    line of at least three words that is none of these. Returns 0 when there is no such line
    (then the first line that is not a menu is the title).
    """
    for index, unit in enumerate(units[:HEADLINE_WINDOW]):
        text = unit.text
        if _headline_like(text):
            return index
        if not (_nav(text) or _junk(text) or _meta(text) is not None or _RULE.match(text)
                or _template_only(text) or _label_like(text)):
            return 0  # prose, a list, a sentence: the page starts without furniture
    return 0


def _headline_like(text: str) -> bool:
    """Three to twenty words, not a sentence, not page furniture."""
    return 3 <= len(text.split()) <= 20 and not text.endswith(".") and not (
        _prose(text) or _nav(text) or _junk(text) or _label_like(text) or _meta(text) is not None
        or _BULLET.match(text) or _RULE.match(text) or _END.match(text) or _template_only(text))


def _label_like(text: str) -> bool:
    """A section label or site banner rather than a headline: one or two words, a "Section |
    Subsection" pair, or a short line in capitals."""
    words = text.split()
    if text.endswith(("?", "!")):
        return False
    if len(words) <= 2 or (len(words) <= 4 and re.fullmatch(r"[^|/›>]+\s[|/›>]\s[^|/›>]+", text)):
        return True
    letters = [c for c in text if c.isalpha()]
    return len(words) <= 5 and len(letters) >= 4 and all(c.isupper() for c in letters)


def _title_case(text: str) -> bool:
    long_words = [w for w in text.split() if len(w) > 3 and w[0].isalpha()]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) >= 0.6 * len(long_words)


def _dek_under_title(line: str, above: str) -> bool:
    """``line`` is a subtitle (dek) and ``above`` the headline over it: the dek is a sentence
    (ends with a full stop) or in sentence case under a Title Case headline."""
    words = above.split()
    if (len(words) < 3 or len(above) > 120 or _nav(above) or _junk(above) or _RULE.match(above)
            or _END.match(above) or _BULLET.match(above) or _template_only(above) or _prose(above)
            or _meta(above) is not None or above[-1] in ".,;:" or not (above[0].isupper() or above[0].isdigit())):
        return False
    if line.endswith(".") and not line.endswith("..."):
        return True
    return len(words) >= 4 and _title_case(above) and not _title_case(line)


def _title_from_name_or_text(article: Article, name: str, text: str) -> str:
    try:
        return _title_from_name(article, name, "")
    except ContentError:
        article.warnings.append("No title line found; title guessed from the opening sentence.")
        first = _sentences(text)[0].rstrip(".")
        return first if len(first) <= 90 else first[:89].rsplit(" ", 1)[0] + "…"


def _standfirst(units: list[_Unit], article: Article) -> int:
    """Take the standfirst: a first paragraph followed by a disclaimer line. Returns units used."""
    first = units[0].text
    if len(units) > 1 and _DISCLAIMER.search(units[1].text) and len(units[1].text) <= 400 \
            and not _heading_like(first, units[1].text) and not _BULLET.match(first) \
            and _quote_of(first) is None and len(first) <= 600:
        article.excerpt = first
        if not article.disclaimer:
            article.disclaimer = units[1].text
            return 2
        return 1
    return 0


def _page_end(units: list[_Unit], start: int) -> tuple[int, list[_Unit]]:
    """Where the body ends (an Author block, Related Articles, a paywall...) and the tail."""
    for index in range(start, len(units)):
        text = units[index].text
        if index > start and (_END.match(text) or _AUTHOR_MARK.match(text) or _PAYWALL.match(text)
                              or _WRITTEN_BY.match(text) and _clean_name(text.split(None, 2)[2])):
            return index, units[index:]
    return len(units), []


def _page_blocks(units: list[_Unit], notes: list[str]) -> list[Block]:
    blocks: list[Block] = []
    index = 0
    count = len(units)
    while index < count:
        text = units[index].text
        following = next((u.text for u in units[index + 1:] if not _junk(u.text)), None)
        index += 1
        if _template_only(text):
            notes.append(f"Dropped template code ({text[:40]}).")
            continue
        if _junk(text) or _PUNCTUATION_ONLY.fullmatch(text):
            continue
        if _RULE.match(text):
            blocks.append(Block("rule"))
            continue
        cite = _attribution(text, blocks, following)
        if cite:
            prev = blocks.pop()
            blocks.append(Block("quote", _unquoted(prev.content), cite=cite))
            continue
        if item := _BULLET.match(text):
            items = [_plain_inline(item.group(1))]
            while index < count and (item := _BULLET.match(units[index].text)):
                items.append(_plain_inline(item.group(1)))
                index += 1
            blocks.append(Block("list", items=tuple(items)))
            continue
        if _NUMBERED.match(text) and index < count and _NUMBERED.match(units[index].text):
            items = [_plain_inline(_NUMBERED.match(text).group(2))]
            while index < count and (item := _NUMBERED.match(units[index].text)):
                items.append(_plain_inline(item.group(2)))
                index += 1
            blocks.append(Block("list", items=tuple(items), ordered=True))
            continue
        quoted = _quote_of(text)
        if quoted:
            inner, by, closed = quoted
            if not closed:
                notes.append(f"A quotation opens and never closes: {_snippet(text)}")
            blocks.append(Block("quote", _plain_inline(inner), cite=by))
            continue
        if _KEY_POINTS.match(text):
            items, index = _key_points(units, index)
            if items:
                blocks.append(Block("list", items=tuple(_plain_inline(t) for t in items)))
            else:
                notes.append(f"Dropped a “{text}” label with no points under it.")
            continue
        if _heading_like(text, following):
            blocks.append(Block("heading", _plain_inline(text)))
            continue
        blocks.append(Block("paragraph", _plain_inline(text)))
    for text in (_block_text(b) for b in blocks):
        if span := _TEMPLATE_SPAN.search(text):
            notes.append(f"Template code {_snippet(span.group(), 30)} left in the text, shown as is.")
            break
    while blocks and blocks[-1].kind in ("heading", "rule"):
        blocks.pop()  # a heading with nothing under it is page furniture
    last = next((b for b in reversed(blocks) if b.kind == "paragraph"), None)
    if last is not None and last is blocks[-1]:
        words = last.content.text.split()
        if len(words) >= 6 and last.content.text[-1] not in ".!?…\"”’)»:":
            notes.append(f"The text seems cut off mid-sentence: …{' '.join(words[-6:])}")
        elif last.content.text.endswith(("...", "…")) and len(words) >= 6:
            notes.append("The text ends with “…”; it may be truncated.")
    return blocks


def _key_points(units: list[_Unit], start: int) -> tuple[list[str], int]:
    """The short lines under a bullet-less "Key Points" label at ``units[start - 1]`` and the
    index after them: lines set tight under it end at the first blank line (at most 5); lines
    with blank lines between them are the three a "Key Points" box holds."""
    tight = not units[start - 1].gap_after
    items: list[str] = []
    index = start
    while index < len(units) and len(items) < (5 if tight else 3):
        text = units[index].text
        text = bullet.group(1) if (bullet := _BULLET.match(text)) else text
        if len(text) > 220 or len(text.split()) > 35 or text.endswith(":") or _junk(text):
            break
        items.append(text)
        index += 1
        if tight and units[index - 1].gap_after:
            break
    return items, index


def _attribution(text: str, blocks: list[Block], following: str | None) -> str:
    """The name in a ``— Name`` line that attributes the paragraph or quote just before it."""
    match = _STRONG_ATTRIBUTION.match(text)
    if not match and (weak := _WEAK_ATTRIBUTION.match(text)):
        if not (following and _WEAK_ATTRIBUTION.match(following)) and blocks and blocks[-1].content \
                and blocks[-1].content.text[-1:] in ".!?”\"’":
            match = weak
    if not match or not blocks or blocks[-1].kind not in ("paragraph", "quote") or blocks[-1].cite:
        return ""
    name = match.group(1).strip()
    if len(blocks[-1].content.text) > 400 or not _name_like(name.split(",")[0].strip(), 1, 6):
        return ""
    return name


def _page_tail(tail: list[_Unit], article: Article, notes: list[str]) -> None:
    """The Author block (name, bio) and paywall markers after the body; the rest is debris."""
    if tail and _PAYWALL.match(tail[0].text):
        notes.append("The text stops at a “continue reading” / subscribers-only marker; it is truncated.")
    for index, unit in enumerate(tail):
        by = _BYLINE.match(unit.text)
        if _AUTHOR_MARK.match(unit.text) or (by and _clean_name(by.group(1))):
            name = _clean_name(by.group(1)) if by else ""
            bio: list[str] = []
            for nxt in tail[index + 1:]:
                text = nxt.text
                if _END.match(text) or _AUTHOR_MARK.match(text) or _template_only(text):
                    break
                if _junk(text) or _BIO_JUNK.match(text):
                    continue
                if not name and not bio and _name_like(text, 2, 5):
                    name = text
                    continue
                bio.append(text)
                if len(bio) == 2:
                    break
            if bio and not name:
                lead = re.match(r"^((?:[A-Z][\w'’.-]*\s+){1,3}[A-Z][\w'’-]*)\s+(?=[a-z])", bio[0])
                name = lead.group(1) if lead and _name_like(lead.group(1), 2, 4) else ""
            if name and not article.author:
                article.author = name
            if bio and not article.author_bio:
                article.author_bio = " ".join(bio)
            return
