"""What a reading does to the list: events stored, statuses changed, the rest kept.

- hard bounce: the subscriber becomes ``bounced`` at once;
- soft bounce: ``bounced`` once soft bounces reach ``[bounces] soft_limit`` on distinct issues
  within ``soft_window`` (a soft bounce that names no issue counts as one of its own);
- complaint: ``complained``, never mailed again;
- ignored: nothing; not understood (or naming no subscriber): kept for the editor.

Each event has a fingerprint (the report's, and the subscriber's id): the same report read
twice is stored once and counts once. Times are computed here, never by the database.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .. import signing, subscribers
from ..config import Config
from ..mail import message_ids
from ..states import SubscriberStatus
from ..store import now_utc, to_db_time, transaction
from .classify import Signatures
from .results import Failure, Kind, Reading
from .verp import Verp

STATUS_OF = {Kind.HARD: SubscriberStatus.BOUNCED, Kind.SOFT: SubscriberStatus.BOUNCED,
             Kind.COMPLAINT: SubscriberStatus.COMPLAINED}


@dataclass(frozen=True)
class Rules:
    soft_limit: int = 3
    soft_window: timedelta = timedelta(days=30)

    @classmethod
    def from_config(cls, config: Config) -> "Rules":
        return cls(config["bounces"]["soft_limit"], config.soft_window)


def signatures(config: Config) -> Signatures:
    """What :func:`~.classify.classify` needs to tell our tokens from forged ones."""
    return Signatures(
        verp=Verp(config["bounces"]["address"], tuple(signing.secret_keys(config))),
        read_unsubscribe=lambda token: signing.read_subscriber_token(config, "unsubscribe", token),
        message_id=message_ids(config),
    )


@dataclass
class Outcome:
    """What applying one reading did; ``line`` says it in one line."""

    reading: Reading
    line: str
    changed: list[tuple[str, str]] = field(default_factory=list)  # (email, new status)
    kept: bool = False
    duplicate: bool = False


def apply(
    conn: sqlite3.Connection,
    reading: Reading,
    raw: bytes,
    *,
    rules: Rules,
    source: str = "",
    now: datetime | None = None,
) -> Outcome:
    """Store what ``reading`` (of the message ``raw``) means, in one transaction."""
    now = now or now_utc()
    with transaction(conn):
        if reading.kind == Kind.IGNORED:
            return Outcome(reading, f"ignored: {reading.reason}")
        if reading.kind == Kind.UNKNOWN:
            return _keep(conn, reading, raw, reading.reason, source, now)
        targets = _targets(conn, reading)
        if not targets:
            named = ", ".join(f.recipient for f in reading.failures[:3]) or "no address it names"
            label = "complaint" if reading.kind == Kind.COMPLAINT else f"{reading.kind} bounce"
            return _keep(conn, reading, raw, f"{label} for {named}: no subscriber matches", source, now)
        label = "complaint" if reading.kind == Kind.COMPLAINT else f"{reading.kind} bounce"
        issue_id = reading.issue_id
        if issue_id is not None and not conn.execute("SELECT 1 FROM issues WHERE id = ?", (issue_id,)).fetchone():
            issue_id = None
        outcome = Outcome(reading, "")
        notes = []
        for sub, failure in targets:
            recorded = _record(conn, reading, sub, failure, issue_id, source, now)
            if not recorded:
                outcome.duplicate = True
                notes.append(f"{sub.email} already recorded")
                continue
            new_status = _rule(conn, sub, failure.kind, rules, now)
            if new_status:
                outcome.changed.append((sub.email, new_status))
                notes.append(f"{sub.email} is now {new_status}")
            else:
                notes.append(f"{sub.email} stays {_status(conn, sub.id)}")
        detail = ", ".join(x for x in (targets[0][1].status, f"issue {issue_id}" if issue_id else "") if x)
        outcome.line = f"{label}{f' ({detail})' if detail else ''}: {'; '.join(notes)}"
        return outcome


def _targets(conn: sqlite3.Connection, reading: Reading) -> list[tuple[subscribers.Subscriber, Failure]]:
    """The subscribers a reading is about, each with the failure that concerns them."""
    worst = reading.worst or Failure("", reading.kind)
    if reading.subscriber_id is not None or reading.subscriber_ref is not None:
        sub = (subscribers.get(conn, reading.subscriber_id) if reading.subscriber_id is not None
               else subscribers.named_by(conn, reading.subscriber_ref))
        if sub is not None:
            return [(sub, worst)]
    found: dict[int, tuple[subscribers.Subscriber, Failure]] = {}
    for failure in reading.failures:
        sub = subscribers.find(conn, failure.recipient)
        if sub is not None and sub.id not in found:
            found[sub.id] = (sub, failure)
    return list(found.values())


def _record(conn, reading: Reading, sub, failure: Failure, issue_id, source: str, now: datetime) -> bool:
    """Insert the event; False when this report was already recorded for this subscriber."""
    cur = conn.execute(
        "INSERT INTO bounce_events (fingerprint, subscriber_id, issue_id, kind, status, diagnostic,"
        " source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING",
        (f"{reading.fingerprint}:{sub.id}", sub.id, issue_id, str(failure.kind), failure.status,
         failure.diagnostic, source[:300], to_db_time(now)),
    )
    return cur.rowcount > 0


def record_rcpt_refusal(
    conn: sqlite3.Connection, subscriber_id: int, issue_id: int, status: str, diagnostic: str,
    *, now: datetime | None = None,
) -> bool:
    """A 5xx reply to RCPT TO during a send: a hard bounce; True if the subscriber became
    ``bounced``. Call inside the caller's transaction."""
    now = now or now_utc()
    conn.execute(
        "INSERT INTO bounce_events (fingerprint, subscriber_id, issue_id, kind, status, diagnostic,"
        " source, received_at) VALUES (?, ?, ?, 'hard', ?, ?, 'rcpt', ?) ON CONFLICT (fingerprint) DO NOTHING",
        (f"rcpt:{issue_id}:{subscriber_id}", subscriber_id, issue_id, status, diagnostic[:500], to_db_time(now)),
    )
    return subscribers.stop(conn, subscriber_id, SubscriberStatus.BOUNCED, now=now)


