"""Send times: parsing in the configured zone, display with the zone, and what is due.

A time written with an offset (``2025-03-30T09:00+02:00``, ``…Z``) is taken as given. A time
without one is wall-clock time in ``[schedule] timezone``:

- a wall time that does not exist (skipped when clocks go forward) is refused, naming the
  nearest valid times;
- a wall time that happens twice (clocks go back) means the first of the two (``fold=0``,
  still on summer time), and a note says so.

Times are stored in UTC. Nothing here reads the clock: every function takes ``now``.

:func:`send_due` is what the ``send-due`` command runs (the only function here with I/O).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

from . import cron, issues
from .bounces.intake import Processor, mailbox_configured, mailbox_messages
from .config import Config
from .errors import InputError, NewsletterError, TransportError
from .states import IssueState
from .store import Connection


@dataclass(frozen=True)
class When:
    """A parsed send time: the UTC instant and any note worth telling the user."""

    utc: datetime
    note: str = ""


def parse_when(text: str, tz: ZoneInfo) -> When:
    """Parse an ISO-8601 date and time (see module docstring). Bad input is an InputError."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(
            f"{text!r} is not an ISO-8601 time such as 2025-03-30T09:00 or 2025-03-30T09:00+02:00"
        ) from None
    if len(raw) <= 10:  # a date alone: midnight is rarely what was meant
        raise InputError(f"{text!r} has no time of day; write it as {raw}T09:00 (for example)")
    try:
        if moment.tzinfo is not None:
            return When(moment.astimezone(timezone.utc))
        return _localize(moment, tz)
    except OverflowError:  # year 1 or 9999 with an offset: no such instant in UTC
        raise InputError(f"{text!r} is out of range") from None


def _localize(wall: datetime, tz: ZoneInfo) -> When:
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    back = first.astimezone(timezone.utc).astimezone(tz)
    if back.replace(tzinfo=None) != wall:  # in the gap: no instant has this wall time
        raise InputError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks go forward then);"
            f" choose a time outside the gap, e.g. {format_when(back, tz)}"
        )
    if first.utcoffset() != second.utcoffset():
        return When(
            first.astimezone(timezone.utc),
            f"note: {wall:%Y-%m-%d %H:%M} happens twice in {tz.key} (clocks go back);"
            f" using the first, {format_when(first, tz)}",
        )
    return When(first.astimezone(timezone.utc))


def format_when(moment: datetime | None, tz: ZoneInfo) -> str:
    """``2025-03-30 09:00 CEST (+02:00)``; ``-`` for no time."""
    if moment is None:
        return "-"
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({offset[:3]}:{offset[3:]})"


def due_state(send_at: datetime, now: datetime, max_lateness: timedelta) -> str:
    """For a scheduled issue: ``wait`` (not yet), ``due`` (send now) or ``missed`` (too late)."""
    if send_at > now:
        return "wait"
    return "missed" if now - send_at > max_lateness else "due"


class EventKind(StrEnum):
    """What :func:`send_due` reports (see :class:`Event`)."""

    LOCKED = "locked"  # another run holds the lock: nothing done
    RECOVERED = "recovered"  # ``count`` deliveries were in flight when a run died: now unknown
    MISSED = "missed"  # ``detail`` says how late; not sent
    IDLE = "idle"  # nothing due; ``detail`` names the next scheduled issue, if any
    PULLED = "pulled"  # ``report``: a feed's FeedResult with new articles (``report.slugs``)
    FEED_FAILED = "feed_failed"  # ``report``: a feed's FeedResult whose ``error`` says why
    DIGEST = "digest"  # ``report``: a digest's Outcome: issue ``issue_id`` made (scheduled if auto)
    DIGEST_MISSED = "digest_missed"  # ``report``: a digest's Outcome; its run was ``detail`` late: not made
    SENDING = "sending"  # about to send ``issue_id``
    SENT = "sent"  # ``report``: the run's SendReport
    ERROR = "error"  # ``error``: that issue was not sent (or, with no issue, the bounce mailbox
    #                   could not be read); the others still are
    BOUNCES = "bounces"  # ``report``: what reading the bounce mailbox did (an intake Summary)


