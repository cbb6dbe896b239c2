"""Signing keys and the signed tokens in public links (the URLs themselves: :mod:`urls`).

Tokens are signed with itsdangerous. Keys come from ``NEWSLETTER_SECRET_KEY``; key rotation:
the variable may hold several keys separated by commas, newest first
(``NEWSLETTER_SECRET_KEY="new-key,old-key"``): the first signs, every one verifies, so links
in messages already sent keep working until the old key is dropped. With no key set (a fresh
install) a random key is generated once and kept in ``<instance>/secret_key`` (mode 0600).
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable

from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode

from .config import Config
from .errors import ConfigError, InputError

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
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
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


@lru_cache(maxsize=8)
def _serializer(keys: tuple[str, ...]) -> URLSafeSerializer:
    # itsdangerous signs with the last key of the list and verifies with all of them
    return URLSafeSerializer(list(reversed(keys)), salt="newsletter.unsubscribe")


@lru_cache(maxsize=8)
def _mac(keys: tuple[str, ...]):
    signer = _serializer(keys).make_signer()
    return hmac.new(signer.derive_key(), digestmod=signer.digest_method)


def unsubscribe_signer(config: Config) -> Callable[[int, str], str]:
    """A function (subscriber id, email) -> unsubscribe token, with the keys read once.

    Each token is what ``_serializer(keys).dumps([id, email])`` gives (never zlib-compressed,
    which ``loads`` accepts all the same); the HMAC key is derived once, not per recipient.
    """
    keys = tuple(secret_keys(config))
    base_mac = _mac(keys)

    def sign(subscriber_id: int, email: str) -> str:
        # the serializer's compact JSON of [id, email], written directly
        payload = base64_encode(f"[{int(subscriber_id)},{json.dumps(email, ensure_ascii=False)}]".encode())
        mac = base_mac.copy()
        mac.update(payload)
        return (payload + b"." + base64_encode(mac.digest())).decode("ascii")

    return sign


def read_unsubscribe_token(config: Config, token: str) -> tuple[int, str]:
    """(subscriber id, email) named by a token; InputError when forged, altered or malformed."""
    try:
        value = _serializer(tuple(secret_keys(config))).loads(token)
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
