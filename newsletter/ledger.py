"""The delivery ledger: one ``deliveries`` row per (issue, subscriber), and every write to it.

A row is ``pending`` -> ``sending`` (claimed and committed *before* the SMTP transaction) ->
``sent`` (only after the server accepted the message), or ``failed``, or back to ``pending``
with a retry time. A row left ``sending`` by a sender that died becomes ``unknown``
(:func:`recover_in_flight`).

Senders. On SQLite one process sends at a time (the send lock): it reads due rows in
subscriber order. On PostgreSQL several processes, on several hosts, may send one issue at
once: each registers as an *owner* (a random number it holds a session advisory lock on, so
the lock, and with it the owner, ends the moment its process or connection does), reserves
batches of due rows with ``FOR UPDATE SKIP LOCKED`` (no two senders get the same row), and
claims each before sending it. Rows of an owner that is gone are free again: pending ones for
anyone to reserve, in-flight ones for :func:`recover_in_flight` to mark ``unknown``.

:class:`Ledger` is shared by a send's worker threads over one SQLite connection: each worker
hands in the outcome of its last message and the claim of its next one, and workers waiting at
the same time share one short transaction (flat combining).
"""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Callable

from .bounces.events import record_refusal
from .states import DeliveryState, IssueState, SubscriberStatus
from .store import Connection, analyze, bulk_insert, now_utc, to_db_time, transaction

#: waits before the 2nd, 3rd, ... attempt of a delivery that got a temporary failure
BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=3), timedelta(hours=6))
#: a delivery that failed temporarily this many times is given up (failed)
MAX_ATTEMPTS = 6
#: rows created per transaction, by subscriber id range
CREATE_STEP = 5000


class Result(StrEnum):
    """What became of one attempt to deliver a message."""

    SENT = "sent"  # the server accepted it
    FAILED = "failed"  # a permanent refusal
    REFUSED = "refused"  # a permanent refusal of the address (5xx to RCPT TO): a hard bounce
    TEMPORARY = "temporary"  # try again later (or give up after MAX_ATTEMPTS)
    UNKNOWN = "unknown"  # lost after the final dot: the server may have it
    NOT_TRIED = "not tried"  # claimed, but the server went away before the attempt


@dataclass(frozen=True)
class Outcome:
    """The result of one delivery attempt: ``attempts`` counts this one; ``error`` is the reply."""

    subscriber_id: int
    attempts: int
    result: Result
    error: str = ""


@dataclass(frozen=True)
class Due:
    """A delivery whose time has come: who, and how many attempts were made before."""

    subscriber_id: int
    email: str
    name: str
    key: str
    attempts: int


#: the first key of PostgreSQL advisory locks that mark a live sender (the second is its owner)
OWNER_LOCKS = 0x6E6C7364  # "nlsd"


def register_sender(conn: Connection) -> int:
    """This process's owner number for the rows it reserves and claims (0 on SQLite, where the
    send lock makes one sender the only one). On PostgreSQL the connection holds an advisory
    lock on it for as long as it lives."""
    if conn.dialect != "postgresql":
        return 0
    while True:  # bounded in practice: a clash of two random 31-bit numbers is rare
        owner = secrets.randbelow(2**31 - 1) + 1
        if conn.execute("SELECT pg_try_advisory_lock(?, ?)", (OWNER_LOCKS, owner)).fetchone()[0]:
            return owner


def _orphaned(conn: Connection, column: str = "owner") -> str:
    """SQL true for a row whose owner is gone (always, on SQLite: only called under the lock)."""
    if conn.dialect != "postgresql":
        return "1 = 1"
    return (f"({column} IS NULL OR {column} NOT IN (SELECT objid::integer FROM pg_locks WHERE "
            f"locktype = 'advisory' AND classid::bigint = {OWNER_LOCKS} AND objsubid = 2 AND granted))")


