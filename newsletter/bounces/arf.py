"""Complaints: RFC 5965 Abuse Reporting Format reports, as mailbox providers' feedback loops send.

A report is ``multipart/report; report-type=feedback-report`` with a human-readable part, a
``message/feedback-report`` part of fields (``Feedback-Type``, ``User-Agent``,
``Original-Rcpt-To``...) and the reported message (whole, or only its headers). Providers often
redact the recipient, so who complained is usually read from the returned message's headers
(see :mod:`.classify`).
"""
from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from .dsn import decoded_text


@dataclass(frozen=True)
class Feedback:
    """The fields of a feedback report that matter here."""

    type: str          # abuse, fraud, virus, other, not-spam ("" when missing)
    user_agent: str
    recipients: tuple[str, ...]  # Original-Rcpt-To values (often redacted or absent)


def _fields(part: Message) -> Message:
    if part.is_multipart():
        first = part.get_payload()[0]
        if isinstance(first, Message):
            return first
    return HeaderParser().parsestr(decoded_text(part))


def feedback(msg: Message) -> Feedback | None:
    """The feedback report in ``msg``, or None when it is not one."""
    is_report = (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type", "")).lower() == "feedback-report"
    )
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            fields = _fields(part)
            recipients = tuple(
                str(value).strip().strip("<>").lower()
                for value in fields.get_all("Original-Rcpt-To", [])
                if "@" in str(value)
            )
            return Feedback(
                type=str(fields.get("Feedback-Type", "")).strip().lower(),
                user_agent=" ".join(str(fields.get("User-Agent", "")).split())[:200],
                recipients=recipients,
            )
    return Feedback("", "", ()) if is_report else None
