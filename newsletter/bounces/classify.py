"""One message in, one :class:`~.results.Reading` out: pure functions over bytes.

Order: a feedback report (complaint); a bounce, by ``flufl.bounce`` and our reading of its
statuses (:mod:`.dsn`); an auto-reply (ignored); anything else is not understood (kept).

Who: a VERP address the message was delivered to (the bounce's ``To``, ``Delivered-To``,
``X-Original-To``... or the envelope recipient a pipe passes) names issue and subscriber,
signed; else the returned message's headers: the signed token in its ``List-Unsubscribe``,
a VERP ``Return-Path``, or our ``Message-ID`` (``issue-N.sub-M.<digest>``); else the
addresses the report names, matched against subscribers when the reading is applied.
A VERP-shaped address that does not verify raises :class:`~.verp.ForgedToken`.
"""
from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr
from typing import Callable

from .. import urls
from ..errors import InputError
from ..mail_input import read_message
from ..signing import SubscriberRef
from . import arf, autoreply, dsn
from .results import SEVERITY, Failure, Kind, Reading
from .verp import Verp

#: a bounce carries at most the original message and a report: more is not a bounce
MAX_BYTES = 10 * 1024 * 1024
_ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
_OUR_MESSAGE_ID = re.compile(r"<issue-(\d+)\.sub-(\d+)\.[0-9a-f]{12}@[^>]+>")
#: the token in a returned message's List-Unsubscribe link (the route's fixed part, then the token)
_UNSUBSCRIBE = re.compile(re.escape(urls.UNSUBSCRIBE.partition("<")[0]) + r"([A-Za-z0-9_.=-]+)>")


@dataclass(frozen=True)
class Signatures:
    """What tells our own tokens and Message-IDs from forged ones (built from the config by
    :func:`newsletter.bounces.apply.signatures`)."""

    verp: Verp
    read_unsubscribe: Callable[[str], SubscriberRef]  # raises InputError when not ours
    message_id: Callable[[int, int], str]


def fingerprint(raw: bytes) -> str:
    """The same for the same report whichever way it came: a hash of its body (what follows the
    header block, to which each delivery adds its own lines), line ends normalised."""
    text = raw.replace(b"\r\n", b"\n")
    head, blank, body = text.partition(b"\n\n")
    return hashlib.sha256((body if blank else head).strip()).hexdigest()


def _header(msg: Message, name: str) -> str:
    """A header decoded to one line of text ("" when absent or undecodable)."""
    value = msg.get(name)
    if value is None:
        return ""
    try:
        text = str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        text = str(value)
    return " ".join(text.split())[:300]


def _returned(msg: Message) -> Message | None:
    """The headers of the message a report returns (``message/rfc822`` or
    ``text/rfc822-headers``), or None."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and part.is_multipart():
            inner = part.get_payload()[0]
            if isinstance(inner, Message):
                return inner
        if ctype == "text/rfc822-headers":
            return HeaderParser().parsestr(dsn.decoded_text(part))
    return None


def _verp_in(msg: Message, names: tuple[str, ...], verp: Verp, extra: str = "") -> tuple[int | None, int] | None:
    addresses = [extra] if extra else []
    for name in names:
        addresses += [addr for _, addr in getaddresses([str(v) for v in msg.get_all(name, [])])]
    for address in addresses:
        found = verp.read(address)
        if found:
            return found
    return None


def _who(msg: Message, signatures: Signatures, envelope_to: str) -> dict:
    """``issue_id``, ``subscriber_id`` and ``subscriber_ref`` (the signed unsubscribe link's)
    as far as tokens and our Message-ID say."""
    found = _verp_in(msg, _ENVELOPE_HEADERS, signatures.verp, envelope_to)
    if found:
        return {"issue_id": found[0], "subscriber_id": found[1]}
    original = _returned(msg)
    if original is None:
        return {}
    issue_id = subscriber_id = ref = None
    match = _OUR_MESSAGE_ID.search(str(original.get("Message-ID", "")))
    if match:
        issue, sub = int(match.group(1)), int(match.group(2))
        if signatures.message_id(issue, sub) == match.group(0):
            issue_id, subscriber_id = issue, sub
    match = _UNSUBSCRIBE.search(str(original.get("List-Unsubscribe", "")).replace("\n", ""))
    if match:
        try:
            ref = signatures.read_unsubscribe(match.group(1))
        except InputError:
            pass
    found = _verp_in(original, ("Return-Path",), signatures.verp)
    if found:
        issue_id, subscriber_id = found[0] or issue_id, found[1]
    return {"issue_id": issue_id, "subscriber_id": subscriber_id, "subscriber_ref": ref}


def classify(raw: bytes, signatures: Signatures, envelope_to: str = "") -> Reading:
    """Read one message (see module docstring). ``envelope_to`` is the address it was
    delivered to, when the caller knows it (a pipe transport's ``${original_recipient}``)."""
    if len(raw) > MAX_BYTES:
        raise InputError(f"message of {len(raw) / 2**20:.1f} MB is larger than a bounce can be "
                         f"({MAX_BYTES // 2**20} MB)")
    if not raw.strip():
        raise InputError("empty message")
    msg = read_message(raw)
    if not msg.keys():
        return Reading(Kind.UNKNOWN, "not an email message: no header lines", fingerprint(raw))
    who = _who(msg, signatures, envelope_to)
    subject = _header(msg, "Subject")
    common = dict(
        fingerprint=fingerprint(raw),
        **who,
        sender=parseaddr(_header(msg, "From"))[1] or _header(msg, "From"),
        subject=subject,
    )
    report = arf.feedback(msg)
    if report is not None:
        return _complaint(report, msg, common)
    try:
        failures, delayed = dsn.failures(msg)
    except Exception as exc:  # a detector choking on a malformed message: keep it, say why
        return Reading(Kind.UNKNOWN, f"bounce detectors failed ({type(exc).__name__})", **common)
    if failures:
        worst = max(failures, key=lambda f: SEVERITY.index(f.kind))
        named = ", ".join(f.recipient for f in failures[:3])
        return Reading(worst.kind, f"{worst.kind} bounce for {named}", failures=tuple(failures), **common)
    if delayed:
        return Reading(Kind.IGNORED, f"delivery to {', '.join(delayed[:3])} delayed; still being tried", **common)
    why = autoreply.auto_reply(msg, subject)
    if why:
        return Reading(Kind.IGNORED, f"auto-reply ({why})", **common)
    return Reading(Kind.UNKNOWN, "not a bounce, complaint or auto-reply this reader understands", **common)


def _complaint(report: arf.Feedback, msg: Message, common: dict) -> Reading:
    feedback_type = report.type or "abuse"
    if feedback_type == "not-spam":
        return Reading(Kind.IGNORED, "feedback report: not-spam", **common)
    if feedback_type not in ("abuse", "other"):
        return Reading(Kind.UNKNOWN, f"feedback report of type {feedback_type!r}", **common)
    original = _returned(msg)
    recipients = list(report.recipients)
    if original is not None:
        recipients += [a.lower() for _, a in getaddresses([str(v) for v in original.get_all("To", [])]) if "@" in a]
    diagnostic = f"Feedback-Type: {feedback_type}" + (f"; User-Agent: {report.user_agent}" if report.user_agent else "")
    failures = tuple(Failure(r, Kind.COMPLAINT, "", diagnostic) for r in dict.fromkeys(recipients))
    named = ", ".join(f.recipient for f in failures[:3]) or "a redacted recipient"
    return Reading(Kind.COMPLAINT, f"complaint about {named}", failures=failures, **common)
