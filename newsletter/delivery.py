"""Sending an issue: parallel transports over the per-recipient ledger, crash safety.

:func:`send_issue` runs ``smtp.connections`` worker threads, each with its own transport,
taking due deliveries from batches read from the database as they run out: the subscriber
list is never loaded whole. Every claim is committed before its message is sent and every
result after (:mod:`ledger`), so a crash leaves the ledger exact: a rerun resumes, and a
delivery caught in flight becomes ``unknown``, never resent unless asked (``retry_unknown``).
Sends of one database are serialised by the :class:`SendLock`.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from . import issues, ledger, tallies
from .check.placeholders import refuse_placeholders
from .compose import RenderedIssue
from .config import Config
from .errors import HeaderError, InputError, NewsletterError, TransportError
from .ledger import Due, Outcome, Result
from .mail import MessageTemplate, message_ids
from .private_files import private_fd
from .states import SENDABLE, DeliveryState
from .store import Connection, now_utc, transaction
from .transport import ConnectionLost, PermanentFailure, TemporaryFailure, Transport, Uncertain, open_transport

#: this many temporary failures in a row (no success between) pause the send
PAUSE_AFTER = 20
#: due deliveries read from the database at a time (SQLite), reserved at a time (PostgreSQL:
#: small, so that senders sharing an issue share its work)
BATCH = 500
RESERVE = 32
#: per-recipient failures kept in a report
ERRORS_KEPT = 10
#: while other senders hold an issue's rows, look again every OTHERS_POLL seconds, at most
#: OTHERS_WAITS times (their rows are done, or theirs if they die, long before that)
OTHERS_POLL = 0.2
OTHERS_WAITS = 3000

recover_in_flight = ledger.recover_in_flight


class LockHeld(NewsletterError):
    """Another send holds the database's send lock (exit 1 for ``send``)."""

    exit_code = 1


