"""Template code left in an article (``{{ x }}``, ``{% if %}``, ``<?php ... ?>``): finding and dropping it.

A span runs from an opener to the first matching closer after it. Spans are found with
``str.find`` rather than a regex: ``\\{\\{.*?\\}\\}`` looks for a closer from every opener, which
takes quadratic time on a long run of openers with no closer after them.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

#: The template engines' delimiters (Jinja/Liquid, PHP, ERB/ASP): opener and closer.
DELIMITERS = (("{{", "}}"), ("{%", "%}"), ("{#", "#}"), ("<?", "?>"), ("<%", "%>"))
#: A PHP block, up to its ``?>`` or the end of the text (each is scanned once: linear).
PHP_BLOCK = re.compile(r"<\?php\b.*?(?:\?>|\Z)", re.S)
#: PHP blocks longer than this are left alone (shown as text): too much to drop silently.
_PHP_DROP_MAX = 2000
# A line of simple spans only (nothing inside that could open or close another): the quick
# answer of :func:`template_only` for the usual ``{{ x }}`` or ``{% endif %}`` line.
_SIMPLE_SPANS = re.compile(r"(?:\s*(?:\{\{[^{}<>%#?]*\}\}|\{%[^{}<>%#?]*%\}|\{#[^{}<>%#?]*#\}"
                           r"|<\?[^{}<>%#?]*\?>|<%[^{}<>%#?]*%>))+\s*")
_WORD = re.compile(r"[^\W_]")


def template_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each span of template code in ``text``, left to right, not overlapping."""
    if "{" not in text and "<" not in text:
        return  # no opener: the quick answer for nearly every line
    last_closer = {closer: text.rfind(closer) for _, closer in DELIMITERS}
    next_opener = {opener: text.find(opener) for opener, _ in DELIMITERS}  # -1: none left
    pos = 0
    while True:
        best: tuple[int, str] | None = None
        for opener, closer in DELIMITERS:
            at = next_opener[opener]
            if 0 <= at < pos:
                at = next_opener[opener] = text.find(opener, pos)
            if at != -1 and at + 2 <= last_closer[closer] and (best is None or at < best[0]):
                best = (at, closer)  # an opener with no closer after it never gets one
        if best is None:
            return
        at, closer = best
        pos = text.find(closer, at + 2) + len(closer)
        yield at, pos


def first_template_span(text: str) -> str | None:
    """The first span of template code in ``text``, or None."""
    for start, end in template_spans(text):
        return text[start:end]
    return None


def without_template_spans(text: str) -> str:
    """``text`` with every span of template code removed."""
    parts: list[str] = []
    last = 0
    for start, end in template_spans(text):
        parts.append(text[last:start])
        last = end
    parts.append(text[last:])
    return "".join(parts)


def template_only(line: str) -> bool:
    """A line made of template code only (``{{ x }}``, ``{% if %}``, ``<?php ?>``, a stray ``?>``)."""
    stripped = line.strip()
    if stripped in ("?>", "<?php", "<?", "%>"):
        return True
    if "{" not in stripped and "<" not in stripped:
        return False  # no opener: the quick answer for nearly every line
    if _SIMPLE_SPANS.fullmatch(stripped):
        return True
    rest = without_template_spans(stripped)
    return rest != stripped and not _WORD.search(rest)


def drop_php_blocks(text: str) -> tuple[str, list[str]]:
    """``text`` without its PHP blocks (each replaced by as many line breaks) and the blocks dropped.

    A block over 2,000 characters is kept as it is.
    """
    dropped: list[str] = []

    def drop(match: re.Match) -> str:
        if len(match.group()) > _PHP_DROP_MAX:
            return match.group()
        dropped.append(match.group())
        return "\n" * match.group().count("\n")

    return PHP_BLOCK.sub(drop, text), dropped
