"""Sending an issue: a per-recipient ledger in SQLite, parallel transports, crash safety.

Each (issue, subscriber) has one ``deliveries`` row: ``pending`` → ``sending`` (claimed and
committed *before* the SMTP transaction) → ``sent`` (only after the server accepted the
message), or ``failed`` (5xx, or too many attempts), or back to ``pending`` with a backoff
time (4xx, or a connection lost before the end of the message). A row left ``sending`` by a
process that died becomes ``unknown`` (:func:`recover_in_flight`, only under the
:class:`SendLock`): it is reported and never resent unless asked (``retry_unknown``).

:func:`send_issue` runs ``smtp.connections`` worker threads, each with its own transport,
taking due deliveries from batches read from the database as they run out: the subscriber
list is never loaded whole. One SQLite connection is shared under a lock; each worker writes the result of
its last message and the claim of its next one in a single short transaction.
"""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from .compose import RenderedIssue
from .config import Config
from .errors import HeaderError, InputError, NewsletterError, TransportError
from .mail import MessageTemplate, message_ids
from .store import now_utc, to_db_time, transaction
from .transport import ConnectionLost, PermanentFailure, TemporaryFailure, Uncertain, open_transport

#: waits before the 2nd, 3rd, … attempt of a delivery that got a temporary failure
BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=3), timedelta(hours=6))
#: a delivery that failed temporarily this many times is given up (failed)
MAX_ATTEMPTS = 6
#: this many temporary failures in a row (no success between) pause the send
PAUSE_AFTER = 20
BATCH = 500
SENDABLE = ("draft", "scheduled", "missed", "sending", "sent")


class LockHeld(NewsletterError):
    """Another send holds the database's send lock (exit 1 for ``send``)."""

    exit_code = 1


class SendLock:
    """An exclusive, non-blocking lock per database (``flock`` on ``<database>.lock``).

    ``acquire()`` returns False at once when another process holds it; ``with SendLock(p):``
    raises :class:`LockHeld` instead. The kernel frees it when the process dies.
    """

    def __init__(self, database_path: str | os.PathLike):
        self.path = Path(f"{database_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "SendLock":
        if not self.acquire():
            raise LockHeld(f"another send is running (lock {self.path} is held); try again later")
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def recover_in_flight(conn: sqlite3.Connection) -> int:
    """Deliveries left ``sending`` by a dead process become ``unknown``; returns how many.

    Call only while holding the :class:`SendLock` (otherwise a live send's rows would be taken).
    """
    with transaction(conn):
        return conn.execute(
            "UPDATE deliveries SET state = 'unknown', updated_at = ?, "
            "last_error = 'interrupted while in flight: the server may or may not have it' "
            "WHERE state = 'sending'",
            (to_db_time(now_utc()),),
        ).rowcount


@dataclass
class SendReport:
    """What one run did (sent, failed, deferred) and where the issue stands (pending, unknown)."""

    issue_id: int
    subject: str = ""
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    unknown: int = 0
    pending: int = 0
    paused: bool = False
    reason: str = ""
    state: str = ""
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)  # first few per-recipient failures

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.paused else 0

    def summary(self) -> str:
        return (
            f"issue {self.issue_id}: sent {self.sent}, failed {self.failed}, pending {self.pending}, "
            f"unknown {self.unknown} in {self.elapsed:.1f}s"
        )


# --- issue and ledger helpers -------------------------------------------------------------


