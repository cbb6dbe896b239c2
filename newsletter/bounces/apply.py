"""What a reading does to the list: events stored and their rules applied (:mod:`.events`),
auto-replies ignored, and what is not understood - or names no subscriber - kept for the editor.

An event's fingerprint is the report's and the subscriber's id: the same report read twice
is stored once and counts once.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from .. import signing, subscribers
from ..config import Config
from ..mail import message_ids
from ..store import now_utc, to_db_time, transaction
from . import events
from .classify import Signatures
from .events import Rules
from .results import Failure, Kind, Reading
from .verp import Verp


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
            recorded = events.record(conn, f"{reading.fingerprint}:{sub.id}", sub.id, issue_id, failure.kind,
                                     failure.status, failure.diagnostic, source, now)
            if not recorded:
                outcome.duplicate = True
                notes.append(f"{sub.email} already recorded")
                continue
            new_status = events.apply_rule(conn, sub.id, failure.kind, rules, now)
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


def kept_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM kept_messages").fetchone()[0]


def kept_message(conn: sqlite3.Connection, kept_id: int) -> sqlite3.Row | None:
    """One kept message with its raw bytes."""
    return conn.execute("SELECT * FROM kept_messages WHERE id = ?", (kept_id,)).fetchone()
