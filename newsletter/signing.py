"""Signing keys and the signed tokens in public links (the URLs themselves: :mod:`urls`).

A link names a subscriber by their random key (``subscribers.key``), never by address: the
token is ``KEY.SIGNATURE`` (itsdangerous, one salt per purpose), so proxies and access logs
that see the URL learn nothing about who it belongs to. Unsubscribe links mailed before keys
existed (``base64([id, "address"]).SIGNATURE``) keep working: :func:`read_subscriber_token`
still reads them.

A confirmation link (purpose ``confirm``) expires: it is ``KEY.NONCE.TIMESTAMP.SIGNATURE``
(a TimestampSigner), read back only within ``[subscribe] confirm_expiry``; the nonce is the
one stored with the subscriber until the link is used, so it works once. The hosted signup
form carries a token of its own (:func:`form_token`): a signed random value that is also the
form's cookie, with the time the page was served.
A test copy carries a test token in place of a subscriber's (:func:`test_token`):
``test-issue-ID`` or ``test-article-SLUG`` with the time it was made, signed; its links stop
working after :data:`TEST_MAX_AGE`.

Tokens are signed with itsdangerous. Keys come from ``NEWSLETTER_SECRET_KEY``; key rotation:
the variable may hold several keys separated by commas, newest first
(``NEWSLETTER_SECRET_KEY="new-key,old-key"``): the first signs, every one verifies, so links
in messages already sent keep working until the old key is dropped. With no key set (a fresh
install) a random key is generated once and kept in ``<instance>/secret_key`` (mode 0600).
"""
from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Callable

from itsdangerous import BadSignature, SignatureExpired, Signer, TimestampSigner, URLSafeSerializer

from .config import Config
from .errors import ConfigError, InputError, LinkExpired
from .private_files import private_fd

KEY_FILE = "secret_key"


def secret_keys(config: Config) -> list[str]:
    """The signing keys, newest first (see module docstring). Also used for web sessions."""
    keys = [key.strip() for key in config.secret("secret_key").split(",") if key.strip()]
    return keys or [_instance_key(config.instance_path / KEY_FILE)]


