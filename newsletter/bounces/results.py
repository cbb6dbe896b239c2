"""What reading one message gives: its kind, the failures it reports, who and which issue."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..signing import SubscriberRef


class Kind(StrEnum):
    """What a message is, as far as the list is concerned."""

    HARD = "hard"            # the address is dead: the subscriber becomes bounced at once
    SOFT = "soft"            # a temporary or message-level failure: counts toward soft_limit
    COMPLAINT = "complaint"  # the recipient reported the message as spam: never mailed again
    IGNORED = "ignored"      # an auto-reply, a delay warning, a success notice: nothing to do
    UNKNOWN = "unknown"      # not understood: kept for the editor

    @property
    def counts(self) -> bool:
        """Whether this kind is stored as an event against a subscriber."""
        return self in (Kind.HARD, Kind.SOFT, Kind.COMPLAINT)


#: severity order, worst last: a report naming several failures is as bad as its worst
SEVERITY = (Kind.UNKNOWN, Kind.IGNORED, Kind.SOFT, Kind.HARD, Kind.COMPLAINT)


@dataclass(frozen=True)
class Failure:
    """One recipient a bounce reports: address as the report gives it, kind, status, diagnostic."""

    recipient: str
    kind: Kind
    status: str = ""
    diagnostic: str = ""


@dataclass(frozen=True)
class Reading:
    """What one message says.

    ``failures`` are the recipients it names (hard, soft or complaint). ``subscriber_id`` and
    ``issue_id`` come from a signed VERP token or from our Message-ID in the returned headers,
    ``subscriber_ref`` from the signed unsubscribe link of a returned message; None when the
    message does not say. ``reason`` is one line for the operator. ``fingerprint`` identifies the report
    whatever path it came by (a pipe, a Maildir, IMAP), so reading it twice counts once.
    """

    kind: Kind
    reason: str
    fingerprint: str
    failures: tuple[Failure, ...] = ()
    subscriber_id: int | None = None
    issue_id: int | None = None
    subscriber_ref: SubscriberRef | None = None
    sender: str = ""
    subject: str = ""

    @property
    def worst(self) -> Failure | None:
        """The most severe failure reported, or None."""
        return max(self.failures, key=lambda f: SEVERITY.index(f.kind), default=None)
