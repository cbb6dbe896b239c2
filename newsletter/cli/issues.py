"""``issue create|list|show|edit|schedule|refresh|cancel`` and ``send-due`` (for cron)."""
from __future__ import annotations

import os
import sys
from datetime import datetime

import click

from .. import issues
from ..bounces.stats import issue_bounces
from ..config import Config
from ..errors import InputError
from ..schedule import Event, EventKind, format_when, parse_when
from ..schedule import send_due as send_due_events
from ..states import DeliveryState
from ..store import now_utc
from .context import current_config, current_db
from .output import echo
from .send import Progress

SHOWN = 20  # recipients listed per problem state in `issue show`


def _now() -> datetime:
    """The current time; ``$NEWSLETTER_NOW`` (ISO-8601 with offset) overrides it, for tests."""
    fake = os.environ.get("NEWSLETTER_NOW")
    if not fake:
        return now_utc()
    try:
        moment = datetime.fromisoformat(fake)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InputError(f"NEWSLETTER_NOW: {fake!r} is not an ISO-8601 time with an offset")
    return moment


@click.group()
def issue() -> None:
    """Create, list, show, edit, schedule, refresh and cancel newsletter issues."""


@issue.command()
@click.argument("articles", nargs=-1, required=True, metavar="SLUG_OR_PATH...")
@click.option("--subject", default="", help="Subject line (default: from the lead article).")
@click.option("--send-at", "send_at", metavar="ISO-8601",
              help="When send-due sends it; without an offset, in [schedule] timezone.")
def create(articles: tuple[str, ...], subject: str, send_at: str | None) -> None:
    """Create an issue from one or more articles; prints its id on a line of its own.

    The issue keeps the articles as they are now: later edits to their files reach it only
    through `issue refresh ID`, and never once it has gone out."""
    config = current_config()
    when = None
    if send_at:
        when = parse_when(send_at, config.timezone)
        _check_not_stale(when.utc, config)
    issue_id = issues.create(current_db(), config.content_dir, list(articles), subject=subject,
                             send_at=when.utc if when else None, now=_now())
    echo(issue_id)
    if when:
        if when.note:
            echo(when.note, err=True)
        echo(f"issue {issue_id} scheduled for {format_when(when.utc, config.timezone)}", err=True)
    else:
        echo(f"issue {issue_id} created as a draft (schedule it with `issue schedule {issue_id} --at ...`)",
                   err=True)


def _check_not_stale(moment: datetime, config: Config) -> None:
    if _now() - moment > config.max_lateness:
        raise InputError(
            f"{format_when(moment, config.timezone)} is more than schedule.max_lateness"
            f" ({config['schedule']['max_lateness']}) ago: send-due would never send it"
        )


@issue.command("list")
def list_() -> None:
    """List issues, newest first: id, state, send time, subject, delivery counts."""
    config = current_config()
    conn = current_db()
    for item in issues.list_issues(conn):
        counts = issues.format_counts(issues.delivery_counts(conn, item))
        echo(f"{item.id}\t{item.state}\t{format_when(item.send_at, config.timezone)}"
             f"\t{issues.subject(conn, config, item)}\t{counts}")


@issue.command()
@click.argument("issue_id", type=int, metavar="ID")
def show(issue_id: int) -> None:
    """Show one issue: state, articles, times, delivery counts, and failed or unknown recipients."""
    config = current_config()
    conn = current_db()
    item = issues.get(conn, issue_id)
    tz = config.timezone
    echo(f"issue {item.id}: {item.state}")
    articles = issues.article_refs(conn, config, item)
    echo(f"subject: {issues.subject(conn, config, item, articles)}")
    titles = [f"{a.ref} ({a.title or 'cannot be read'})" for a in articles]
    echo(f"articles: {', '.join(titles)}")
    echo(f"send at: {format_when(item.send_at, tz)}")
    echo(f"created: {format_when(item.created_at, tz)}")
    if item.started_at:
        echo(f"started: {format_when(item.started_at, tz)}")
    if item.finished_at:
        echo(f"finished: {format_when(item.finished_at, tz)}")
    if item.last_send:
        status = f" (exit status {item.last_send.status})" if item.last_send.status else ""
        echo(f"last send: {format_when(item.last_send.at, tz)}: {item.last_send.note}{status}")
    counts = issues.delivery_counts(conn, item)
    echo(f"deliveries: {issues.format_counts(counts)}")
    bounces = issue_bounces(conn, item.id)
    for line in bounces.lines():
        echo(line)
    for warning in bounces.warnings():
        echo(f"warning: {warning}", err=True)
    titles = {
        DeliveryState.UNKNOWN:
            f"unknown (in flight when a send was killed; resend with `send {item.id} --retry-unknown`):",
        DeliveryState.FAILED: "failed:",
    }
    for state, title in titles.items():
        if not counts[state]:
            continue
        echo(title)
        for row in issues.problem_deliveries(conn, item.id, state, SHOWN):
            echo(f"  {row['email']}\tattempts {row['attempts']}\t{row['last_error'] or ''}")
        if counts[state] > SHOWN:
            echo(f"  and {counts[state] - SHOWN} more")


