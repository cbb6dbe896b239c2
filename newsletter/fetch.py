"""Fetching a feed or a web page: over HTTP(S) with limits, or from a local file.

One call reads one source. Over HTTP: the whole fetch (connect, redirects, body) must finish
within ``timeout`` seconds; the body is streamed and reading stops once it passes
``max_bytes`` (a huge response is never held in memory); redirects are followed by hand, at
most :data:`MAX_REDIRECTS`, to http(s) only, and a loop is named as one; TLS certificates are
always verified. Conditional GET: pass the ``etag``/``last_modified`` of the previous fetch and
a ``304 Not Modified`` comes back as :attr:`Fetched.not_modified`. Every failure is a
:class:`FetchError` with a one-line message.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import urllib3

from .errors import InputError

MAX_REDIRECTS = 5
USER_AGENT = "newsletter/0.1 (feed and page reader)"
CHUNK = 64 * 1024


class FetchError(InputError):
    """A source that could not be read (unreachable, HTTP error, too big, too slow; exit 2)."""


@dataclass(frozen=True)
class Fetched:
    """What a fetch brought back. ``body`` is None when the source was not modified."""

    url: str
    body: bytes | None
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.body is None


def is_web_url(source: str) -> bool:
    """True for an ``http://`` or ``https://`` URL (anything else is taken as a file path)."""
    return urlsplit(source.strip()).scheme.lower() in ("http", "https")


def fetch(
    source: str,
    *,
    timeout: float,
    max_bytes: int,
    etag: str = "",
    last_modified: str = "",
    accept: str = "*/*",
) -> Fetched:
    """Read ``source``, an http(s) URL or a file path (see module docstring)."""
    if is_web_url(source):
        return _fetch_http(source.strip(), timeout, max_bytes, etag, last_modified, accept)
    return _read_file(Path(source).expanduser(), max_bytes)


def _read_file(path: Path, max_bytes: int) -> Fetched:
    try:
        with path.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise FetchError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FetchError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise FetchError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(body) > max_bytes:
        raise FetchError(f"{path}: larger than the {_size(max_bytes)} limit")
    return Fetched(url=str(path), body=body)


def _fetch_http(
    url: str, timeout: float, max_bytes: int, etag: str, last_modified: str, accept: str
) -> Fetched:
    deadline = time.monotonic() + timeout
    headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", retries=False)
    seen = [url]
    try:
        while True:
            response = _request(pool, url, headers, deadline, timeout)
            if response.status in (301, 302, 303, 307, 308):
                url = _redirect_target(response, url, seen)
                continue
            try:
                return _result(response, url, max_bytes, deadline, timeout)
            finally:
                response.close()
    finally:
        pool.clear()


def _request(pool: urllib3.PoolManager, url: str, headers: dict, deadline: float, timeout: float):
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"{url}: no answer within {timeout:g} s")
    try:
        return pool.request(
            "GET", url, headers=headers, redirect=False, preload_content=False,
            timeout=urllib3.Timeout(connect=left, read=left),
        )
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(f"{url}: {_reason(exc, timeout)}") from None


def _redirect_target(response, url: str, seen: list[str]) -> str:
    location = response.headers.get("Location", "").strip()
    response.close()
    if not location:
        raise FetchError(f"{url}: HTTP {response.status} redirect without a Location")
    target = urljoin(url, location)
    if not is_web_url(target):
        raise FetchError(f"{url}: redirect to {target[:80]!r}, which is not an http(s) URL")
    if target in seen:
        raise FetchError(f"{seen[0]}: redirect loop ({' -> '.join(seen[seen.index(target):] + [target])})")
    seen.append(target)
    if len(seen) > MAX_REDIRECTS + 1:
        raise FetchError(f"{seen[0]}: more than {MAX_REDIRECTS} redirects")
    return target


def _result(response, url: str, max_bytes: int, deadline: float, timeout: float) -> Fetched:
    meta = {
        "content_type": response.headers.get("Content-Type", ""),
        "etag": response.headers.get("ETag", ""),
        "last_modified": response.headers.get("Last-Modified", ""),
    }
    if response.status == 304:
        return Fetched(url=url, body=None, **meta)
    if not 200 <= response.status < 300:
        raise FetchError(f"{url}: HTTP {response.status} {response.reason or ''}".rstrip())
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:  # not "²"
        raise FetchError(f"{url}: response of {_size(int(declared))} is over the {_size(max_bytes)} limit")
    body = bytearray()
    try:
        for chunk in response.stream(CHUNK, decode_content=True):
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(f"{url}: response is over the {_size(max_bytes)} limit; stopped reading")
            if time.monotonic() > deadline:
                raise FetchError(f"{url}: not fully received within {timeout:g} s")
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(f"{url}: {_reason(exc, timeout)}") from None
    return Fetched(url=url, body=bytes(body), **meta)


def _reason(exc: Exception, timeout: float) -> str:
    """A short reason for a urllib3 error (its own messages carry pool and object names)."""
    cause = getattr(exc, "reason", None) or exc
    if isinstance(cause, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return f"no answer within {timeout:g} s"
    if isinstance(cause, urllib3.exceptions.SSLError):
        return f"TLS error: {str(cause).split(': ', 1)[-1][:160]}"
    if isinstance(cause, urllib3.exceptions.NewConnectionError):
        text = str(cause)
        return "cannot connect: " + (text.split("] ", 1)[-1] if "] " in text else text.split(": ", 1)[-1])[:160]
    if isinstance(cause, urllib3.exceptions.NameResolutionError):
        return "cannot resolve the host name"
    if isinstance(cause, urllib3.exceptions.ProtocolError):
        return "the connection broke off"
    return " ".join(str(cause).split())[:200]


def _size(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n / 1000:g} kB"
