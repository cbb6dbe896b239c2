"""VERP: an envelope sender per message, ``bounces+TOKEN@example.com``, naming issue and subscriber.

TOKEN is ``<issue>-<subscriber>-<mac>``: both ids in base 36 and the first 80 bits of an
HMAC-SHA256 over them, in base 32. Lower case only, because mail servers on the way may
lower-case an address; short, because a local part holds at most 64 characters. Signed with
the app's secret keys (:func:`newsletter.signing.secret_keys`): the first key signs, every key
verifies, so bounces of messages sent before a key rotation are still read. Issue 0 means
"no issue" (a test copy).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from ..errors import ConfigError, InputError

LOCAL_PART_MAX = 64
_MAC_BYTES = 10  # 16 characters of base 32
#: the longest token for ids up to 36**7 - 1 (78 billion): 7 + 1 + 7 + 1 + 16
TOKEN_MAX = 32
TOKEN = re.compile(r"^([0-9a-z]{1,7})-([0-9a-z]{1,7})-([a-z2-7]{16})$")
_BASE_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*/=?^_`{|}~-]+)*$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class ForgedToken(InputError):
    """An address shaped like a VERP address whose token does not verify (exit 2)."""


def check_base_address(address: str, key: str = "bounces.address") -> tuple[str, str]:
    """(local part, domain) of the configured bounce address; ConfigError naming ``key``."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not _BASE_LOCAL.match(local) or not _DOMAIN.match(domain):
        raise ConfigError(f"{key}: {address!r} is not a plain address like bounces@example.com")
    room = LOCAL_PART_MAX - 1 - TOKEN_MAX
    if len(local) > room:
        raise ConfigError(
            f"{key}: the local part {local!r} is {len(local)} characters; at most {room}"
            f" leave room for '+TOKEN' within the 64-character limit"
        )
    return local, domain.lower()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def _mac(key: str, issue: str, subscriber: str) -> str:
    digest = hmac.new(key.encode(), f"newsletter.verp|{issue}|{subscriber}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:_MAC_BYTES]).decode("ascii").lower()


@dataclass(frozen=True)
class Verp:
    """Builds and reads VERP addresses for one base address (may be "" to only read) and keys."""

    base: str
    keys: tuple[str, ...]

    def address(self, issue_id: int | None, subscriber_id: int) -> str:
        """The envelope sender of one message: ``local+TOKEN@domain``."""
        local, domain = check_base_address(self.base)
        issue, subscriber = _base36(issue_id or 0), _base36(subscriber_id)
        token = f"{issue}-{subscriber}-{_mac(self.keys[0], issue, subscriber)}"
        if len(token) > TOKEN_MAX:
            raise InputError(f"VERP token for issue {issue_id}, subscriber {subscriber_id} is too long")
        return f"{local}+{token}@{domain}"

    def read(self, address: str) -> tuple[int | None, int] | None:
        """(issue id or None, subscriber id) named by a VERP address; None when ``address`` is
        not one; :class:`ForgedToken` when it is shaped like one (or uses the configured base
        address) but its token does not verify."""
        local, at, domain = address.strip().strip("<>").rpartition("@")
        base, plus, token = local.lower().rpartition("+")
        if not at or not plus:
            return None
        ours = bool(self.base) and f"{base}@{domain.lower()}" == self.base.lower()
        match = TOKEN.match(token)
        if not match:
            if ours:
                raise ForgedToken(f"{address}: malformed VERP token")
            return None
        issue, subscriber, mac = match.groups()
        if not any(hmac.compare_digest(mac, _mac(key, issue, subscriber)) for key in self.keys):
            raise ForgedToken(f"{address}: forged or altered VERP token (or signed with a key since removed)")
        issue_id = int(issue, 36)
        return (issue_id or None), int(subscriber, 36)
