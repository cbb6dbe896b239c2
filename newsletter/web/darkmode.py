"""The dark-mode view of an email, for the preview.

Chromium gives an iframe the editor's own colour scheme, so the dark view rewrites the email
instead: its ``prefers-color-scheme: dark`` rules are made unconditional (and the light-only
ones switched off) and the page declares ``color-scheme: dark``, which is what a dark-mode
client that honours the email's own styles (Apple Mail, iOS Mail, Outlook for Mac) shows.
An email with no dark rules gets none of that; the page then shows the forced inversion
clients such as the Gmail and Outlook apps apply instead (see ``inverted``).
"""
from __future__ import annotations

import re

_MEDIA = re.compile(r"@media\b([^{;]*)\{", re.IGNORECASE)
_DARK = re.compile(r"prefers-color-scheme\s*:\s*dark", re.IGNORECASE)
_LIGHT = re.compile(r"prefers-color-scheme\s*:\s*light", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)

DECLARE_DARK = '<meta name="color-scheme" content="dark"><style>:root{color-scheme:dark}</style>'


def has_dark_rules(html: str) -> bool:
    return any(_DARK.search(m.group(1)) for m in _MEDIA.finditer(html))


def dark_view(html: str) -> str:
    """``html`` as a client in dark mode renders it, when it honours the email's dark rules."""

    def rewrite(match: re.Match) -> str:
        query = match.group(1)
        if _DARK.search(query):
            return "@media all{"
        if _LIGHT.search(query):
            return "@media not all{"
        return match.group(0)

    return inject_head(_MEDIA.sub(rewrite, html), DECLARE_DARK)


def inject_head(html: str, snippet: str) -> str:
    """``html`` with ``snippet`` first thing in its head."""
    head = _HEAD.search(html)
    if head:
        return html[: head.end()] + snippet + html[head.end():]
    return snippet + html


def inject_body(html: str, snippet: str) -> str:
    """``html`` with ``snippet`` first thing in its body."""
    body = _BODY.search(html)
    if body:
        return html[: body.end()] + snippet + html[body.end():]
    return snippet + html