@issue.command()
@click.argument("issue_id", type=int, metavar="ID")
@click.argument("articles", nargs=-1, metavar="[SLUG_OR_PATH...]")
@click.option("--subject", default=None, help="New subject line ('' for the lead article's title).")
def edit(issue_id: int, articles: tuple[str, ...], subject: str | None) -> None:
    """Change a draft or scheduled issue: its articles (all of them, in order) and/or its subject."""
    config = current_config()
    conn = current_db()
    item = issues.get(conn, issue_id)
    if not articles and subject is None:
        raise InputError("give the articles, --subject, or both")
    item = issues.edit(conn, config.content_dir, issue_id, list(articles) or list(item.articles),
                       item.subject if subject is None else subject)
    echo(f"issue {item.id}: {issues.subject(conn, config, item)} ({', '.join(item.articles)})")


@issue.command("schedule")
@click.argument("issue_id", type=int, metavar="ID")
@click.option("--at", "at", required=True, metavar="ISO-8601",
              help="Send time; without an offset, in [schedule] timezone.")
def schedule_(issue_id: int, at: str) -> None:
    """Set or change when send-due sends a draft, scheduled or missed issue."""
    config = current_config()
    when = parse_when(at, config.timezone)
    if when.note:
        echo(when.note, err=True)
    item = issues.schedule(current_db(), issue_id, when.utc,
                        now=_now(), max_lateness=config.max_lateness)
    echo(f"issue {item.id} scheduled for {format_when(item.send_at, config.timezone)}")


@issue.command()
@click.argument("issue_id", type=int, metavar="ID")
def refresh(issue_id: int) -> None:
    """Take an issue's articles again from their files (after editing them), while it has not
    started going out."""
    item = issues.refresh_articles(current_db(), current_config(), issue_id)
    echo(f"issue {item.id}: articles taken again from {', '.join(item.articles)}")


@issue.command()
@click.argument("issue_id", type=int, metavar="ID")
def cancel(issue_id: int) -> None:
    """Cancel what has not gone yet (deliveries already sent stay recorded). Final."""
    conn = current_db()
    item, changed = issues.cancel(conn, issue_id)
    counts = issues.delivery_counts(conn, item)
    if changed:
        echo(f"issue {item.id} cancelled ({counts[DeliveryState.SENT]} already sent)")
    else:
        echo(f"issue {item.id} was already cancelled")


@click.command("send-due")
@click.option("-v", "--verbose", is_flag=True, help="Also say what was checked and what comes next (stderr).")
def send_due(verbose: bool) -> None:
    """Send every scheduled issue whose time has come, and deliveries whose retry time has come.

    For cron. Runs under the database's send lock: a second run while one is going (on this
    machine or, on PostgreSQL, another) exits 0 at once, saying so on stderr. In order: reads
    the bounce mailbox when one is configured ([bounces] maildir or imap_host), as `bounces
    fetch` does (one line per message read); pulls the [[feeds]] (one line per feed with new
    articles) and makes the [[digests]] that are due (one line per issue made: a draft for an
    editor, or scheduled and sent in this run when the digest is automatic); sends. An issue
    more than [schedule] max_lateness late is not sent but marked missed (send it on purpose
    with `send ID`). Prints nothing on stdout when there is nothing to do, one summary line per
    issue sent; problems go to stderr (a missed issue, and deliveries caught in flight by a
    crash, are reported there too). Exit status: 0 done, 1 some deliveries failed, the send
    paused after a run of temporary failures, or a feed could not be pulled, 2 an issue could
    not be prepared (bad article, header), 3 the mail server could not be reached.
    """
    config = current_config()
    now = _now()
    output = _SendDueOutput(config, now, verbose)
    for event in send_due_events(current_db(), config, now, progress_for=output.progress_for):
        output.show(event)
    click.get_current_context().exit(output.status)