@dataclass
class Event:
    """One thing :func:`send_due` did or found, about issue ``issue_id`` (see :class:`EventKind`)."""

    kind: EventKind
    issue_id: int | None = None
    count: int = 0
    detail: str = ""
    report: Any = None
    error: NewsletterError | None = None


def send_due(
    conn: Connection,
    config: Config,
    now: datetime,
    *,
    transport: Callable | None = None,
    progress_for: Callable[[int], Callable[[int, int], None] | None] | None = None,
) -> Iterator[Event]:
    """:func:`due_events`, with the run recorded (:mod:`cron`): when it ran and how it went."""
    run_id = cron.start(conn, now)
    tally = _Tally()
    started = time.monotonic()
    try:
        for event in due_events(conn, config, now, transport=transport, progress_for=progress_for):
            tally.add(event)
            yield event
    except NewsletterError as exc:
        tally.errors.append(str(exc))
        raise
    except KeyboardInterrupt:
        tally.errors.append("interrupted")
        raise
    finally:
        cron.finish(conn, run_id, now + timedelta(seconds=time.monotonic() - started), *tally.result())


@dataclass
class _Tally:
    """What a run's events add up to, for its record."""

    locked: bool = False
    sent: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # finished, but not every delivery went
    errors: list[str] = field(default_factory=list)  # not sent at all

    def add(self, event: Event) -> None:
        if event.kind == EventKind.LOCKED:
            self.locked = True
        elif event.kind == EventKind.ERROR:
            self.errors.append(f"issue {event.issue_id}: {event.error}" if event.issue_id else str(event.error))
        elif event.kind == EventKind.SENT:
            report = event.report
            self.sent.append(report.summary())
            if report.exit_code:
                self.failures.append(f"issue {event.issue_id}: "
                                     + (report.reason or f"{report.failed} deliveries failed"))

    def result(self) -> tuple[cron.RunOutcome, str]:
        if self.errors:
            return cron.RunOutcome.ERROR, "; ".join(self.errors + self.failures)
        if self.failures:
            return cron.RunOutcome.FAILED, "; ".join(self.failures)
        if self.sent:
            return cron.RunOutcome.SENT, "; ".join(self.sent)
        return (cron.RunOutcome.LOCKED if self.locked else cron.RunOutcome.IDLE), ""


def due_events(
    conn: Connection,
    config: Config,
    now: datetime,
    *,
    transport: Callable | None = None,
    progress_for: Callable[[int], Callable[[int, int], None] | None] | None = None,
) -> Iterator[Event]:
    """Send what is due at ``now``, under the database's send lock; yields :class:`Event` s.

    Order: take the lock (or yield ``locked`` and stop); turn deliveries left in flight into
    ``unknown``; read the bounce mailbox when one is configured (``bounces``, or ``error``); pull
    the ``[[feeds]]`` and make the ``[[digests]]`` due (an automatic one is scheduled at its slot,
    so it is sent below in the same run); mark ``sent`` the issues left ``sending`` with nothing
    more to do; mark scheduled issues later than ``max_lateness`` ``missed``; send the others
    whose time has come; resume ``sending`` issues with retries due or subscribers not yet
    reached, unless their last activity is more than ``max_lateness`` old (then ``missed``
    too: ``send ID`` still finishes them). ``progress_for(issue_id)`` may return a
    ``progress(done, total)`` callback for that issue's send. A TransportError (server unreachable) propagates:
    nothing more can be sent in this run.
    """
    from .delivery import SendLock

    lock = SendLock(config, conn)
    if not lock.acquire():
        yield Event(EventKind.LOCKED, detail=lock.name)
        return
    try:
        yield from _recover(conn)
        if mailbox_configured(config):  # first: an address that bounced since is not mailed
            yield _fetch_bounces(conn, config)
        yield from _feeds_and_digests(conn, config, now)
        issues.finish_idle(conn, now)
        todo: list[int] = []
        yield from _due_issues(conn, config, now, todo)
        if not todo:
            yield Event(EventKind.IDLE, detail=_next_up(conn, config.timezone))
        for issue_id in todo:
            yield from _send(conn, config, issue_id, now, transport, progress_for)
    finally:
        lock.release()


