"""Bounce events and what they do to a subscriber: the rules, in SQL over ``bounce_events``.

- hard bounce: the subscriber becomes ``bounced`` at once;
- soft bounce: ``bounced`` once soft bounces reach ``soft_limit`` on distinct issues within
  ``soft_window`` (a soft bounce that names no issue counts as one of its own);
- complaint: ``complained``, never mailed again.

Each event has a fingerprint: the same report stored twice counts once. Times are computed
here, never by the database.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from .. import subscribers
from ..config import Config
from ..states import SubscriberStatus
from ..store import now_utc, to_db_time
from .dsn import status_in
from .results import Kind

STATUS_OF = {Kind.HARD: SubscriberStatus.BOUNCED, Kind.SOFT: SubscriberStatus.BOUNCED,
             Kind.COMPLAINT: SubscriberStatus.COMPLAINED}


@dataclass(frozen=True)
class Rules:
    """``[bounces] soft_limit`` and ``soft_window``."""

    soft_limit: int = 3
    soft_window: timedelta = timedelta(days=30)

    @classmethod
    def from_config(cls, config: Config) -> "Rules":
        return cls(config["bounces"]["soft_limit"], config.soft_window)


def record(
    conn: sqlite3.Connection, fingerprint: str, subscriber_id: int, issue_id: int | None, kind: Kind,
    status: str, diagnostic: str, source: str, now: datetime,
) -> bool:
    """Store one event; False when an event with this fingerprint is already stored."""
    cur = conn.execute(
        "INSERT INTO bounce_events (fingerprint, subscriber_id, issue_id, kind, status, diagnostic,"
        " source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING",
        (fingerprint, subscriber_id, issue_id, str(kind), status, diagnostic[:500], source[:300], to_db_time(now)),
    )
    return cur.rowcount > 0


def record_refusal(
    conn: sqlite3.Connection, subscriber_id: int, issue_id: int, error: str, *, now: datetime | None = None,
) -> bool:
    """A 5xx reply to RCPT TO during a send: a hard bounce; True if the subscriber became
    ``bounced``. Call inside the caller's transaction (the delivery's own)."""
    now = now or now_utc()
    record(conn, f"rcpt:{issue_id}:{subscriber_id}", subscriber_id, issue_id, Kind.HARD, status_in(error),
           error, "rcpt", now)
    return subscribers.stop(conn, subscriber_id, SubscriberStatus.BOUNCED, now=now)


def apply_rule(conn: sqlite3.Connection, subscriber_id: int, kind: Kind, rules: Rules, now: datetime) -> str | None:
    """The status this event gives the subscriber, if it changes (see module docstring)."""
    if kind == Kind.SOFT:
        since = to_db_time(now - rules.soft_window)
        distinct, unnamed = conn.execute(
            "SELECT COUNT(DISTINCT issue_id), SUM(CASE WHEN issue_id IS NULL THEN 1 ELSE 0 END)"
            " FROM bounce_events WHERE subscriber_id = ? AND kind = 'soft' AND received_at >= ?",
            (subscriber_id, since),
        ).fetchone()
        if distinct + (unnamed or 0) < rules.soft_limit:
            return None
    status = STATUS_OF[kind]
    return status if subscribers.stop(conn, subscriber_id, status, now=now) else None