class _SendDueOutput:
    """What `send-due` prints for each event of a run (stdout: what was done; stderr: problems,
    and with -v what was checked), and the run's exit status, the worst of its events'."""

    def __init__(self, config: Config, now: datetime, verbose: bool):
        self.config, self.now, self.verbose = config, now, verbose
        self.status = 0
        self.bars: dict[int, Progress] = {}
        self.lateness = config["schedule"]["max_lateness"]

    def progress_for(self, issue_id: int) -> Progress | None:
        """A progress bar for a send, on a terminal only."""
        if not sys.stderr.isatty():
            return None
        self.bars[issue_id] = Progress(issue_id)
        return self.bars[issue_id]

    def show(self, event: Event) -> None:
        if event.issue_id in self.bars and event.kind in (EventKind.SENT, EventKind.ERROR):
            self.bars.pop(event.issue_id).close()
        getattr(self, f"_{event.kind.value}")(event)

    def _fail(self, status: int) -> None:
        self.status = max(self.status, status)

    @staticmethod
    def _note(text: str) -> None:
        echo(text, err=True)

    def _when(self, moment: datetime) -> str:
        return format_when(moment, self.config.timezone)

    def _locked(self, event: Event) -> None:
        self._note(f"send-due: another run is sending ({event.detail} is held); nothing to do here")

    def _recovered(self, event: Event) -> None:
        self._note(f"issue {event.issue_id}: {event.count} deliveries were in flight when an earlier send"
                   f" stopped; now unknown, not resent (see `issue show {event.issue_id}`)")

    def _missed(self, event: Event) -> None:
        issue_id = event.issue_id
        self._note(f"issue {issue_id} missed: {event.detail}; max_lateness is {self.lateness}, so it was not"
                   f" sent. Send it anyway with `send {issue_id}` or reschedule it with"
                   f" `issue schedule {issue_id} --at ...`")

    def _pulled(self, event: Event) -> None:
        echo(f"feed {event.report.feed!r}: {event.count} new article(s): {', '.join(event.report.slugs)}")

    def _feed_failed(self, event: Event) -> None:
        self._fail(1)
        self._note(f"error: feed {event.report.feed!r}: {event.report.error}")

    def _digest(self, event: Event) -> None:
        outcome = event.report
        what = (f"scheduled for {self._when(outcome.slot)}" if outcome.scheduled
                else f"a draft waiting for an editor (send it with `send {event.issue_id}`)")
        echo(f"digest {outcome.digest!r}: issue {event.issue_id} made of {event.count} article(s), {what}")

    def _digest_missed(self, event: Event) -> None:
        outcome = event.report
        self._note(f"digest {outcome.digest!r}: the run of {self._when(outcome.slot)} was {event.detail}"
                   f" late (max_lateness {self.lateness}), so it was not made; its articles go into the next one")

    def _idle(self, event: Event) -> None:
        if self.verbose:
            self._note(f"send-due: nothing due at {self._when(self.now)}; {event.detail}")

    def _sending(self, event: Event) -> None:
        if self.verbose:
            self._note(f"send-due: sending issue {event.issue_id}")

    def _error(self, event: Event) -> None:
        self._fail(event.error.exit_code)
        self._note(f"error: {f'issue {event.issue_id}' if event.issue_id else 'bounces fetch'}: {event.error}")

    def _bounces(self, event: Event) -> None:
        self._fail(event.report.exit_code)
        for line in event.report.lines:
            echo(line)
        for line in event.report.errors:
            self._note(f"error: {line}")

    def _sent(self, event: Event) -> None:
        report, issue_id = event.report, event.issue_id
        self._fail(report.exit_code)
        echo(report.summary())
        if report.paused:
            self._note(f"issue {issue_id}: {report.reason}; the rest stay pending for the next run")
        if report.failed:
            self._note(f"issue {issue_id}: {report.failed} deliveries failed (see `issue show {issue_id}`)")
        if self.verbose:
            for line in report.errors:
                self._note(f"  {line}")


COMMANDS = (issue, send_due,)