def _rule(conn, sub, kind: Kind, rules: Rules, now: datetime) -> str | None:
    """The status this event gives the subscriber, if it changes (see module docstring)."""
    if kind == Kind.SOFT:
        since = to_db_time(now - rules.soft_window)
        distinct, unnamed = conn.execute(
            "SELECT COUNT(DISTINCT issue_id), SUM(CASE WHEN issue_id IS NULL THEN 1 ELSE 0 END)"
            " FROM bounce_events WHERE subscriber_id = ? AND kind = 'soft' AND received_at >= ?",
            (sub.id, since),
        ).fetchone()
        if distinct + (unnamed or 0) < rules.soft_limit:
            return None
    status = STATUS_OF[kind]
    return status if subscribers.stop(conn, sub.id, status, now=now) else None


def _status(conn, subscriber_id: int) -> str:
    return conn.execute("SELECT status FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()[0]


def _keep(conn, reading: Reading, raw: bytes, reason: str, source: str, now: datetime) -> Outcome:
    cur = conn.execute(
        "INSERT INTO kept_messages (fingerprint, reason, sender, subject, raw, source, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING",
        (reading.fingerprint, reason[:300], reading.sender[:300], reading.subject[:300], raw,
         source[:300], to_db_time(now)),
    )
    if not cur.rowcount:
        return Outcome(reading, f"already kept: {reason}", kept=True, duplicate=True)
    return Outcome(reading, f"kept for the editor: {reason}", kept=True)


def kept_messages(conn: sqlite3.Connection, *, limit: int = 50, offset: int = 0) -> list[sqlite3.Row]:
    """Kept messages, newest first, without their bodies: id, reason, sender, subject, source, received_at."""
    return conn.execute(
        "SELECT id, reason, sender, subject, source, received_at FROM kept_messages"
        " ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset),
    ).fetchall()


def kept_message(conn: sqlite3.Connection, kept_id: int) -> sqlite3.Row | None:
    """One kept message with its raw bytes."""
    return conn.execute("SELECT * FROM kept_messages WHERE id = ?", (kept_id,)).fetchone()
