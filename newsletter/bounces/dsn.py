"""Bounces: RFC 3464 delivery status notifications and the non-standard formats MTAs still send.

Who failed comes from ``flufl.bounce`` (GNU Mailman's detectors: DSN, Exim, qmail, Exchange,
Yahoo and the other heuristics), which tells a permanent failure from a temporary one
(a DSN's ``Action: delayed``, a "still trying" warning). Hard or soft comes from our own
reading of the status: each DSN recipient block's ``Status`` and ``Diagnostic-Code``, or for a
plain-text bounce the SMTP reply quoted near the address:

- ``5.x.x`` (or a ``5xx`` reply): hard, the address is dead - except ``5.2.2`` (mailbox full),
  ``5.6.x`` (content) and ``5.7.x`` (policy, spam, authentication), which reject this message
  rather than the address and count as soft, so one bad send or a DNS mistake does not shed
  every subscriber of a provider; ``552`` (storage exceeded) likewise;
- ``4.x.x`` (a ``4xx`` reply): soft - a DSN saying ``failed`` with a 4.x.x status is a message
  the sending server gave up on after retrying;
- a permanent failure with no status at all: hard.
"""
from __future__ import annotations

import logging
import re
from email.message import Message

from flufl.bounce import all_failures

from .results import Failure, Kind

# A detector that chokes on a malformed message is reported by the caller in one line, not by a
# traceback from the library's logger.
logging.getLogger("flufl.bounce").addHandler(logging.NullHandler())

ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
REPLY = re.compile(r"(?<![\d.])([245]\d\d)(?=[ -]|$)", re.M)
_MESSAGE_LEVEL = ("5.2.2", "5.6.", "5.7.")
MAX_DIAGNOSTIC = 500


def status_kind(status: str) -> Kind | None:
    """HARD or SOFT for a failure status (``5.1.1``, ``4.2.2``, ``550``), None for a success
    (2.x.x) or no status. See the module docstring for the rules."""
    if ENHANCED.fullmatch(status):
        if status.startswith("5"):
            return Kind.SOFT if status.startswith(_MESSAGE_LEVEL) else Kind.HARD
        return Kind.SOFT if status.startswith("4") else None
    if re.fullmatch(r"[245]\d\d", status):
        if status.startswith("5"):
            return Kind.SOFT if status == "552" else Kind.HARD
        return Kind.SOFT if status.startswith("4") else None
    return None


def status_in(text: str) -> str:
    """The first enhanced status code in ``text``, else the first SMTP reply code, else ""."""
    match = ENHANCED.search(text) or REPLY.search(text)
    return match.group(0) if match else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_DIAGNOSTIC]


def _address(field: str) -> str:
    """``rfc822; <a@b>`` -> ``a@b`` (lower-cased); "" when it names no address."""
    value = field.partition(";")[2] if ";" in field else field
    value = value.strip().strip("<>").strip()
    return value.lower() if "@" in value else ""


def delivery_status(msg: Message) -> dict[str, tuple[str, str, str]]:
    """Each recipient block of the DSN's ``message/delivery-status`` parts:
    address -> (action, status, diagnostic). Both Final- and Original-Recipient are keys."""
    blocks: dict[str, tuple[str, str, str]] = {}
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status" or not part.is_multipart():
            continue
        for block in part.get_payload():
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            diagnostic = _one_line(str(block.get("Diagnostic-Code", "")).partition(";")[2]
                                   or str(block.get("Diagnostic-Code", "")))
            status = str(block.get("Status", "")).strip().split()[0] if block.get("Status") else ""
            if not ENHANCED.fullmatch(status):
                status = status_in(diagnostic)
            for name in ("Final-Recipient", "Original-Recipient", "X-Actual-Recipient"):
                address = _address(str(block.get(name, "")))
                if address and address not in blocks:
                    blocks[address] = (action, status, diagnostic)
    return blocks


def _texts(msg: Message) -> str:
    """The text of the bounce itself: its text/plain parts, not those of the returned message."""
    texts, stack = [], [msg]
    while stack:
        part = stack.pop()
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/delivery-status"):
            continue
        if part.is_multipart():
            stack.extend(reversed(part.get_payload()))
        elif ctype == "text/plain":
            texts.append(decoded_text(part))
    return "\n".join(texts)


def decoded_text(part: Message) -> str:
    """A non-multipart part's payload as text, whatever its (declared, maybe bogus) charset."""
    payload = part.get_payload(decode=True) or b""
    try:
        return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _near(text: str, address: str) -> tuple[str, str]:
    """(status, diagnostic) quoted near ``address`` in a plain-text bounce: the lines from the
    one naming the address up to the next blank line (at most 6)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if address in line.lower():
            block = []
            for following in lines[i:i + 6]:
                if block and not following.strip():
                    break
                block.append(following)
            diagnostic = _one_line(" ".join(block))
            status = status_in(diagnostic)
            if status:
                return status, diagnostic
    status = status_in(text)
    return status, ""


def failures(msg: Message) -> tuple[list[Failure], list[str]]:
    """(failures, delayed addresses) the bounce reports. Raises whatever a detector raises."""
    temporary, permanent = all_failures(msg)
    blocks = delivery_status(msg)
    text = None
    found = []
    for raw in sorted(permanent):
        address = raw.decode("ascii", errors="replace").lower()
        if address in blocks:
            _, status, diagnostic = blocks[address]
        else:
            text = _texts(msg) if text is None else text
            status, diagnostic = _near(text, address)
        found.append(Failure(address, status_kind(status) or Kind.HARD, status, diagnostic))
    delayed = sorted(raw.decode("ascii", errors="replace").lower() for raw in temporary)
    return found, delayed