def live_senders(conn: Connection, issue_id: int) -> list[int]:
    """PostgreSQL: the database sessions (server process ids) of the live senders holding rows
    of the issue, and of a running ``send-due`` (it holds the owners' number 0, and resumes
    every issue that is sending), as ``pg_locks`` shows them; [] on SQLite."""
    if conn.dialect != "postgresql":
        return []
    holders = conn.execute(
        "SELECT DISTINCT pid, objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = ?"
        " AND objsubid = 2 AND granted", (OWNER_LOCKS,),
    ).fetchall()
    return sorted({pid for pid, owner in holders if owner == 0 or _holds_rows(conn, issue_id, owner)})


def _holds_rows(conn: Connection, issue_id: int, owner: int) -> bool:
    """Whether ``owner`` holds a row of the issue: looked for among the rows in flight, then
    the pending ones (a live sender's are there, found through the state index), then all."""
    for where in (f"state = '{DeliveryState.SENDING}' AND ", f"state = '{DeliveryState.PENDING}' AND ", ""):
        if conn.execute(f"SELECT 1 FROM deliveries WHERE issue_id = ? AND {where}owner = ? LIMIT 1",
                        (issue_id, owner)).fetchone():
            return True
    return False


def in_flight(conn: Connection) -> dict[int, int]:
    """Deliveries in flight whose sender is gone, per issue (what recovery will mark unknown)."""
    return dict(conn.execute(
        f"SELECT issue_id, count(*) FROM deliveries WHERE state = ? AND {_orphaned(conn)} GROUP BY issue_id",
        (DeliveryState.SENDING,),
    ))


def recover_in_flight(conn: Connection) -> int:
    """Deliveries left ``sending`` by a sender that is gone become ``unknown``; returns how many.

    On SQLite call it only while holding the send lock (otherwise a live send's rows would be
    taken); on PostgreSQL a live sender's rows are never touched.
    """
    with transaction(conn):
        return conn.execute(
            "UPDATE deliveries SET state = ?, updated_at = ?, "
            "last_error = 'interrupted while in flight: the server may or may not have it' "
            f"WHERE state = ? AND {_orphaned(conn)}",
            (DeliveryState.UNKNOWN, to_db_time(now_utc()), DeliveryState.SENDING),
        ).rowcount


def retry_unknown(conn: Connection, issue_id: int) -> None:
    """The issue's ``unknown`` deliveries become pending again (they may get a second copy)."""
    conn.execute(
        "UPDATE deliveries SET state = ?, next_attempt_at = NULL WHERE issue_id = ? AND state = ?",
        (DeliveryState.PENDING, issue_id, DeliveryState.UNKNOWN),
    )


def create_rows(conn: Connection, issue_id: int, message_id: Callable[[int, int], str]) -> None:
    """A pending delivery for every active subscriber without one, in batches of ids; none
    once the issue is cancelled (a cancel drops pending rows: none may appear after it)."""
    stamp = to_db_time(now_utc())
    top = conn.execute("SELECT coalesce(max(id), 0) FROM subscribers").fetchone()[0]
    created = 0
    for low in range(0, top, CREATE_STEP):
        with transaction(conn):
            if conn.dialect == "postgresql":  # a concurrent cancel waits for this, or this for it
                conn.execute("SELECT 1 FROM issues WHERE id = ? FOR UPDATE", (issue_id,))
            missing = [row[0] for row in conn.execute(
                "SELECT s.id FROM subscribers s WHERE s.status = ? AND s.id > ? AND s.id <= ? AND NOT EXISTS "
                "(SELECT 1 FROM deliveries d WHERE d.issue_id = ? AND d.subscriber_id = s.id) "
                "AND EXISTS (SELECT 1 FROM issues WHERE id = ? AND state != ?)",
                (SubscriberStatus.ACTIVE, low, low + CREATE_STEP, issue_id, issue_id, IssueState.CANCELLED),
            )]
            # the rows are missing and stay so until this commits (the send lock on SQLite, the
            # issue's row lock on PostgreSQL): one COPY, so that the counts' trigger runs once
            bulk_insert(conn, "deliveries", ("issue_id", "subscriber_id", "state", "attempts", "message_id",
                                             "updated_at"),
                        ((issue_id, sid, DeliveryState.PENDING, 0, message_id(issue_id, sid), stamp)
                         for sid in missing))
            created += len(missing)
    if created:
        analyze(conn, "deliveries")  # each claim must find its row by key, not among every pending one
    drop_departed(conn, issue_id)


