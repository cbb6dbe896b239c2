"""What one line of a copied web page is: furniture, metadata, a name, a heading, a quotation.

The page reader (:mod:`.page`) works on :class:`Unit` lines; these tests look at one line (and
at most its neighbour) and are pure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .page_patterns import (
    AGO,
    BULLET,
    BYLINE,
    END,
    JUNK_WORDS,
    MENU_RUN,
    META_FILLER,
    NAV_WORDS,
    READ_TIME,
    RULE,
    SEPARATORS,
    STRONG_ATTRIBUTION,
    TIME,
    VIEWS,
)
from .template_code import template_only
from .text import OPENERS, find_date, looks_like_name, strip_quotes

#: Most non-blank lines of a copied page read: each costs the reader time, and a long article has
#: a few hundred. The page is cut there, with a warning.
MAX_LINES = 10_000

_JUNK_WORD = re.compile(r"[\w.']+")
_NAV_WORD = re.compile(r"[\w.&']+")
_META_LEAD = re.compile(r"(?i)^(?:updated|published|posted|last\s+updated)(?:\s+on)?:?\s*")
_META_TRAIL = re.compile(r"(?i)\s+(?:on|at|updated|published)$")
_NAME_END = re.compile(r"(?i)\s+(?:and\s+)?(?:follow|updated|published)\b|[|·•,(]")
_QUOTE_WITH_CITE = re.compile(r"^(?P<q>[“\"«].+[”\"»])[,.]?\s*(?:—|―|–|--|-)\s*(?P<by>\S.{0,70})$")
_SECTION_PAIR = re.compile(r"[^|/›>]+\s[|/›>]\s[^|/›>]+")
_LINE = re.compile(r"[^\n]+")


@dataclass
class Unit:
    """A line of a copied page (hard-wrapped lines joined), with whether a blank line follows."""

    text: str
    gap_after: bool = False


def split_units(text: str) -> tuple[list[Unit], bool]:
    """The page's non-blank lines as units, hard-wrapped lines joined, whitespace runs collapsed;
    and whether the page was cut, past its first :data:`MAX_LINES` non-blank lines."""
    lines: list[list[str]] = []  # each unit's lines, joined once at the end (joining as we go
    sizes: list[int] = []  # would copy a long paragraph again for each of its lines)
    gaps: list[bool] = []
    count, last_end, cut = 0, 0, False
    for match in _LINE.finditer(text):  # blank lines are skipped by the regex, not one by one
        stripped = " ".join(match.group().split())
        if gaps and match.start() > last_end + 1:
            gaps[-1] = True
        if not stripped:
            continue
        last_end = match.end()
        count += 1
        if count > MAX_LINES:
            cut = True
            break
        if gaps and not gaps[-1] and _continues(lines[-1][-1], sizes[-1], stripped):
            lines[-1].append(stripped)
            sizes[-1] += 1 + len(stripped)
            continue
        lines.append([stripped])
        sizes.append(len(stripped))
        gaps.append(False)
    if gaps:
        gaps[-1] = True
    return [Unit(" ".join(parts), gap) for parts, gap in zip(lines, gaps, strict=True)], cut


def _continues(prev_line: str, prev_size: int, line: str) -> bool:
    """A hard-wrapped line: the unit so far (``prev_size`` characters, ending with ``prev_line``)
    stops mid-sentence and this line goes on in lowercase."""
    return (line[0].islower() and prev_line[-1] not in ".!?:;…\"”’)" and not BULLET.match(line)
            and prev_size > 40)


def is_junk(text: str) -> bool:
    """A short line of share buttons, counters and the like ("Share", "Follow", "12")."""
    if len(text) > 60:
        return False
    words = _JUNK_WORD.findall(text.lower())
    return bool(words) and len(words) <= 6 and all(w in JUNK_WORDS or w.isdigit() for w in words) \
        and not text.endswith(("?", "!"))


def is_nav(text: str) -> bool:
    """A line of menu words only ("Home Markets Tech", "HomeNewsSport")."""
    if len(text) > 120:
        return False
    if MENU_RUN.fullmatch(text):
        return True  # menu words run together when copied: "HomeNewsSportBusiness"
    words = _NAV_WORD.findall(text.lower().replace("&", " "))
    return bool(words) and all(w in NAV_WORDS for w in words)


def line_metadata(text: str) -> dict | None:
    """Metadata found in a short header line (read time, views, date, byline), or None if the
    line is something else."""
    if len(text) > 160:
        return None
    found: dict = {}
    rest = text
    if match := READ_TIME.search(rest):
        if 0 < int(match.group(1)) < 1000:
            found["read_time"] = int(match.group(1))
        rest = rest[:match.start()] + " | " + rest[match.end():]
    if dated := find_date(rest):
        found["date"], span, found["date_note"] = dated
        rest = rest[:span[0]] + " | " + rest[span[1]:]
    rest = TIME.sub(" | ", rest)
    if AGO.search(rest):
        found["ago"] = True  # "2 hours ago": a time stamp with no date in it
        rest = AGO.sub(" | ", rest)
    if VIEWS.search(rest):
        found["views"] = True
        rest = VIEWS.sub(" | ", rest)
    for segment in SEPARATORS.split(rest):
        segment = segment.strip(" ,|")
        segment = _META_TRAIL.sub("", _META_LEAD.sub("", segment)).strip(" ,:")
        if not segment or META_FILLER.match(segment) or is_junk(segment):
            continue
        by = BYLINE.match(segment)
        name = clean_name(by.group(1)) if by else ""
        if name:
            found["author"] = name
        elif found and "author" not in found and looks_like_name(segment, 2, 4):
            found["author"] = segment
        else:
            return None
    return found or None


def clean_name(text: str) -> str:
    """The person's name at the start of a byline's text ("Ann Lee | Follow" -> "Ann Lee"), or ""."""
    text = _NAME_END.split(text, 1)[0]
    text = text.strip(" .:-–—")
    return text if looks_like_name(text, 1, 6) else ""


def clean_title(title: str, warnings: list[str]) -> str:
    """The title line without a leading menu or a trailing `` | Site name`` (each removal warned)."""
    words = title.split()
    stripped = 0
    while stripped < len(words) - 3 and words[stripped].lower().strip("|›>»/·•") in NAV_WORDS:
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


def is_headline_like(text: str) -> bool:
    """Three to twenty words, not a sentence, not page furniture."""
    return 3 <= len(text.split()) <= 20 and not text.endswith(".") and not (
        is_prose(text) or is_nav(text) or is_junk(text) or is_label_like(text)
        or line_metadata(text) is not None or BULLET.match(text) or RULE.match(text)
        or END.match(text) or template_only(text))


def is_label_like(text: str) -> bool:
    """A section label or site banner rather than a headline: one or two words, a "Section |
    Subsection" pair, or a short line in capitals."""
    words = text.split()
    if text.endswith(("?", "!")):
        return False
    if len(words) <= 2 or (len(words) <= 4 and _SECTION_PAIR.fullmatch(text)):
        return True
    letters = [c for c in text if c.isalpha()]
    return len(words) <= 5 and len(letters) >= 4 and all(c.isupper() for c in letters)


