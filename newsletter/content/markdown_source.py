"""A Markdown body tidied before it is rendered: template lines, unclosed raw HTML, deep nesting.

Each pass looks only at the lines that matter to it (fence lines and its own candidates), found
by one regex over the whole text: a million blank or ordinary lines cost no Python work.
Lines inside fenced code are left alone. Pure: no I/O.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from .template_code import drop_php_blocks, template_only

#: Deepest nesting of lists and quotes that one line may open; markers past it are kept as text
#: (the Markdown engine and the sanitizer take time and memory for every level).
MAX_NESTING = 32

_FENCE = r"[^\S\n]{0,3}(?:```|~~~)"
# A line a template span may make up: it has an opener character and a closer (a superset of
# the lines :func:`template_only` accepts), or is one of its lone markers.
_TEMPLATE_LINE = re.compile(
    rf"^(?:(?P<fence>{_FENCE})|(?=[^\n]*[{{<])[^\n]*(?:[}}%#]\}}|[?%]>)|[^\S\n]*(?:\?>|%>|<\?(?:php)?)[^\S\n]*$)"
    r"[^\n]*", re.M)
# HTML blocks that run to their end tag (or "-->") rather than to a blank line: left open, they
# make the rest of the article raw HTML.
_RAW_BLOCK_START = re.compile(r"^ {0,3}(?:<(script|pre|style|textarea)(?=[\s>]|$)|<!--)", re.I)
_RAW_BLOCK_HINT = re.compile(r"<(?:script|pre|style|textarea|!--)", re.I)
_RAW_BLOCK_END = re.compile(r"</(?:script|pre|style|textarea)>", re.I)
_RAW_BLOCK_LINE = re.compile(rf"^(?:(?P<fence>{_FENCE})|{_RAW_BLOCK_START.pattern[1:]})[^\n]*", re.M | re.I)
# A list or quote marker and the spaces after it, up to the next block (CommonMark: up to four
# spaces; past that the next block is code). Atomic: a run of markers not deep enough is given
# up at once, not split up other ways.
_MARKER = r"(?:>|(?:[-+*]|\d{1,9}[.)])(?=[ ]|$))"
# A line opening more than MAX_NESTING lists and quotes; two markers in a row, which it has.
_DEEP_LINE = re.compile(
    rf"^(?:(?P<fence>{_FENCE})[^\n]*|[ ]{{0,3}}(?>{_MARKER}[ ]{{0,4}}){{{MAX_NESTING}}}(?={_MARKER}))", re.M)
_NESTED_MARKERS = re.compile(r"[-+*>.)][ ]{0,4}(?:[-+*>]|\d)")
_NEXT_MARKER = re.compile(r"\d*+")  # the escape goes before the marker's . or ), else before it
_THEMATIC_BREAK = re.compile(r"[ ]*+([-*_])(?:[ ]*+\1)*+[ ]*+")


def prepare(body: str, warnings: list[str]) -> str:
    """``body`` as the Markdown engine should see it: without template code lines, with unclosed
    raw HTML blocks opened no more, and with lists and quotes nested at most :data:`MAX_NESTING`
    levels deep on a line; each change that drops or moves something is warned about."""
    return _flatten_deep_nesting(_close_raw_html_blocks(_drop_template_code(body, warnings), warnings), warnings)


def _lines(pattern: re.Pattern, text: str) -> Iterator[tuple[re.Match, bool]]:
    """Each line ``pattern`` matches and whether it is inside fenced code (a fence line toggles
    that before it is yielded; ``pattern`` names fence lines ``fence``)."""
    in_fence = False
    for match in pattern.finditer(text):
        if match.group("fence") is not None:
            in_fence = not in_fence
        yield match, in_fence


def _edited(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with each (start, end, replacement) of ``edits`` (in order, not overlapping)."""
    parts: list[str] = []
    last = 0
    for start, end, replacement in edits:
        parts += [text[last:start], replacement]
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _drop_template_code(text: str, warnings: list[str]) -> str:
    """Drop template debris lines (outside fenced code), with one warning."""
    text, dropped = drop_php_blocks(text)
    if not any(mark in text for mark in ("}}", "%}", "#}", "?>", "%>", "<?")):
        return text  # no line can be template code (the quick answer for nearly every article)
    edits: list[tuple[int, int, str]] = []
    for match, in_fence in _lines(_TEMPLATE_LINE, text):
        if not in_fence and template_only(match.group()):
            dropped.append(match.group().strip())
            edits.append((match.start(), match.end(), ""))
    if dropped:
        sample = " ".join(dropped[0].split())[:40]
        warnings.append(f"Dropped template code ({sample}{' and more' if len(dropped) > 1 else ''}).")
    return _edited(text, edits)


def _close_raw_html_blocks(text: str, warnings: list[str]) -> str:
    """Remove the opening tag of each ``<script>``, ``<pre>``, ``<style>``, ``<textarea>`` or
    ``<!--`` HTML block (outside fenced code) that nothing closes after it, with a warning, so
    the Markdown after it is read as Markdown."""
    if not _RAW_BLOCK_HINT.search(text):
        return text
    last_end = max((m.start() for m in _RAW_BLOCK_END.finditer(text)), default=-1)
    last_comment_end = text.rfind("-->")
    edits: list[tuple[int, int, str]] = []
    for match, in_fence in _lines(_RAW_BLOCK_LINE, text):
        line, offset = match.group(), match.start()
        start = None if in_fence or match.group("fence") is not None else _RAW_BLOCK_START.match(line)
        if not start:
            continue
        name = (start.group(1) or "").lower()
        opener = start.end() - len(start.group(0).lstrip())
        if name and last_end < offset + opener:
            closing = line.find(">", start.end())
            warnings.append(f"An unclosed <{name}> tag was removed; the text after it is kept.")
            edits.append((offset + opener, offset + (closing + 1 if closing != -1 else len(line)), ""))
        elif not name and last_comment_end < offset + start.end():
            warnings.append("An unclosed HTML comment (<!--) was removed; the text after it is kept.")
            edits.append((offset + opener, offset + start.end(), ""))
    return _edited(text, edits)


def _flatten_deep_nesting(text: str, warnings: list[str]) -> str:
    """Keep as text the list and quote markers past :data:`MAX_NESTING` on each line (outside
    fenced code): the first of them is escaped, so the rest of the line is the deepest item's
    text. A line that ends in a thematic break at that depth (``- - - -``) nests no deeper."""
    if not _NESTED_MARKERS.search(text):
        return text
    edits: list[tuple[int, int, str]] = []
    for match, in_fence in _lines(_DEEP_LINE, text):
        if in_fence or match.group("fence") is not None:
            continue
        end = text.find("\n", match.end())
        if _THEMATIC_BREAK.fullmatch(text, match.end(), end if end != -1 else len(text)):
            continue
        at = _NEXT_MARKER.match(text, match.end()).end()
        edits.append((at, at, "\\"))
    if edits:
        warnings.append(f"Lists or quotes nested more than {MAX_NESTING} levels deep were flattened: "
                        "the deeper markers are kept as text.")
    return _edited(text, edits)
