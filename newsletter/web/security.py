"""Web safety: response headers (CSP), safe ``next=`` targets (owner-only files:
:mod:`newsletter.private_files`)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

#: Every page: only our own scripts; inline styles only because the email preview (an iframe
#: ``srcdoc``, which inherits this policy) is styled inline; images may come from anywhere an
#: email's images come from. No plugins, no <base>, forms post only to us, never framed.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' https: http: data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def add_headers(response: Response) -> Response:
    """Set the safety headers a view has not set itself."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default`` (never an off-site redirect)."""
    if not target or any(ord(c) < 0x20 or c in "\\" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
