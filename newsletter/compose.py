"""Render an issue (one or more articles) into email HTML and a plain-text part.

Ghost-style: the issue is rendered and inlined once; per-recipient values are placeholder
tokens filled in at the very end by :meth:`RenderedIssue.fill`. Preview, test send and the
real send all go through :func:`render_issue`.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

#: Per-recipient values and the tokens that stand for them in a rendered issue. Tokens are
#: plain ASCII word characters, so quoted-printable encoding leaves them intact (it may still
#: break a line inside one: the MIME builder must guard against that).
TOKENS: dict[str, str] = {
    "name": "NLTOKxNAMExNLTOK",
    "email": "NLTOKxEMAILxNLTOK",
    "unsubscribe_url": "NLTOKxUNSUBSCRIBExNLTOK",
    "webview_url": "NLTOKxWEBVIEWxNLTOK",
}


@dataclass(frozen=True)
class RenderedIssue:
    """One issue rendered once: every recipient's copy is this with the tokens filled in."""

    subject: str
    preheader: str
    html: str  # inlined email HTML with TOKENS in place
    text: str  # plain-text part with TOKENS in place

    def fill(self, values: dict[str, str]) -> tuple[str, str]:
        """The (html, text) for one recipient; ``values`` maps TOKENS keys to plain text."""
        html, text = self.html, self.text
        for key, token in TOKENS.items():
            value = values.get(key, "")
            html = html.replace(token, escape(value, quote=True))
            text = text.replace(token, value)
        return html, text