class SendLock:
    """The database's send lock: exclusive, non-blocking, freed when the process dies.

    SQLite: ``flock`` on ``<database>.lock`` (``send`` and ``send-due`` take it: one sender per
    database); the holder writes its process id into the file (emptied on release), so
    :func:`senders_at_work` can tell whether a sender is alive. PostgreSQL: a session advisory
    lock, taken by ``send-due`` only, so that runs on several hosts never overlap; ``send``
    processes there share an issue instead (see :mod:`ledger`). ``acquire()`` returns False at
    once when it is held elsewhere; ``with SendLock(...)`` raises :class:`LockHeld` instead.
    """

    KEY = 0x6E6C7364, 0  # the PostgreSQL advisory lock (the owners' namespace, number 0)

    def __init__(self, config: Config, conn: Connection):
        self.conn = conn
        self.postgres = conn.dialect == "postgresql"
        self.path = Path(f"{config.database_path}.lock")
        self.name = "the database's send-due advisory lock" if self.postgres else f"lock {self.path}"
        self._held = False
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._held:
            return True
        if self.postgres:
            self._held = bool(self.conn.execute("SELECT pg_try_advisory_lock(?, ?)", self.KEY).fetchone()[0])
            return self._held
        fd = private_fd(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd, self._held = fd, True
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return True

    def release(self) -> None:
        if not self._held:
            return
        if self.postgres:
            self.conn.execute("SELECT pg_advisory_unlock(?, ?)", self.KEY)
        else:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self._held = False

    def __enter__(self) -> "SendLock":
        if not self.acquire():
            raise LockHeld(f"another send is running ({self.name} is held); try again later")
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def sender_lock(config: Config, conn: Connection) -> contextlib.AbstractContextManager:
    """What ``send`` holds while it sends: the send lock on SQLite (one sender per database);
    nothing on PostgreSQL, where senders on several hosts share an issue's deliveries."""
    return SendLock(config, conn) if conn.dialect == "sqlite" else contextlib.nullcontext()


def senders_at_work(config: Config, conn: Connection, issue_id: int) -> list[str]:
    """The live senders that may be at work on issue ``issue_id`` ("process 1234" each):
    on SQLite the ``send`` or ``send-due`` holding the send lock (its process id, from the lock
    file; one sender at a time, whatever the issue); on PostgreSQL the senders holding rows of
    the issue and a ``send-due`` run, by their database session (:func:`ledger.live_senders`:
    they may run on other hosts). [] when none is alive."""
    if conn.dialect == "postgresql":
        return [f"database session {pid}" for pid in ledger.live_senders(conn, issue_id)]
    pid = _lock_holder(Path(f"{config.database_path}.lock"))
    return [f"process {pid}"] if pid else []


def _lock_holder(path: Path) -> int | None:
    """The process id written in a SQLite send lock file, if that process is alive."""
    try:
        pid = int(path.read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return None
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        return pid
    return pid


@dataclass
class SendReport:
    """What one run did (sent, failed, deferred) and where the issue stands (pending, unknown)."""

    issue_id: int
    subject: str = ""
    sent: int = 0
    failed: int = 0
    bounced: int = 0  # refused at RCPT TO: failed for good, and the subscriber is now bounced
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
        """1 when an operator must act (a failure, a pause); addresses refused for good are
        bounced subscribers now, which the list has already dealt with: 0."""
        return 1 if self.failed or self.paused else 0

    def outcome(self) -> str:
        """The summary, or what went wrong when something did."""
        if self.paused:
            return self.reason
        if self.failed:
            first = f" (first: {self.errors[0]})" if self.errors else ""
            return f"{self.failed} deliveries failed{first}"
        return self.summary()

    def summary(self) -> str:
        bounced = f"bounced {self.bounced} (now marked bounced), " if self.bounced else ""
        return (
            f"issue {self.issue_id}: sent {self.sent}, failed {self.failed}, {bounced}pending {self.pending}, "
            f"unknown {self.unknown} in {self.elapsed:.1f}s"
        )


class Pacer:
    """``rate`` messages per second over all threads (0: no limit): each :meth:`wait` takes
    the next free slot, ``1 / rate`` seconds after the one before, and sleeps until it."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.next = clock()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = self.clock()
            slot = max(self.next, now)
            self.next = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


class SendRun:
    """One run of :func:`send_issue`: the workers, the queue of due deliveries they share, and
    the run's report. A fatal error (server gone, a bug) in any worker stops them all."""

    def __init__(self, conn: Connection, config: Config, issue_id: int, template: MessageTemplate,
                 now: datetime | None, progress: Callable[[int, int], None] | None, total: int):
        self.template, self.fixed_now = template, now
        self.progress, self.total, self.done = progress, total, 0
        self.stop = threading.Event()
        self.ledger = ledger.Ledger(conn, issue_id, owner=ledger.register_sender(conn), clock=self.now,
                                    stopped=self.stop.is_set, on_record=self._count, on_written=self._written)
        self.queue_lock = threading.Lock()
        self.queue: deque[Due] = deque()
        self.last = 0  # the highest subscriber id read so far (keyset paging)
        self.exhausted = False
        self.pacer = Pacer(config["smtp"]["rate_limit"])
        self.report = SendReport(issue_id, subject=template.subject)
        self.fatal: BaseException | None = None
        self.streak = 0  # temporary failures in a row

    def now(self) -> datetime:
        return self.fixed_now or now_utc()

    def _count(self, outcome: Outcome, state: DeliveryState) -> None:
        """The report's side of each recorded outcome (called under the ledger's lock)."""
        report = self.report
        if outcome.result == Result.SENT:
            report.sent += 1
            self.streak = 0
        elif outcome.result == Result.FAILED:
            report.failed += 1
            self.streak = 0
        elif outcome.result == Result.REFUSED:
            report.bounced += 1
            self.streak = 0
        elif outcome.result == Result.TEMPORARY:
            self.streak += 1
            if state == DeliveryState.FAILED:
                report.failed += 1
            else:
                report.deferred += 1
            if self.streak >= PAUSE_AFTER and not report.paused:
                report.paused = True
                report.reason = f"paused after {self.streak} temporary failures in a row (last: {outcome.error})"
                self.stop.set()
        if outcome.result in (Result.FAILED, Result.REFUSED, Result.TEMPORARY) and len(report.errors) < ERRORS_KEPT:
            report.errors.append(f"{outcome.subscriber_id}: {outcome.error}")

    def _written(self) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)

    def take(self) -> Due | None:
        """The next due delivery, or None when there is none left or the run stopped. Reads
        the next batch, in subscriber order, when the current one runs out. With other
        senders on the issue (PostgreSQL), this one stays until their rows are done too: rows
        of a sender that dies are free at once, and this one takes them over."""
        with self.queue_lock:
            for _ in range(OTHERS_WAITS):
                if self.stop.is_set():
                    return None
                if not self.queue and not self.exhausted:
                    size = BATCH if self.ledger.conn.dialect == "sqlite" else RESERVE
                    batch = self.ledger.read(self.last, size)
                    self.queue.extend(batch)
                    self.exhausted = len(batch) < size and not self.ledger.others_hold()
                    if batch:
                        self.last = batch[-1].subscriber_id
                if self.queue or self.exhausted:
                    return self.queue.popleft() if self.queue else None
                self.stop.wait(OTHERS_POLL)  # others hold rows: look again soon
            return None

    def worker(self, make_transport: Callable) -> None:
        """Claim, send, record, until nothing is due; each result is written with the next claim."""
        outcome = None
        transport = None
        try:
            transport = make_transport()
            while (due := self.take()) is not None:
                opener = getattr(transport, "open", None)
                if opener:
                    opener()  # connect before claiming: a server that is gone claims nothing
                claimed = self.ledger.commit(outcome, due.subscriber_id)
                outcome = None  # recorded by that commit
                if not claimed:
                    continue
                self.pacer.wait()
                outcome = self.deliver(transport, due)
        except BaseException as exc:  # TransportError or a bug: stop everything, keep the ledger true
            self.fatal = self.fatal or exc
            self.stop.set()
        finally:
            try:
                if outcome is not None:
                    self.ledger.commit(outcome, None)
            finally:
                if transport is not None:
                    transport.close()

    def deliver(self, transport: Transport, due: Due) -> Outcome:
        """Send one message; its outcome. 421 or a drop: reconnect, try once more."""
        sid, attempts = due.subscriber_id, due.attempts + 1
        try:
            message = self.template.personalize(sid, due.email, due.name, due.key)
        except HeaderError as exc:
            return Outcome(sid, attempts, Result.FAILED, str(exc))
        try:
            try:
                transport.send(self.template.envelope(sid), due.email, message)
            except ConnectionLost:
                getattr(transport, "open", lambda: None)()
                transport.send(self.template.envelope(sid), due.email, message)
            return Outcome(sid, attempts, Result.SENT)
        except TemporaryFailure as exc:  # ConnectionLost a second time included
            return Outcome(sid, attempts, Result.TEMPORARY, str(exc))
        except PermanentFailure as exc:
            refused = exc.step == "RCPT TO"  # the address itself: a hard bounce
            return Outcome(sid, attempts, Result.REFUSED if refused else Result.FAILED, str(exc))
        except Uncertain as exc:
            return Outcome(sid, attempts, Result.UNKNOWN, str(exc))
        except TransportError as exc:  # could not reconnect, or our sender refused: stop the run
            self.fatal = self.fatal or exc
            self.stop.set()
            return Outcome(sid, attempts, Result.NOT_TRIED, str(exc))

    def run(self, make_transport: Callable, connections: int) -> None:
        """Run the workers to the end (Ctrl-C: each finishes its message in flight)."""
        threads = [
            threading.Thread(target=self.worker, args=(make_transport,), name=f"send-{i}", daemon=True)
            for i in range(max(1, min(connections, self.total)))
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException:
            self.stop.set()
            for thread in threads:
                thread.join()
            raise
        if self.fatal is not None:
            raise self.fatal


def _issue_for_sending(conn: Connection, config: Config, issue_id: int,
                       now: datetime | None) -> tuple[issues.Issue, RenderedIssue]:
    issue = issues.get(conn, issue_id)
    if issue.state not in SENDABLE:
        raise InputError(f"issue {issue_id} is {issue.state}; it cannot be sent")
    return issue, issues.rendered(conn, config, issue, now)


def send_issue(
    conn: Connection,
    config: Config,
    issue_id: int,
    *,
    retry_unknown: bool = False,
    now: datetime | None = None,
    transport: Callable | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SendReport:
    """Send issue ``issue_id`` to every active subscriber who has not got it yet.

    The caller holds :func:`sender_lock` and has run :func:`recover_in_flight`. ``now``
    (a fixed clock for tests and ``send-due``) decides which deferred deliveries are due and
    their next retry times. ``transport`` is a factory of transports (default
    :func:`open_transport`), called once per connection. ``progress(done, total)`` is called
    after each delivery. Raises TransportError (exit 3) when the server cannot be reached.
    How the run ended is recorded on the issue (:func:`issues.record_send`), errors included.
    """
    try:
        report = _send_issue(conn, config, issue_id, retry_unknown=retry_unknown, now=now,
                             transport=transport, progress=progress)
    except NewsletterError as exc:
        issues.record_send(conn, issue_id, now or now_utc(), exc.exit_code, str(exc))
        raise
    issues.record_send(conn, issue_id, now or now_utc(), report.exit_code, report.outcome())
    return report


def _send_issue(conn: Connection, config: Config, issue_id: int, *, retry_unknown: bool,
                now: datetime | None, transport: Callable | None,
                progress: Callable[[int, int], None] | None) -> SendReport:
    started = time.monotonic()
    refuse_placeholders(config)
    _, copy = _issue_for_sending(conn, config, issue_id, now)
    template = MessageTemplate(copy, config, issue_id)  # header errors before any change
    issues.freeze(conn, issue_id, copy)
    with transaction(conn):
        issues.mark_sending(conn, issue_id, now or now_utc())
        if retry_unknown:
            ledger.retry_unknown(conn, issue_id)
    ledger.create_rows(conn, issue_id, message_ids(config))
    total = ledger.count_due(conn, issue_id, now or now_utc())

    run = SendRun(conn, config, issue_id, template, now, progress, total)
    try:
        run.run(transport or (lambda: open_transport(config)), config["smtp"]["connections"])
    finally:
        run.ledger.release()

    report = run.report
    if conn.dialect == "postgresql":  # a sender that died beside this one left rows in flight
        ledger.recover_in_flight(conn)
    ledger.drop_departed(conn, issue_id)
    rows = tallies.delivery_states(conn, issue_id)
    report.pending = rows[DeliveryState.PENDING] + rows[DeliveryState.SENDING]
    report.unknown = rows[DeliveryState.UNKNOWN]
    if not report.pending:
        issues.mark_sent(conn, issue_id, now or now_utc())
    report.state = issues.get(conn, issue_id).state
    report.elapsed = time.monotonic() - started
    return report


# --- dry run and test sends -------------------------------------------------------------------


@dataclass
class DryRun:
    """What ``send --dry-run`` reports."""

    issue_id: int
    subject: str
    count: int
    first: list[str]
    later: int  # deferred deliveries not yet due


def dry_run(
    conn: Connection, config: Config, issue_id: int, *, retry_unknown: bool = False,
    now: datetime | None = None, show: int = 5,
) -> DryRun:
    """Who a send would go to now (count and first addresses) and with what subject; no changes."""
    _, copy = _issue_for_sending(conn, config, issue_id, now)
    template = MessageTemplate(copy, config, issue_id)
    plan = ledger.would_send(conn, issue_id, now or now_utc(), retry_unknown=retry_unknown, show=show)
    return DryRun(issue_id, template.subject, *plan)


def send_test(
    config: Config, rendered: RenderedIssue, addresses: list[str], transport: Callable | None = None,
    *, test_token: str = "",
) -> list[tuple[str, str | None]]:
    """One ``[TEST]`` copy to each address, no delivery rows; (address, error or None) each.
    ``test_token`` (:func:`signing.test_token`) makes its links those of a test copy."""
    template = MessageTemplate(rendered, config, None, test=True, test_token=test_token)
    connection = (transport or (lambda: open_transport(config)))()
    results: list[tuple[str, str | None]] = []
    try:
        for address in addresses:
            try:
                connection.send(template.envelope(0), address, template.personalize(0, address, ""))
                results.append((address, None))
            except (TemporaryFailure, PermanentFailure, Uncertain, HeaderError) as exc:
                results.append((address, str(exc)))
    finally:
        connection.close()
    return results