def is_prose(text: str) -> bool:
    """A line of running text (long, or a long sentence), not a title or a label."""
    return len(text) > 160 or len(text.split()) > 25 or (text.endswith(".") and len(text.split()) > 12)


def quotation_line(text: str) -> tuple[str, str, bool] | None:
    """A stand-alone quotation line: (text, cite, closed), else None."""
    match = _QUOTE_WITH_CITE.match(text)
    if match and (inner := strip_quotes(match.group("q"))) and looks_like_name(match.group("by").split(",")[0], 1, 6):
        return inner, match.group("by").strip(), True
    if (inner := strip_quotes(text)) is not None and len(text) <= 400:
        return inner, "", True
    if text[0] in "“\"«" and OPENERS[text[0]] not in text[1:] and len(text) <= 300:
        return text[1:].strip(), "", False
    return None


def looks_like_heading(text: str, following: str | None) -> bool:
    """A short capitalised line without closing punctuation, with text after it (``following``)."""
    if following is None or len(text) > 100:
        return False
    words = text.split()
    if len(words) > 14 or not (text[0].isupper() or text[0].isdigit()):
        return False
    if text[-1] in ".,;:…\"”’'" or text[0] in OPENERS:
        return False
    if text.endswith(("?", "!")):
        long_words = [w for w in words if len(w) > 3]
        capitalised = sum(w[0].isupper() for w in long_words)
        if len(words) < 3 or capitalised < 0.6 * len(long_words):
            return False  # a short question in sentence case is a paragraph
    return not STRONG_ATTRIBUTION.match(following)


def is_title_case(text: str) -> bool:
    """Most long words of ``text`` start with a capital."""
    long_words = [w for w in text.split() if len(w) > 3 and w[0].isalpha()]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) >= 0.6 * len(long_words)


def is_dek_under_title(line: str, above: str) -> bool:
    """``line`` is a subtitle (dek) and ``above`` the headline over it: the dek is a sentence
    (ends with a full stop) or in sentence case under a Title Case headline."""
    words = above.split()
    if (len(words) < 3 or len(above) > 120 or is_nav(above) or is_junk(above) or RULE.match(above)
            or END.match(above) or BULLET.match(above) or template_only(above) or is_prose(above)
            or line_metadata(above) is not None or above[-1] in ".,;:"
            or not (above[0].isupper() or above[0].isdigit())):
        return False
    if line.endswith(".") and not line.endswith("..."):
        return True
    return len(words) >= 4 and is_title_case(above) and not is_title_case(line)