def drop_departed(conn: Connection, issue_id: int) -> None:
    """Pending deliveries of people who unsubscribed are dropped: they will not be sent.
    (``NOT EXISTS``, each row's subscriber looked up by key: PostgreSQL runs ``NOT IN`` over a
    million subscribers, too many to hash in its working memory, as a scan of them per row.)"""
    with transaction(conn):
        conn.execute(
            "DELETE FROM deliveries WHERE issue_id = ? AND state = ? AND NOT EXISTS "
            "(SELECT 1 FROM subscribers s WHERE s.id = deliveries.subscriber_id AND s.status = ?)",
            (issue_id, DeliveryState.PENDING, SubscriberStatus.ACTIVE),
        )


_DUE = (
    "FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
    f"WHERE d.issue_id = ? AND d.state = '{DeliveryState.PENDING}' AND s.status = '{SubscriberStatus.ACTIVE}' "
    "AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)"
)


def count_due(conn: Connection, issue_id: int, now: datetime) -> int:
    """Deliveries of the issue that a send would attempt now."""
    return conn.execute(f"SELECT count(*) {_DUE}", (issue_id, to_db_time(now))).fetchone()[0]


def due_batch(conn: Connection, issue_id: int, now: datetime, after: int, size: int) -> list[Due]:
    """The next ``size`` due deliveries after subscriber id ``after``, in subscriber order."""
    rows = conn.execute(
        f"SELECT d.subscriber_id, s.email, s.name, s.key, d.attempts {_DUE} AND d.subscriber_id > ? "
        "ORDER BY d.subscriber_id LIMIT ?",
        (issue_id, to_db_time(now), after, size),
    ).fetchall()
    return [Due(*row) for row in rows]


def reserve(conn: Connection, issue_id: int, now: datetime, owner: int, size: int, after: int = 0) -> list[Due]:
    """PostgreSQL: up to ``size`` due deliveries nobody live holds, now held by ``owner``, in
    subscriber order after subscriber ``after`` (so that each reservation starts where the
    last one ended instead of passing every row sent so far), then, if that was the end,
    from the start again (rows a sender that died, or ended, left behind); rows other
    senders are reserving at the same moment are skipped."""
    found = _reserve(conn, issue_id, now, owner, size, after)
    if len(found) < size and after:
        found += _reserve(conn, issue_id, now, owner, size - len(found), 0)
    return found


def _reserve(conn: Connection, issue_id: int, now: datetime, owner: int, size: int, after: int) -> list[Due]:
    rows = conn.execute(
        "UPDATE deliveries d SET owner = ? FROM subscribers s "
        "WHERE s.id = d.subscriber_id AND d.issue_id = ? AND d.subscriber_id IN ("
        f"  SELECT d.subscriber_id {_DUE} AND d.subscriber_id > ? AND s.id > ? AND {_orphaned(conn, 'd.owner')}"
        "   ORDER BY d.subscriber_id LIMIT ? FOR UPDATE OF d SKIP LOCKED"
        ") RETURNING d.subscriber_id, s.email, s.name, s.key, d.attempts",
        (owner, issue_id, issue_id, to_db_time(now), after, after, size),
    ).fetchall()
    return sorted((Due(*row) for row in rows), key=lambda due: due.subscriber_id)


def held_by_others(conn: Connection, issue_id: int, now: datetime, owner: int) -> int:
    """PostgreSQL: due deliveries of the issue that other live senders hold (0 on SQLite)."""
    if conn.dialect != "postgresql":
        return 0
    return conn.execute(
        f"SELECT count(*) {_DUE} AND d.owner != ? AND NOT {_orphaned(conn, 'd.owner')}",
        (issue_id, to_db_time(now), owner),
    ).fetchone()[0]