def load_issue(conn: sqlite3.Connection, issue_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM issues WHERE id = ?", (issue_id,)).fetchone()
    if row is None:
        raise InputError(f"issue {issue_id}: no such issue")
    return row


def frozen(row: sqlite3.Row) -> RenderedIssue | None:
    """The rendered issue frozen into its row when sending started, if any."""
    if row["rendered_html"] is None:
        return None
    return RenderedIssue(
        subject=row["rendered_subject"],
        preheader=row["rendered_preheader"] or "",
        html=row["rendered_html"],
        text=row["rendered_text"],
    )


def render(config: Config, row: sqlite3.Row, now: datetime | None = None) -> RenderedIssue:
    """The issue's articles rendered afresh (content errors raise)."""
    from .compose import render_issue
    from .content import resolve

    articles = [resolve(ref, config.content_dir) for ref in json.loads(row["articles"])]
    day = (now or now_utc()).astimezone(config.timezone).date()
    return render_issue(articles, config, subject=row["subject"] or None, issue_date=day)


def freeze(conn: sqlite3.Connection, issue_id: int, rendered: RenderedIssue) -> None:
    """Store the rendered issue in its row (what a resumed send and the web view use)."""
    with transaction(conn):
        conn.execute(
            "UPDATE issues SET rendered_subject = ?, rendered_preheader = ?, rendered_html = ?, "
            "rendered_text = ? WHERE id = ? AND rendered_html IS NULL",
            (rendered.subject, rendered.preheader, rendered.html, rendered.text, issue_id),
        )


def _issue_for_sending(conn, config, issue_id, now) -> tuple[sqlite3.Row, RenderedIssue]:
    row = load_issue(conn, issue_id)
    if row["state"] not in SENDABLE:
        raise InputError(f"issue {issue_id} is {row['state']}; it cannot be sent")
    return row, frozen(row) or render(config, row, now)


def _create_rows(conn: sqlite3.Connection, config: Config, issue_id: int) -> None:
    """A pending delivery for every active subscriber without one, in batches of ids; none
    once the issue is cancelled (a cancel drops pending rows: none may appear after it)."""
    make_id = message_ids(config)
    conn.create_function("nl_message_id", 1, lambda sid: make_id(issue_id, sid), deterministic=True)
    stamp = to_db_time(now_utc())
    top = conn.execute("SELECT coalesce(max(id), 0) FROM subscribers").fetchone()[0]
    step = 5000
    for low in range(0, top, step):
        with transaction(conn):
            conn.execute(
                "INSERT INTO deliveries (issue_id, subscriber_id, state, attempts, message_id, updated_at) "
                "SELECT ?, s.id, 'pending', 0, nl_message_id(s.id), ? FROM subscribers s "
                "WHERE s.status = 'active' AND s.id > ? AND s.id <= ? AND NOT EXISTS "
                "(SELECT 1 FROM deliveries d WHERE d.issue_id = ? AND d.subscriber_id = s.id) "
                "AND EXISTS (SELECT 1 FROM issues WHERE id = ? AND state != 'cancelled')",
                (issue_id, stamp, low, low + step, issue_id, issue_id),
            )
    _drop_departed(conn, issue_id)


def _drop_departed(conn: sqlite3.Connection, issue_id: int) -> None:
    """Pending deliveries of people who unsubscribed are dropped: they will not be sent."""
    with transaction(conn):
        conn.execute(
            "DELETE FROM deliveries WHERE issue_id = ? AND state = 'pending' AND subscriber_id NOT IN "
            "(SELECT id FROM subscribers WHERE status = 'active')",
            (issue_id,),
        )


def counts(conn: sqlite3.Connection, issue_id: int) -> dict[str, int]:
    found = dict(
        conn.execute(
            "SELECT state, count(*) FROM deliveries WHERE issue_id = ? GROUP BY state", (issue_id,)
        ).fetchall()
    )
    return {state: found.get(state, 0) for state in ("pending", "sending", "sent", "failed", "unknown")}


_DUE = (
    "FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
    "WHERE d.issue_id = ? AND d.state = 'pending' AND s.status = 'active' "
    "AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)"
)


# --- the run --------------------------------------------------------------------------------


class _Pacer:
    """``rate`` messages per second over all threads (0: no limit)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(self.next, now)
            self.next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class _Request:
    __slots__ = ("result", "claim", "done", "claimed")

    def __init__(self, result: tuple | None, claim: int | None):
        self.result, self.claim, self.done, self.claimed = result, claim, False, False


class _Run:
    def __init__(self, conn, config, issue_id, template, now, progress, total):
        self.conn, self.config, self.issue_id, self.template = conn, config, issue_id, template
        self.fixed_now = now
        self.progress, self.total, self.done = progress, total, 0
        self.lock = threading.Lock()  # the SQLite connection
        self.pending_lock = threading.Lock()
        self.pending: list[_Request] = []
        self.stop = threading.Event()
        self.items_lock = threading.Lock()
        self.items: deque[tuple] = deque()
        self.last = 0  # the highest subscriber id read so far (keyset paging)
        self.exhausted = False
        self.pacer = _Pacer(config["smtp"]["rate_limit"])
        self.report = SendReport(issue_id, subject=template.subject)
        self.fatal: BaseException | None = None
        self.streak = 0

    def now(self) -> datetime:
        return self.fixed_now or now_utc()

    # Ledger writes: a worker's previous result and its next claim go in one transaction, and
    # workers waiting at the same time share it (flat combining: whoever gets the lock writes
    # every request queued so far). A claim is committed before its message is sent.
    def commit(self, result: tuple | None, claim: int | None) -> bool:
        request = _Request(result, claim)
        with self.pending_lock:
            self.pending.append(request)
        with self.lock:
            if not request.done:
                with self.pending_lock:
                    batch, self.pending = self.pending, []
                self._apply(batch)
        return request.claimed

    def _apply(self, batch: list["_Request"]) -> None:
        stamp = to_db_time(now_utc())
        with transaction(self.conn):
            for request in batch:
                if request.result is not None:
                    self._record(stamp, *request.result)
            for request in batch:
                request.claimed = request.claim is not None and not self.stop.is_set() and self.conn.execute(
                    "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = ? "
                    "WHERE issue_id = ? AND subscriber_id = ? AND state = 'pending' AND EXISTS "
                    "(SELECT 1 FROM subscribers WHERE id = ? AND status = 'active')",
                    (stamp, self.issue_id, request.claim, request.claim),
                ).rowcount == 1
        for request in batch:
            request.done = True
            if request.result is not None:
                self.done += 1
                if self.progress:
                    self.progress(self.done, self.total)

    def _record(self, stamp: str, sid: int, attempts: int, outcome: str, error: str) -> None:
        r = self.report
        sql = "UPDATE deliveries SET state = ?, last_error = ?, next_attempt_at = ?, updated_at = ? "
        args: list = []
        if outcome == "sent":
            r.sent += 1
            self.streak = 0
            args = ["sent", None, None]
        elif outcome == "failed":
            r.failed += 1
            self.streak = 0
            args = ["failed", error, None]
        elif outcome == "unknown":
            args = ["unknown", error, None]
        elif outcome == "revert":  # claimed but never attempted (the server went away)
            sql = "UPDATE deliveries SET state = ?, attempts = attempts - 1, last_error = ?, next_attempt_at = ?, updated_at = ? "
            args = ["pending", error, None]
        else:  # temporary
            self.streak += 1
            if attempts >= MAX_ATTEMPTS:
                r.failed += 1
                args = ["failed", f"gave up after {attempts} attempts: {error}", None]
            else:
                r.deferred += 1
                wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
                args = ["pending", error, to_db_time(self.now() + wait)]
            if self.streak >= PAUSE_AFTER and not r.paused:
                r.paused = True
                r.reason = f"paused after {self.streak} temporary failures in a row (last: {error})"
                self.stop.set()
        if outcome in ("failed", "temporary") and len(r.errors) < 10:
            r.errors.append(f"{sid}: {error}")
        self.conn.execute(
            sql + "WHERE issue_id = ? AND subscriber_id = ?", (*args, stamp, self.issue_id, sid)
        )

    def take(self) -> tuple | None:
        """The next due delivery (subscriber id, email, name, attempts), or None when there
        is none left or the run stopped. Reads the next batch, in subscriber order, when the
        current one runs out."""
        with self.items_lock:
            if self.stop.is_set():
                return None
            if not self.items and not self.exhausted:
                with self.lock:
                    rows = self.conn.execute(
                        f"SELECT d.subscriber_id, s.email, s.name, d.attempts {_DUE} AND d.subscriber_id > ? "
                        "ORDER BY d.subscriber_id LIMIT ?",
                        (self.issue_id, to_db_time(self.now()), self.last, BATCH),
                    ).fetchall()
                self.items.extend(tuple(row) for row in rows)
                self.exhausted = len(rows) < BATCH
                if rows:
                    self.last = rows[-1][0]
            return self.items.popleft() if self.items else None

    def worker(self, make_transport: Callable) -> None:
        result = None
        transport = None
        try:
            transport = make_transport()
            while (item := self.take()) is not None:
                sid, email, name, attempts = item
                opener = getattr(transport, "open", None)
                if opener:
                    opener()  # connect before claiming: a server that is gone claims nothing
                claimed = self.commit(result, sid)
                result = None  # recorded by that commit
                if not claimed:
                    continue
                self.pacer.wait()
                result = self.deliver(transport, sid, email, name, attempts + 1)
        except BaseException as exc:  # TransportError or a bug: stop everything, keep the ledger true
            self.fatal = self.fatal or exc
            self.stop.set()
        finally:
            try:
                if result is not None:
                    self.commit(result, None)
            finally:
                if transport is not None:
                    transport.close()

    def deliver(self, transport, sid: int, email: str, name: str, attempts: int) -> tuple:
        """Send one message; the outcome to record. 421 or a drop: reconnect, try once more."""
        try:
            message = self.template.personalize(sid, email, name)
        except HeaderError as exc:
            return (sid, attempts, "failed", str(exc))
        try:
            try:
                transport.send(self.template.envelope_from, email, message)
            except ConnectionLost:
                getattr(transport, "open", lambda: None)()
                transport.send(self.template.envelope_from, email, message)
            return (sid, attempts, "sent", "")
        except TemporaryFailure as exc:  # ConnectionLost a second time included
            return (sid, attempts, "temporary", str(exc))
        except PermanentFailure as exc:
            return (sid, attempts, "failed", str(exc))
        except Uncertain as exc:
            return (sid, attempts, "unknown", str(exc))
        except TransportError as exc:  # could not reconnect, or our sender refused: stop the run
            self.fatal = self.fatal or exc
            self.stop.set()
            return (sid, attempts, "revert", str(exc))


def send_issue(
    conn: sqlite3.Connection,
    config: Config,
    issue_id: int,
    *,
    retry_unknown: bool = False,
    now: datetime | None = None,
    transport: Callable | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SendReport:
    """Send issue ``issue_id`` to every active subscriber who has not got it yet.

    The caller holds the :class:`SendLock` and has run :func:`recover_in_flight`. ``now``
    (a fixed clock for tests and ``send-due``) decides which deferred deliveries are due and
    their next retry times. ``transport`` is a factory of transports (default
    :func:`open_transport`), called once per connection. ``progress(done, total)`` is called
    after each delivery. Raises TransportError (exit 3) when the server cannot be reached.
    """
    started = time.monotonic()
    row, rendered = _issue_for_sending(conn, config, issue_id, now)
    template = MessageTemplate(rendered, config, issue_id)  # header errors before any change
    if row["rendered_html"] is None:
        freeze(conn, issue_id, rendered)
    with transaction(conn):
        conn.execute(
            "UPDATE issues SET state = 'sending', started_at = coalesce(started_at, ?) "
            "WHERE id = ? AND state != 'sent'",
            (to_db_time(now or now_utc()), issue_id),
        )
        if retry_unknown:
            conn.execute(
                "UPDATE deliveries SET state = 'pending', next_attempt_at = NULL "
                "WHERE issue_id = ? AND state = 'unknown'",
                (issue_id,),
            )
    _create_rows(conn, config, issue_id)
    total = conn.execute(f"SELECT count(*) {_DUE}", (issue_id, to_db_time(now or now_utc()))).fetchone()[0]

    run = _Run(conn, config, issue_id, template, now, progress, total)
    make = transport or (lambda: open_transport(config))
    threads = [
        threading.Thread(target=run.worker, args=(make,), name=f"send-{i}", daemon=True)
        for i in range(max(1, min(config["smtp"]["connections"], total)))
    ]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    except BaseException:  # Ctrl-C: the workers finish their message in flight and stop
        run.stop.set()
        for t in threads:
            t.join()
        raise
    if run.fatal is not None:
        raise run.fatal

    report = run.report
    _drop_departed(conn, issue_id)
    state = counts(conn, issue_id)
    report.pending, report.unknown = state["pending"] + state["sending"], state["unknown"]
    if not report.pending:
        with transaction(conn):
            conn.execute(
                "UPDATE issues SET state = 'sent', finished_at = coalesce(finished_at, ?) "
                "WHERE id = ? AND state = 'sending'",
                (to_db_time(now or now_utc()), issue_id),
            )
    report.state = load_issue(conn, issue_id)["state"]
    report.elapsed = time.monotonic() - started
    return report


# --- dry run and test sends -------------------------------------------------------------------


@dataclass
class DryRun:
    issue_id: int
    subject: str
    count: int
    first: list[str]
    later: int  # deferred deliveries not yet due


def dry_run(
    conn: sqlite3.Connection, config: Config, issue_id: int, *, retry_unknown: bool = False,
    now: datetime | None = None, show: int = 5,
) -> DryRun:
    """Who a send would go to now (count and first addresses) and with what subject; no changes."""
    row, rendered = _issue_for_sending(conn, config, issue_id, now)
    template = MessageTemplate(rendered, config, issue_id)
    moment = to_db_time(now or now_utc())
    where = (
        "FROM subscribers s LEFT JOIN deliveries d ON d.issue_id = ? AND d.subscriber_id = s.id "
        "WHERE s.status = 'active' AND (d.subscriber_id IS NULL OR (d.state = 'pending' AND "
        "(d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)) OR (? AND d.state = 'unknown'))"
    )
    args = (issue_id, moment, int(retry_unknown))
    count = conn.execute(f"SELECT count(*) {where}", args).fetchone()[0]
    first = [r[0] for r in conn.execute(f"SELECT s.email {where} ORDER BY s.id LIMIT ?", (*args, show))]
    later = conn.execute(
        "SELECT count(*) FROM deliveries WHERE issue_id = ? AND state = 'pending' AND next_attempt_at > ?",
        (issue_id, moment),
    ).fetchone()[0]
    return DryRun(issue_id, template.subject, count, first, later)


def send_test(
    config: Config, rendered: RenderedIssue, addresses: list[str], transport: Callable | None = None
) -> list[tuple[str, str | None]]:
    """One ``[TEST]`` copy to each address, no delivery rows; (address, error or None) each."""
    template = MessageTemplate(rendered, config, None, test=True)
    conn = (transport or (lambda: open_transport(config)))()
    results = []
    try:
        for address in addresses:
            try:
                conn.send(template.envelope_from, address, template.personalize(0, address, ""))
                results.append((address, None))
            except (TemporaryFailure, PermanentFailure, Uncertain, HeaderError) as exc:
                results.append((address, str(exc)))
    finally:
        conn.close()
    return results
