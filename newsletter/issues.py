"""Newsletter issues: create, read, schedule, cancel, and delivery counts.

States: ``draft`` (no send time) → ``scheduled`` (send time set) → ``sending`` (delivery has
started; set by delivery.py) → ``sent``. ``send-due`` marks a scheduled issue ``missed`` when
it is more than ``max_lateness`` late; a missed issue can be rescheduled or sent on purpose.
``cancelled`` stops whatever has not gone yet (deliveries already sent stay recorded).

Rules: draft, scheduled and missed issues can be (re)scheduled; a sending, sent or cancelled
issue cannot. Anything not yet sent or cancelled can be cancelled; cancelling is final.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .errors import InputError
from .store import from_db_time, now_utc, to_db_time, transaction

STATES = ("draft", "scheduled", "sending", "sent", "missed", "cancelled")
SCHEDULABLE = ("draft", "scheduled", "missed")
CANCELLABLE = ("draft", "scheduled", "missed", "sending")
#: delivery states shown, in order; a row ``sending`` (in flight) counts as pending
COUNTED = ("sent", "pending", "failed", "unknown")


@dataclass(frozen=True)
class Issue:
    id: int
    subject: str
    articles: tuple[str, ...]
    state: str
    send_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Issue":
        return cls(
            id=row["id"],
            subject=row["subject"],
            articles=tuple(json.loads(row["articles"])),
            state=row["state"],
            send_at=from_db_time(row["send_at"]),
            created_at=from_db_time(row["created_at"]),
            started_at=from_db_time(row["started_at"]),
            finished_at=from_db_time(row["finished_at"]),
        )


_COLUMNS = "id, subject, articles, state, send_at, created_at, started_at, finished_at"


def article_ref(ref: str, content_dir: Path):
    """Check that ``ref`` names an article; returns (article, what to store).

    A slug is stored as the slug; a file path is stored as an absolute path, so that a later
    ``send-due`` run from another working directory finds the same file.
    """
    from .content import resolve

    article = resolve(ref, content_dir)
    if ref.strip().lower() == article.slug or article.path is None:
        return article, ref.strip().lower()
    return article, str(Path(article.path).resolve())


def create(
    conn: sqlite3.Connection,
    articles: list[str],
    *,
    subject: str = "",
    send_at: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Store a new issue (``articles``: slugs or absolute paths, already checked); returns its id."""
    if not articles:
        raise InputError("an issue needs at least one article")
    if "\n" in subject or "\r" in subject or "\0" in subject:
        raise InputError("subject: must be one line")
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO issues (subject, articles, state, send_at, created_at) VALUES (?, ?, ?, ?, ?)",
            (
                subject.strip(),
                json.dumps(list(articles)),
                "scheduled" if send_at else "draft",
                to_db_time(send_at) if send_at else None,
                to_db_time(now or now_utc()),
            ),
        )
    return cur.lastrowid


def get(conn: sqlite3.Connection, issue_id: int) -> Issue:
    row = conn.execute(f"SELECT {_COLUMNS} FROM issues WHERE id = ?", (issue_id,)).fetchone()
    if row is None:
        raise InputError(f"issue {issue_id}: no such issue")
    return Issue.from_row(row)


def list_issues(conn: sqlite3.Connection, state: str | None = None) -> list[Issue]:
    """Issues, newest first (issues are few; subscribers are what is never loaded whole)."""
    if state:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM issues WHERE state = ? ORDER BY id DESC", (state,))
    else:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM issues ORDER BY id DESC")
    return [Issue.from_row(r) for r in rows]


def schedule(
    conn: sqlite3.Connection,
    issue_id: int,
    send_at: datetime,
    *,
    now: datetime | None = None,
    max_lateness: timedelta | None = None,
) -> Issue:
    """Set the send time of a draft, scheduled or missed issue (state becomes ``scheduled``).

    A time already more than ``max_lateness`` in the past is refused: ``send-due`` would only
    mark it missed again (use ``send ID`` to send now).
    """
    now = now or now_utc()
    if max_lateness is not None and now - send_at > max_lateness:
        raise InputError(
            f"issue {issue_id}: that time is more than {_span(max_lateness)} ago;"
            f" pick a later time, or send it now with `send {issue_id}`"
        )
    with transaction(conn):
        issue = get(conn, issue_id)
        if issue.state not in SCHEDULABLE:
            raise InputError(f"issue {issue_id} is {issue.state}; only draft, scheduled or missed issues can be scheduled")
        conn.execute(
            "UPDATE issues SET state = 'scheduled', send_at = ? WHERE id = ?", (to_db_time(send_at), issue_id)
        )
    return get(conn, issue_id)


def cancel(conn: sqlite3.Connection, issue_id: int) -> tuple[Issue, bool]:
    """Cancel what has not gone yet; returns the issue and whether anything changed.

    Deliveries already sent (or failed, or unknown) stay recorded; pending ones are dropped,
    so they are never sent: delivery refuses a cancelled issue, and a send already running
    cannot claim a row that is gone.
    """
    with transaction(conn):
        issue = get(conn, issue_id)
        if issue.state == "cancelled":
            return issue, False
        if issue.state not in CANCELLABLE:
            raise InputError(f"issue {issue_id} is already {issue.state}; nothing left to cancel")
        conn.execute("UPDATE issues SET state = 'cancelled' WHERE id = ?", (issue_id,))
        conn.execute("DELETE FROM deliveries WHERE issue_id = ? AND state = 'pending'", (issue_id,))
    return get(conn, issue_id), True