def _recover(conn: Connection) -> Iterator[Event]:
    """Deliveries left in flight by a run that died become unknown (reported per issue)."""
    from .ledger import in_flight, recover_in_flight

    stuck = in_flight(conn)
    if stuck:
        recover_in_flight(conn)
        for issue_id, n in sorted(stuck.items()):
            yield Event(EventKind.RECOVERED, issue_id, count=n)


def _due_issues(conn: Connection, config: Config, now: datetime, todo: list[int]) -> Iterator[Event]:
    """Fill ``todo`` with the issues to send now: scheduled ones whose time has come, and
    unfinished sends with work due; those more than ``max_lateness`` late are marked missed."""
    late, zone = config.max_lateness, config.timezone
    for issue in issues.scheduled_until(conn, now):
        if due_state(issue.send_at, now, late) == "missed" and issues.mark_missed(conn, issue.id):
            yield Event(EventKind.MISSED, issue.id,
                        detail=f"scheduled for {format_when(issue.send_at, zone)}, {_late(now - issue.send_at)} late")
        else:
            todo.append(issue.id)
    for issue_id in issues.resume_due(conn, now):
        if issue_id in todo:
            continue
        last = issues.last_activity(conn, issue_id, now)
        if last is not None and now - last > late and issues.mark_missed(conn, issue_id):
            yield Event(EventKind.MISSED, issue_id,
                        detail=f"an unfinished send last active {format_when(last, zone)}, {_late(now - last)} ago")
        else:
            todo.append(issue_id)


def _send(conn: Connection, config: Config, issue_id: int, now: datetime, transport: Callable | None,
          progress_for: Callable[[int], Callable[[int, int], None] | None] | None) -> Iterator[Event]:
    """Send one due issue (unless cancelled since it was listed); a TransportError propagates."""
    from .delivery import send_issue

    if issues.get(conn, issue_id).state == IssueState.CANCELLED:
        return
    yield Event(EventKind.SENDING, issue_id)
    bar = progress_for(issue_id) if progress_for else None
    try:
        report = send_issue(conn, config, issue_id, now=now, transport=transport, progress=bar)
    except TransportError:
        raise
    except NewsletterError as exc:
        yield Event(EventKind.ERROR, issue_id, error=exc)
        return
    yield Event(EventKind.SENT, issue_id, report=report)


def _feeds_and_digests(conn: Connection, config: Config, now: datetime) -> Iterator[Event]:
    """Pull every feed, then make the digests due (events only for what happened)."""
    if config.feeds:
        from .feeds import pull

        for result in pull(conn, config, now):
            if result.error:
                yield Event(EventKind.FEED_FAILED, report=result)
            elif result.slugs:
                yield Event(EventKind.PULLED, count=len(result.slugs), report=result)
    if config.digests:
        from .digests import run

        for outcome in run(conn, config, now):
            if outcome.kind == "created":
                yield Event(EventKind.DIGEST, outcome.issue_id, count=outcome.count, report=outcome)
            else:
                yield Event(EventKind.DIGEST_MISSED, detail=_late(outcome.late), report=outcome)


def _fetch_bounces(conn: Connection, config: Config) -> Event:
    """``bounces fetch``, as one event."""
    try:
        summary = Processor(conn, config).run(mailbox_messages(config))
    except NewsletterError as exc:
        return Event(EventKind.ERROR, error=exc)
    return Event(EventKind.BOUNCES, count=len(summary.lines), report=summary)


def _next_up(conn: Connection, tz: ZoneInfo) -> str:
    upcoming = issues.next_scheduled(conn)
    if upcoming is None:
        return "no issue is scheduled"
    return f"next: issue {upcoming.id} at {format_when(upcoming.send_at, tz)}"


def _late(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