def would_send(conn: Connection, issue_id: int, now: datetime, *, retry_unknown: bool,
               show: int) -> tuple[int, list[str], int]:
    """For a dry run: how many a send would mail now, the first ``show`` addresses, and how
    many deferred deliveries are not due yet."""
    moment = to_db_time(now)
    where = (
        "FROM subscribers s LEFT JOIN deliveries d ON d.issue_id = ? AND d.subscriber_id = s.id "
        "WHERE s.status = ? AND (d.subscriber_id IS NULL OR (d.state = ? AND "
        "(d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)) OR (? AND d.state = ?))"
    )
    args = (issue_id, SubscriberStatus.ACTIVE, DeliveryState.PENDING, moment, bool(retry_unknown),
            DeliveryState.UNKNOWN)
    count = conn.execute(f"SELECT count(*) {where}", args).fetchone()[0]
    first = [r[0] for r in conn.execute(f"SELECT s.email {where} ORDER BY s.id LIMIT ?", (*args, show))]
    later = conn.execute(
        "SELECT count(*) FROM deliveries WHERE issue_id = ? AND state = ? AND next_attempt_at > ?",
        (issue_id, DeliveryState.PENDING, moment),
    ).fetchone()[0]
    return count, first, later


class _Request:
    """One worker's hand-in: the outcome to record and the subscriber to claim next."""

    __slots__ = ("outcome", "claim", "done", "claimed")

    def __init__(self, outcome: Outcome | None, claim: int | None):
        self.outcome, self.claim, self.done, self.claimed = outcome, claim, False, False


def decide(outcome: Outcome, now: datetime) -> tuple[DeliveryState, str | None, datetime | None]:
    """The (state, last error, next attempt time) to store for ``outcome`` at ``now``: a
    temporary failure waits :data:`BACKOFF`, and is given up after :data:`MAX_ATTEMPTS`."""
    if outcome.result == Result.SENT:
        return DeliveryState.SENT, None, None
    if outcome.result in (Result.FAILED, Result.REFUSED):
        return DeliveryState.FAILED, outcome.error, None
    if outcome.result == Result.UNKNOWN:
        return DeliveryState.UNKNOWN, outcome.error, None
    if outcome.result == Result.NOT_TRIED:
        return DeliveryState.PENDING, outcome.error, None
    if outcome.attempts >= MAX_ATTEMPTS:
        return DeliveryState.FAILED, f"gave up after {outcome.attempts} attempts: {outcome.error}", None
    return DeliveryState.PENDING, outcome.error, now + BACKOFF[min(outcome.attempts, len(BACKOFF)) - 1]


