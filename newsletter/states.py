"""The states of an issue, of one delivery and of a subscriber, and which moves each allows.

Each enum's values are what the database stores (its CHECK constraints list the same words), so
an enum member can be bound as a query parameter or compared with a stored value directly.
"""
from __future__ import annotations

from enum import StrEnum


class IssueState(StrEnum):
    """``draft`` (no send time) -> ``scheduled`` -> ``sending`` -> ``sent``; ``send-due`` marks a
    scheduled issue more than ``max_lateness`` late ``missed``; ``cancelled`` is final."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    MISSED = "missed"
    CANCELLED = "cancelled"


#: states in which an issue's subject and articles can still be changed (nothing rendered or sent)
EDITABLE = frozenset({IssueState.DRAFT, IssueState.SCHEDULED})
#: states from which an issue can be given a (new) send time
SCHEDULABLE = frozenset({IssueState.DRAFT, IssueState.SCHEDULED, IssueState.MISSED})
#: states from which what has not gone yet can be cancelled
CANCELLABLE = frozenset({IssueState.DRAFT, IssueState.SCHEDULED, IssueState.MISSED, IssueState.SENDING})
#: states from which ``send`` starts, resumes, or (for ``sent``) reaches subscribers who joined since
SENDABLE = frozenset({IssueState.DRAFT, IssueState.SCHEDULED, IssueState.MISSED, IssueState.SENDING,
                      IssueState.SENT})
#: states in which subscribers without a delivery row yet still count as pending
OPEN = frozenset({IssueState.DRAFT, IssueState.SCHEDULED, IssueState.MISSED, IssueState.SENDING})
#: states whose frozen copy is public (the web view, ``/read`` of its articles)
PUBLISHED = frozenset({IssueState.SENDING, IssueState.SENT})


def shown_state(state: IssueState, sender_started: bool) -> IssueState:
    """The state to show (and to offer actions for): an issue whose sender process has started
    but has not marked it ``sending`` yet is already being sent."""
    if sender_started and state in SCHEDULABLE:
        return IssueState.SENDING
    return state


class DeliveryState(StrEnum):
    """One (issue, subscriber) row: ``pending`` -> ``sending`` (claimed, committed before the
    SMTP transaction) -> ``sent`` | ``failed`` | back to ``pending`` (retry later); a row left
    ``sending`` by a process that died becomes ``unknown``."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


#: delivery counts as shown to users, in order (a row in flight counts as pending)
SHOWN_DELIVERY_STATES = (DeliveryState.SENT, DeliveryState.PENDING, DeliveryState.FAILED,
                         DeliveryState.UNKNOWN)


class SubscriberStatus(StrEnum):
    """Only ``active`` subscribers receive issues. ``pending``: signed up, not confirmed yet
    (double opt-in; purged after ``[subscribe] confirm_expiry``). ``bounced`` (the address is
    dead) and ``complained`` (a spam report) are set by bounce processing; neither is mailed."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


#: what a bounce or a complaint may replace: a complaint overrides every status, a bounce only a
#: mailable one ("pending" is the contract's double opt-in state, allowed by the schema)
STOPPABLE = {
    SubscriberStatus.BOUNCED: (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE),
    SubscriberStatus.COMPLAINED: (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE,
                                  SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED),
}
#: statuses an editor may resubscribe from, when the person asked to come back
RESUBSCRIBABLE = frozenset({SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED,
                            SubscriberStatus.COMPLAINED})
#: statuses a public signup never mails (accepted silently; editors see them)
SILENCED = frozenset({SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED})


class ConsentSource(StrEnum):
    """How a subscriber's consent was given: an editor's CSV ``import``, an ``editor`` adding
    them (web or ``subscribers add``), the signup ``form`` (hosted or on another site), the JSON
    ``api``, or an editor resubscribing someone who asked to come back (``request``)."""

    IMPORT = "import"
    EDITOR = "editor"
    FORM = "form"
    API = "api"
    REQUEST = "request"