def mark_missed(conn: sqlite3.Connection, issue_id: int) -> bool:
    """Scheduled (or stalled sending) → missed: send-due's late guard. False if the state moved on."""
    cur = conn.execute(
        "UPDATE issues SET state = 'missed' WHERE id = ? AND state IN ('scheduled', 'sending')", (issue_id,)
    )
    return cur.rowcount > 0


def last_activity(conn: sqlite3.Connection, issue_id: int, now: datetime) -> datetime | None:
    """The latest of: when sending started, the last ledger write, and the latest retry time
    reached by ``now``. How stale an interrupted or deferred send is."""
    row = conn.execute(
        "SELECT max(coalesce(i.started_at, ''),"
        " coalesce((SELECT max(updated_at) FROM deliveries WHERE issue_id = i.id), ''),"
        " coalesce((SELECT max(next_attempt_at) FROM deliveries WHERE issue_id = i.id"
        "           AND state = 'pending' AND next_attempt_at <= ?), ''))"
        " FROM issues i WHERE i.id = ?",
        (to_db_time(now), issue_id),
    ).fetchone()
    return from_db_time(row[0]) if row else None


def in_flight(conn: sqlite3.Connection) -> dict[int, int]:
    """Deliveries in state ``sending``, per issue (before recovery turns them ``unknown``)."""
    return dict(conn.execute("SELECT issue_id, count(*) FROM deliveries WHERE state = 'sending' GROUP BY issue_id"))


def delivery_counts(conn: sqlite3.Connection, issue: Issue) -> dict[str, int]:
    """``{"sent", "pending", "failed", "unknown"}`` for an issue, counted in SQL.

    Pending includes deliveries waiting for a retry, those in flight, and - while the issue
    can still go out - active subscribers who have no delivery row yet.
    """
    counts = dict.fromkeys(COUNTED, 0)
    for state, n in conn.execute(
        "SELECT d.state, count(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
        " WHERE d.issue_id = ? AND (d.state != 'pending' OR s.status = 'active') GROUP BY d.state",
        (issue.id,),
    ):
        counts["pending" if state == "sending" else state] += n
    if issue.state in ("draft", "scheduled", "missed", "sending"):
        counts["pending"] += conn.execute(
            "SELECT count(*) FROM subscribers s WHERE s.status = 'active' AND NOT EXISTS"
            " (SELECT 1 FROM deliveries d WHERE d.issue_id = ? AND d.subscriber_id = s.id)",
            (issue.id,),
        ).fetchone()[0]
    elif issue.state == "cancelled":
        counts["pending"] = 0  # never going out
    return counts


def format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {counts[k]}" for k in COUNTED)


def problem_deliveries(conn: sqlite3.Connection, issue_id: int, state: str, limit: int = 20):
    """Up to ``limit`` (email, attempts, last_error) of an issue's deliveries in ``state``."""
    return conn.execute(
        "SELECT s.email, d.attempts, d.last_error FROM deliveries d JOIN subscribers s"
        " ON s.id = d.subscriber_id WHERE d.issue_id = ? AND d.state = ? ORDER BY s.id LIMIT ?",
        (issue_id, state, limit),
    ).fetchall()


def resume_due(conn: sqlite3.Connection, now: datetime) -> list[int]:
    """Ids of issues in state ``sending`` with work whose time has come: a pending delivery
    whose retry time is reached (or unset), or an active subscriber with no delivery row yet
    (a send interrupted before it went through the list)."""
    stamp = to_db_time(now)
    return [
        row[0]
        for row in conn.execute(
            "SELECT i.id FROM issues i WHERE i.state = 'sending' AND ("
            " EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = i.id AND d.state = 'pending'"
            "         AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?))"
            " OR EXISTS (SELECT 1 FROM subscribers s WHERE s.status = 'active' AND NOT EXISTS"
            "         (SELECT 1 FROM deliveries d WHERE d.issue_id = i.id AND d.subscriber_id = s.id))"
            ") ORDER BY i.id",
            (stamp,),
        )
    ]


def finish_idle(conn: sqlite3.Connection, now: datetime) -> list[int]:
    """Mark ``sent`` the issues left ``sending`` with nothing more to do (a send stopped between
    its last delivery and marking the issue sent); their ids."""
    idle = """
        state = 'sending'
        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = issues.id
                        AND d.state IN ('pending', 'sending'))
        AND NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.status = 'active' AND NOT EXISTS
                        (SELECT 1 FROM deliveries d WHERE d.issue_id = issues.id AND d.subscriber_id = s.id))
    """
    with transaction(conn):
        ids = [row[0] for row in conn.execute(f"SELECT id FROM issues WHERE {idle} ORDER BY id")]
        conn.execute(f"UPDATE issues SET state = 'sent', finished_at = coalesce(finished_at, ?) WHERE {idle}",
                     (to_db_time(now),))
    return ids


def scheduled_until(conn: sqlite3.Connection, now: datetime) -> list[Issue]:
    """Scheduled issues whose send time is at or before ``now``, oldest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM issues WHERE state = 'scheduled' AND send_at <= ? ORDER BY send_at, id",
        (to_db_time(now),),
    )
    return [Issue.from_row(r) for r in rows]


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hours" if hours < 48 else f"{hours / 24:g} days"
