"""Web safety: response headers (CSP), safe ``next=`` targets, owner-only files."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
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


def private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