class Ledger:
    """An issue's rows as one send writes them, shared by its worker threads.

    ``clock`` gives the time retries are counted from; ``stopped`` tells whether claims are
    still allowed; ``on_record(outcome, state)`` is called inside the transaction for every
    outcome as it is written, and ``on_written()`` once per outcome after it committed (the
    send's own counts, pausing and progress live with the caller).
    """

    def __init__(self, conn: Connection, issue_id: int, *, owner: int, clock: Callable[[], datetime],
                 stopped: Callable[[], bool], on_record: Callable[[Outcome, DeliveryState], None],
                 on_written: Callable[[], None]):
        self.conn, self.issue_id, self.owner = conn, issue_id, owner
        self.clock, self.stopped = clock, stopped
        self.on_record, self.on_written = on_record, on_written
        self.lock = threading.Lock()  # the SQLite connection
        self._queue_lock = threading.Lock()
        self._queue: list[_Request] = []

    def commit(self, outcome: Outcome | None, claim: int | None) -> bool:
        """Record ``outcome`` and claim subscriber ``claim``'s delivery, in one transaction
        shared with the workers waiting at the same time. True when the claim was made (the
        row was still pending, the subscriber still active and the send not stopped)."""
        request = _Request(outcome, claim)
        with self._queue_lock:
            self._queue.append(request)
        with self.lock:
            if not request.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._write(batch)
        return request.claimed

    def read(self, after: int, size: int) -> list[Due]:
        """The next due deliveries at the ledger's clock, over the shared connection: after
        subscriber ``after`` (SQLite), or reserved for this sender (PostgreSQL)."""
        with self.lock:
            if self.conn.dialect == "postgresql":
                return reserve(self.conn, self.issue_id, self.clock(), self.owner, size, after)
            return due_batch(self.conn, self.issue_id, self.clock(), after, size)

    def release(self) -> None:
        """The run is over: its reserved rows not attempted are free for anyone (PostgreSQL),
        and this sender is no longer registered."""
        if self.conn.dialect != "postgresql":
            return
        with self.lock:
            self.conn.execute("UPDATE deliveries SET owner = NULL WHERE issue_id = ? AND owner = ? AND state = ?",
                              (self.issue_id, self.owner, DeliveryState.PENDING))
            self.conn.execute("SELECT pg_advisory_unlock(?, ?)", (OWNER_LOCKS, self.owner))

    def others_hold(self) -> int:
        """Due deliveries other live senders hold (they may yet die and leave them)."""
        with self.lock:
            return held_by_others(self.conn, self.issue_id, self.clock(), self.owner)

    def _write(self, batch: list[_Request]) -> None:
        """One transaction for a batch of hand-ins: their outcomes, then their claims. On
        PostgreSQL its statements go out together (one round trip, not one each)."""
        stamp = to_db_time(now_utc())
        with self.conn.pipeline(), transaction(self.conn):
            self._store(stamp, [request.outcome for request in batch if request.outcome is not None])
            claims = [] if self.stopped() else [
                (request, self._claim(stamp, request.claim)) for request in batch if request.claim is not None
            ]
        for request, cursor in claims:
            request.claimed = cursor.rowcount == 1
        for request in batch:
            request.done = True
            if request.outcome is not None:
                self.on_written()

    def _store(self, stamp: str, outcomes: list[Outcome]) -> None:
        """Write ``outcomes``: every message sent in one statement, the others one by one."""
        sent = []
        for outcome in outcomes:
            state, error, next_attempt = decide(outcome, self.clock())
            self.on_record(outcome, state)
            if outcome.result == Result.SENT:
                sent.append(outcome.subscriber_id)
                continue
            if outcome.result == Result.REFUSED:  # the subscriber becomes bounced with this write
                record_refusal(self.conn, outcome.subscriber_id, self.issue_id, outcome.error)
            undo_claim = 1 if outcome.result == Result.NOT_TRIED else 0  # the attempt was never made
            self.conn.execute(
                "UPDATE deliveries SET state = ?, attempts = attempts - ?, last_error = ?, next_attempt_at = ?, "
                "updated_at = ? WHERE issue_id = ? AND subscriber_id = ?",
                (state, undo_claim, error, to_db_time(next_attempt) if next_attempt else None, stamp,
                 self.issue_id, outcome.subscriber_id),
            )
        if sent:
            self.conn.execute(
                "UPDATE deliveries SET state = ?, last_error = NULL, next_attempt_at = NULL, updated_at = ? "
                f"WHERE issue_id = ? AND subscriber_id IN ({', '.join('?' * len(sent))})",
                (DeliveryState.SENT, stamp, self.issue_id, *sent),
            )

    def _claim(self, stamp: str, subscriber_id: int):
        """Claim this subscriber's delivery if it is still pending and they are still active;
        the statement's cursor (``rowcount`` 1 when claimed, once the transaction is over)."""
        return self.conn.execute(
            "UPDATE deliveries SET state = ?, attempts = attempts + 1, updated_at = ?, owner = ? "
            "WHERE issue_id = ? AND subscriber_id = ? AND state = ? AND EXISTS "
            "(SELECT 1 FROM subscribers WHERE id = ? AND status = ?)",
            (DeliveryState.SENDING, stamp, self.owner, self.issue_id, subscriber_id, DeliveryState.PENDING,
             subscriber_id, SubscriberStatus.ACTIVE),
        )
