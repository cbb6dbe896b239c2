"""Text helpers both readers share: dates, names, sentences, excerpts and quotations.

All pure: strings in, strings (or small tuples) out.
"""
from __future__ import annotations

import re
from datetime import date
from html import escape

from ..errors import ContentError
from .model import EXCERPT_MAX, Article, Block, Inline, Quote, slug_for
from .sanitize import safe_link, strip_breaks

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
# Month and weekday words: three letters and at most the six more of "september" or "wednesday"
# (an unbounded tail would rescan a long run of letters from every "mar" in it).
_MON = r"(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(?P<tail>[a-z]{0,6})\.?"
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d])"),
    re.compile(r"(?<!\d)(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?i)(?:\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]{0,6}\.?,?\s+)?" + _MON
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


def looks_like_name(text: str, min_words: int = 1, max_words: int = 5) -> bool:
    """Looks like a person's name: a few capitalised words, no digits or sentence punctuation."""
    words = text.split()
    if not min_words <= len(words) <= max_words or len(text) > 60:
        return False
    if any(ch.isdigit() for ch in text) or text[-1] in ".!?:;,\"”":
        return False
    particles = {"de", "da", "van", "von", "der", "den", "del", "la", "le", "di", "bin", "al", "and", "&"}
    return words[0][0].isupper() and all(w[0].isupper() or w.lower() in particles for w in words)


_URL = re.compile(r"https?://[^\s<>\"“”]+")


def plain_inline(text: str) -> Inline:
    """An Inline for plain text: escaped, with bare http(s) URLs made links."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group().rstrip(".,;:!?)]’'")
        if not safe_link(url):
            continue
        end = match.start() + len(url)
        parts.append(escape(text[last:match.start()]))
        parts.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        last = end
    parts.append(escape(text[last:]))
    return Inline(text, "".join(parts))


OPENERS = {"“": "”", '"': '"', "«": "»", "„": "“", "‘": "’", "”": "”"}
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "u.s", "u.k",
                  "inc", "no", "fig", "prof", "gen", "gov", "sen", "rep", "approx"}


#: Where a sentence may end: a whole run of closing punctuation (never entered halfway, so a long
#: run of dots is scanned once), closing quotes or brackets, then whitespace.
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]++[”’\"')\]]*+\s+")


def sentences(text: str) -> list[str]:
    """Split prose at sentence ends (not after common abbreviations or initials)."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        nxt = text[match.end():match.end() + 2].lstrip("“\"‘([")
        if not nxt or not (nxt[0].isupper() or nxt[0].isdigit()):
            continue
        word = _word_before(text, start, match.start()).lower()
        if match.group().startswith(".") and (word.strip("(\"“") in _ABBREVIATIONS
                                             or (len(word) == 1 and word.isalpha())):
            continue
        out.append(text[start:match.end()].strip())
        start = match.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def _word_before(text: str, start: int, end: int) -> str:
    """The last word of ``text[start:end]`` ("" if none), found without copying the slice."""
    stop = end
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    begin = stop
    while begin > start and not text[begin - 1].isspace():
        begin -= 1
    return text[begin:stop]


def cut_excerpt(paragraphs: list[str], limit: int = EXCERPT_MAX) -> tuple[str, bool]:
    """Opening paragraphs cut at a sentence end within ``limit`` characters.

    Returns (excerpt, cut_mid_sentence): when even the first sentence is too long it is cut
    at a word boundary and ends with "…".
    """
    out = ""
    for para in paragraphs:
        for sentence in sentences(para):
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


def opening_excerpt(blocks: list[Block]) -> tuple[str, bool]:
    paragraphs: list[str] = []
    for block in blocks:
        if block.kind == "paragraph" and block.content is not None:
            paragraphs.append(block.content.text.replace("\n", " "))
            if len(paragraphs) == 3:
                break
        elif paragraphs and block.kind in ("heading", "list", "quote"):
            break
    return cut_excerpt(paragraphs)


