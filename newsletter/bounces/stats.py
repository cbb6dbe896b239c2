"""Per-issue bounce and complaint counts and rates, against the mailbox providers' limits.

Gmail asks bulk senders to keep spam complaints under 0.1 % (never 0.3 %); a hard-bounce rate
over 2 % is the usual sign of a list that is not cleaned. ``bounced`` counts subscribers with a
hard bounce for the issue (a DSN, or a refusal at RCPT TO), over the messages attempted;
``complained`` counts complaints about the issue, over the messages accepted.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..states import DeliveryState
from ..tallies import delivery_states

COMPLAINT_LIMIT = 0.001
HARD_BOUNCE_LIMIT = 0.02


@dataclass(frozen=True)
class IssueBounces:
    issue_id: int
    bounced: int
    complained: int
    attempted: int  # deliveries sent, failed or unknown
    sent: int

    @property
    def bounce_rate(self) -> float:
        return self.bounced / self.attempted if self.attempted else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.sent if self.sent else 0.0

    @property
    def too_many_bounces(self) -> bool:
        return self.bounce_rate > HARD_BOUNCE_LIMIT

    @property
    def too_many_complaints(self) -> bool:
        return self.complaint_rate > COMPLAINT_LIMIT

    def lines(self) -> list[str]:
        """``bounced N (...)`` and ``complained N (...)``: the contract's wording, then the rate."""
        return [
            f"bounced {self.bounced} (hard-bounce rate {self.bounce_rate:.2%} of {self.attempted} attempted)",
            f"complained {self.complained} (complaint rate {self.complaint_rate:.2%} of {self.sent} sent)",
        ]

    def warnings(self) -> list[str]:
        """What passes the providers' limits, one sentence each."""
        found = []
        if self.too_many_complaints:
            found.append(f"issue {self.issue_id}: complaint rate {self.complaint_rate:.2%} is over"
                         f" {COMPLAINT_LIMIT:.1%} (Gmail's limit for bulk senders)")
        if self.too_many_bounces:
            found.append(f"issue {self.issue_id}: hard-bounce rate {self.bounce_rate:.2%} is over"
                         f" {HARD_BOUNCE_LIMIT:.0%}: the list has dead addresses; import only addresses"
                         " that opted in recently")
        return found


def issue_bounces(conn: sqlite3.Connection, issue_id: int) -> IssueBounces:
    """The counts for one issue, in SQL."""
    bounced, complained = conn.execute(
        "SELECT COUNT(DISTINCT CASE WHEN kind = 'hard' THEN subscriber_id END),"
        " COUNT(DISTINCT CASE WHEN kind = 'complaint' THEN subscriber_id END)"
        " FROM bounce_events WHERE issue_id = ?", (issue_id,),
    ).fetchone()
    states = delivery_states(conn, issue_id)
    attempted = sum(states[state] for state in (DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.UNKNOWN))
    return IssueBounces(issue_id, bounced, complained, attempted, states[DeliveryState.SENT])
