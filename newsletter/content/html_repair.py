"""Raw HTML made safe to hand to lxml without losing the text around it.

libxml2's HTML parser, like a browser, lets some elements swallow what follows them: an unclosed
``<title>``, ``<script>`` or ``<textarea>`` (raw text up to its end tag), ``<!--`` with no
``-->``, an unclosed ``<object>`` or ``<svg>`` (their content, dropped by the sanitizer with
them), an ``<embed>`` (void in HTML, not in libxml2) and nesting deeper than 256 levels (all of
it). An article's author meant none of that, so before parsing, in one linear scan:

- an unclosed comment, raw-text element or dropped element loses its opening tag (the text
  after it stays, and a warning says so);
- void elements libxml2 does not know are written self-closing;
- ``html``, ``head`` and ``body`` tags are removed (two ``<body>`` tags crash lxml's fragment
  parser);
- tags nested deeper than :data:`MAX_DEPTH` are removed (their text stays);
- the HTML is cut before its tag number :data:`MAX_TAGS` + 1, with a warning.
"""
from __future__ import annotations

import re

#: Elements whose content is raw text up to their end tag.
RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
                      "plaintext"})
#: Void elements (no content, no end tag) that libxml2 treats as containers.
VOID_UNKNOWN = frozenset({"embed", "source", "track", "wbr", "param", "keygen", "portal"})
#: Elements with an optional end tag: not counted in the nesting depth.
_OPTIONAL_END = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead",
                           "tbody", "tfoot", "colgroup", "caption", "rt", "rp"})
_VOID = frozenset({"area", "base", "br", "col", "hr", "img", "input", "link", "meta", "frame"}) | VOID_UNKNOWN
_DOCUMENT = frozenset({"html", "head", "body"})
#: Deepest element nesting kept (libxml2 drops everything past 256 levels).
MAX_DEPTH = 200
#: Most tags (and comments) read: each costs the sanitizer time, and a long article has a few
#: thousand. The HTML is cut before the next one, with a warning.
MAX_TAGS = 20_000
_TAG_OR_COMMENT = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)|<!--")
_TAG_END = re.compile(r"[>\"']")


def repair(html: str, swallowing: frozenset[str]) -> tuple[str, list[str]]:
    """``html`` with the repairs above and the warnings they call for.

    ``swallowing`` names the (non raw-text) elements the caller drops with their content: those
    must be closed to be dropped.
    """
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), in order
    warned: list[str] = []
    open_tags: dict[str, list[tuple[int, int]]] = {}  # name: unclosed opening tags (start, end)
    no_closer_after: dict[str, int] = {}  # name: a position with no end tag of that name after it
    nesting = _Nesting()
    pos, count, cut = 0, 0, len(html)
    while match := _TAG_OR_COMMENT.search(html, pos):
        start = match.start()
        count += 1
        if count > MAX_TAGS:
            cut = start
            _warn(warned, f"The article is too big to read whole: it was cut after {MAX_TAGS:,} HTML tags.")
            break
        if match.group(0) == "<!--":
            end = html.find("-->", start + 4)
            if end == -1:
                edits.append((start, start + 4, ""))
                _warn(warned, "An unclosed HTML comment (<!--) was removed; the text after it is kept.")
                pos = start + 4
            else:
                pos = end + 3
            continue
        closing, name, end = match.group(1), match.group(2).lower(), _tag_end(html, match.end())
        pos = end
        if name in _DOCUMENT:
            edits.append((start, end, ""))
        elif closing:
            if open_tags.get(name):
                open_tags[name].pop()
            if not nesting.close(name):
                edits.append((start, end, ""))
        elif name in _VOID:
            if name in VOID_UNKNOWN and html.startswith(">", end - 1) and not html.startswith("/>", end - 2):
                edits.append((end - 1, end, "/>"))
        elif name in RAW_TEXT:
            closer = _find_end_tag(html, name, end, no_closer_after)
            if closer == -1:
                edits.append((start, end, ""))
                _warn(warned, f"An unclosed <{name}> tag was removed; the text after it is kept.")
            else:
                pos = closer  # its content is text, not tags
        else:
            if name not in _OPTIONAL_END and not nesting.open(name):
                edits.append((start, end, ""))
                continue
            if name in swallowing:
                open_tags.setdefault(name, []).append((start, end))
    for name, unclosed in open_tags.items():
        for start, end in unclosed:
            edits.append((start, end, ""))
            _warn(warned, f"An unclosed <{name}> tag was removed; the text after it is kept.")
    return _apply(html[:cut], edits), warned


class _Nesting:
    """The elements open at a point of the HTML, as the parser will nest them: an end tag closes
    the last open element of its name and all those inside it; a stray one closes nothing."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.at: dict[str, list[int]] = {}  # name: its indices in ``stack``
        self.removed: dict[str, int] = {}  # name: opening tags removed for depth, not yet closed

    def open(self, name: str) -> bool:
        """Open ``name``; False if it is past :data:`MAX_DEPTH` (its tag is to be removed)."""
        if len(self.stack) >= MAX_DEPTH:
            self.removed[name] = self.removed.get(name, 0) + 1
            return False
        self.at.setdefault(name, []).append(len(self.stack))
        self.stack.append(name)
        return True

    def close(self, name: str) -> bool:
        """Close ``name``; False if its opening tag was removed (so is this end tag)."""
        if self.removed.get(name):
            self.removed[name] -= 1
            return False
        if self.at.get(name):
            index = self.at[name][-1]
            for closed in self.stack[index:]:
                self.at[closed].pop()
            del self.stack[index:]
        return True


def _tag_end(html: str, pos: int) -> int:
    """Index just past the ``>`` closing the tag whose attributes start at ``pos`` (quoted values
    may hold ``>``), or the end of ``html``."""
    while match := _TAG_END.search(html, pos):
        if match.group() == ">":
            return match.end()
        close = html.find(match.group(), match.end())
        if close == -1:
            break  # an unclosed quote: the next ">" ends the tag
        pos = close + 1
    end = html.find(">", pos)
    return len(html) if end == -1 else end + 1


def _find_end_tag(html: str, name: str, pos: int, no_closer_after: dict[str, int]) -> int:
    """Where ``</name`` (any case) next starts at or after ``pos``, or -1; a search that found
    none is remembered, so each name's search covers the text once."""
    if pos >= no_closer_after.get(name, len(html) + 1):
        return -1
    found = re.compile(rf"</{name}(?![A-Za-z0-9-])", re.I).search(html, pos)
    if found is None:
        no_closer_after[name] = pos
        return -1
    return found.start()


def _apply(html: str, edits: list[tuple[int, int, str]]) -> str:
    if not edits:
        return html
    parts: list[str] = []
    last = 0
    for start, end, text in sorted(edits):
        parts.append(html[last:start])
        parts.append(text)
        last = end
    parts.append(html[last:])
    return "".join(parts)


def _warn(warned: list[str], message: str) -> None:
    if message not in warned:
        warned.append(message)