def strip_quotes(text: str) -> str | None:
    """``text`` without the quotation marks enclosing all of it, else None."""
    text = text.strip()
    if len(text) < 3 or text[0] not in OPENERS:
        return None
    closer = OPENERS[text[0]]
    core = text.rstrip(".,;")
    if core.endswith(closer) and len(core) > 2:
        inner = core[1:-1]
        if closer not in inner and not (closer == "”" and "“" in inner[1:] and inner.count("“") != inner.count("”")):
            return inner.strip()
    return None


def unquoted(inline: Inline) -> Inline:
    """An Inline without enclosing quotation marks (text and html alike)."""
    inner = strip_quotes(inline.text)
    if inner is None:
        return inline
    html = inline.html.strip()
    for opener, closer in (("“", "”"), ("&quot;", "&quot;"), ("«", "»"), ("„", "“"), ("‘", "’")):
        core = html.rstrip(".,;")
        if html.startswith(opener) and core.endswith(closer):
            return Inline(inner, core[len(opener):-len(closer)].strip())
    return Inline(inner, escape(inner))


_TRAILING_CITE = re.compile(r"^(?P<q>.*?[.!?…”\"’])\s+(?:—|―|–|--)\s*(?P<by>[^\s—–―-][^—–―]{0,70})$", re.S)


def split_cite(inline: Inline, strict: bool = True) -> tuple[Inline, str] | None:
    """A quotation ending in ``— Name`` split into (quote, name).

    ``strict`` wants a person's name; a blockquote's last ``— ...`` line is taken as it is.
    """
    match = _TRAILING_CITE.match(inline.text.strip())
    if not match:
        return None
    if strict and not looks_like_name(match.group("by").split(",")[0].strip(), 1, 6) \
            or len(match.group("by").split()) > 10:
        return None
    by = match.group("by").strip()
    text = match.group("q").strip()
    html = inline.html
    cut = max(html.rfind(mark) for mark in ("—", "―", "–", "--"))
    html = html[:cut].strip() if cut > 0 and "<" not in html[cut:] else escape(text)
    html = strip_breaks(html, leading=False)
    return unquoted(Inline(text, html)), by


def choose_quote(blocks: list[Block]) -> Quote | None:
    """The closing attributed quotation, else the best pull quote, else None."""
    body = [b for b in blocks if b.kind not in ("rule", "image")]
    if body and body[-1].kind == "quote" and body[-1].cite and body[-1].content:
        return Quote(body[-1].content.text, body[-1].cite)
    quotes = [b for b in body if b.kind == "quote" and b.content and b.content.text.strip()]
    if not quotes:
        return None
    best = min(quotes, key=lambda b: (not 30 <= len(b.content.text) <= 280, not b.cite))
    return Quote(best.content.text, best.cite)


def check_quotes(article: Article) -> None:
    texts = ([article.excerpt] if article.excerpt else []) + [
        b.content.text for b in article.blocks if b.kind in ("paragraph", "quote") and b.content]
    for text in texts:
        if text.count("“") > text.count("”") or text.count('"') % 2:
            article.warnings.append(f"A quotation opens and never closes: {snippet(text)}")
            return


def snippet(text: str, width: int = 60) -> str:
    text = " ".join(text.split()).lstrip("“\"«„‘")
    return f"“{text}”" if len(text) <= width else f"“{text[:width].rsplit(' ', 1)[0]}…”"



def title_from_name(article: Article, name: str, where: str) -> str:
    """A title made from the file name's slug words (with a warning); :class:`ContentError`
    naming ``where`` when the name has too few words to be one."""
    words = re.split(r"[-_\s]+", slug_for(name))
    words = [w for w in words if w]
    if len(words) >= 2 and any(w.isalpha() for w in words):
        article.warnings.append("No title found in the text; title made from the file name.")
        title = " ".join(words)
        return title[:1].upper() + title[1:]
    raise ContentError(f"{where}: no title found (add a title line, a # heading or front matter `title:`)")