def _instance_key(path: Path) -> str:
    """The key kept in ``path``, created (0600) when missing.

    The file appears whole or not at all (written aside, then hard-linked into place), so a
    thread or process racing to read it never sees it half-written and signs with an empty key.
    """
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(32)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = private_fd(aside, os.O_WRONLY | os.O_TRUNC)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(key + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.link(aside, path)
        except FileExistsError:  # another thread or process made it first: use theirs
            key = path.read_text(encoding="ascii").strip()
        finally:
            aside.unlink(missing_ok=True)
    if not key:
        raise ConfigError(f"{path}: the secret key file is empty; delete it to make a new key")
    return key


@dataclass(frozen=True)
class SubscriberRef:
    """Who a link names: a subscriber key (current links) or, in links mailed before keys
    existed, a subscriber id with the address it was sent to. A confirmation link also
    carries the nonce it was made with."""

    key: str | None = None
    subscriber_id: int | None = None
    email: str | None = None
    nonce: str | None = None


#: what a link is for; each signs with its own salt, so one kind of token never passes for another
PURPOSES = frozenset({"unsubscribe", "preferences", "confirm"})
#: purposes whose links expire (signed with the time they were made)
TIMED = frozenset({"confirm"})
#: the hosted signup form's token: not a subscriber's, so not one of PURPOSES
FORM = "subscribe-form"
#: a test copy's token (:func:`test_token`): names an issue or an article, not a subscriber
TEST = "test"


@lru_cache(maxsize=16)
def _signer(keys: tuple[str, ...], purpose: str) -> Signer:
    # itsdangerous signs with the last key of the list and verifies with all of them
    kind = TimestampSigner if purpose in TIMED or purpose in (FORM, TEST) else Signer
    # SHA-1 is itsdangerous's default; named directly, hmac takes OpenSSL's fast path
    return kind(list(reversed(keys)), salt=f"newsletter.{purpose}.v2", digest_method=hashlib.sha1)


def subscriber_signer(config: Config, purpose: str) -> Callable[..., str]:
    """A function (subscriber key[, nonce]) -> token for links of ``purpose``, keys read once.
    A ``confirm`` token needs the nonce stored with the subscriber."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    signer = _signer(tuple(secret_keys(config)), purpose)
    if purpose in TIMED:
        return lambda key, nonce: signer.sign(f"{key}.{nonce}").decode("ascii")
    return lambda key: signer.sign(key).decode("ascii")


def read_subscriber_token(config: Config, purpose: str, token: str) -> SubscriberRef:
    """Who a ``purpose`` token names; InputError when forged, altered or malformed;
    :class:`LinkExpired` (naming who it was for) when a timed link is genuine but too old."""
    keys = tuple(secret_keys(config))
    signer = _signer(keys, purpose)
    try:
        if purpose in TIMED:
            return _timed_ref(signer.unsign(token, max_age=config.confirm_expiry.total_seconds()))
        return SubscriberRef(key=signer.unsign(token).decode("ascii"))
    except SignatureExpired as exc:
        raise LinkExpired(f"{purpose} link: expired", _timed_ref(exc.payload)) from None
    except (BadSignature, UnicodeDecodeError, ValueError):
        pass
    if purpose == "unsubscribe":  # a link mailed before subscribers had keys
        subscriber_id, email = _read_legacy_unsubscribe(keys, token)
        return SubscriberRef(subscriber_id=subscriber_id, email=email)
    raise InputError(f"{purpose} link: invalid or altered token")


def _timed_ref(value: bytes) -> SubscriberRef:
    key, dot, nonce = value.decode("ascii").partition(".")
    if not (key and dot and nonce):
        raise ValueError("malformed timed token")
    return SubscriberRef(key=key, nonce=nonce)


def form_token(config: Config, nonce: str) -> str:
    """The hosted signup form's token: ``nonce`` (also its cookie) and the time, signed."""
    return _signer(tuple(secret_keys(config)), FORM).sign(nonce).decode("ascii")


def read_form_token(config: Config, token: str, max_age: float) -> tuple[str, float]:
    """(nonce, seconds since the form was served) of a genuine form token at most
    ``max_age`` seconds old; InputError otherwise."""
    try:
        nonce, stamp = _signer(tuple(secret_keys(config)), FORM).unsign(
            token, max_age=max_age, return_timestamp=True)
        return nonce.decode("ascii"), (datetime.now(timezone.utc) - stamp).total_seconds()
    except (BadSignature, UnicodeDecodeError):
        raise InputError("signup form: invalid or expired form token") from None


#: a test copy's token starts with this, so a page it reaches knows it from a subscriber's
TEST_PREFIX = "test-"
#: test copies' links stop working after this many seconds (30 days)
TEST_MAX_AGE = 30 * 24 * 3600
#: what a test copy can be of: an issue (by id) or an article (by slug)
TEST_KINDS = ("issue", "article")


@dataclass(frozen=True)
class TestCopy:
    """What a test token names: ``kind`` (one of :data:`TEST_KINDS`) and ``ref`` (the issue's
    id or the article's slug, as text)."""

    kind: str
    ref: str


def test_token(config: Config, kind: str, ref: str | int) -> str:
    """The token a test copy of issue ``ref`` or article ``ref`` carries in its links, in
    place of a subscriber's: ``test-issue-5.TIMESTAMP.SIGNATURE``."""
    if kind not in TEST_KINDS:
        raise ValueError(f"unknown test copy kind {kind!r}")
    value = f"{TEST_PREFIX}{kind}-{ref}"
    return _signer(tuple(secret_keys(config)), TEST).sign(value).decode("utf-8")


def is_test_token(token: str) -> bool:
    """Whether ``token`` claims to be a test copy's (its signature not yet checked)."""
    return token.startswith(TEST_PREFIX)


def read_test_token(config: Config, token: str) -> TestCopy:
    """What a test token names; InputError when forged, altered, expired or malformed."""
    try:
        value = _signer(tuple(secret_keys(config)), TEST).unsign(token, max_age=TEST_MAX_AGE).decode("utf-8")
    except (BadSignature, UnicodeDecodeError):
        raise InputError("test link: invalid, altered or expired") from None
    kind, _, ref = value.removeprefix(TEST_PREFIX).partition("-")
    if not value.startswith(TEST_PREFIX) or kind not in TEST_KINDS or not ref:
        raise InputError("test link: malformed token")
    return TestCopy(kind, ref)


@lru_cache(maxsize=8)
def _serializer(keys: tuple[str, ...]) -> URLSafeSerializer:
    """The first unsubscribe format's serializer (read only)."""
    return URLSafeSerializer(list(reversed(keys)), salt="newsletter.unsubscribe")


def _read_legacy_unsubscribe(keys: tuple[str, ...], token: str) -> tuple[int, str]:
    """(subscriber id, email) of an unsubscribe token of the first format."""
    try:
        value = _serializer(keys).loads(token)
    except BadSignature:
        raise InputError("unsubscribe link: invalid or altered token") from None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or not isinstance(value[1], str)
    ):
        raise InputError("unsubscribe link: malformed token")
    return value[0], value[1]
