"""What the editor is told about issues: the state shown (and the actions it allows), the
subject subscribers get, the articles by title, whether a sender is at work, how the last send
ended, and what to do next. One place, so that badges, buttons and words always agree."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from ... import cron, issues
from ...config import Config
from ...delivery import senders_at_work
from ...states import CANCELLABLE, EDITABLE, SCHEDULABLE, SENDABLE, DeliveryState, IssueState, shown_state
from ...store import Connection, now_utc
from .. import sending

#: exit statuses of a send run (the contract's), as the editor reads them
UNREACHABLE, REFUSED, INCOMPLETE = 3, 2, 1


@dataclass
class IssueRow:
    """One issue as lists show it."""

    issue: issues.Issue
    shown: IssueState
    subject: str
    articles: list[issues.ArticleRef]
    counts: dict[DeliveryState, int]


@dataclass
class IssueStatus(IssueRow):
    """One issue as its page shows it: :class:`IssueRow` and what is happening to it."""

    started_here: bool = False  # a "Send now" process of this app is at work on it
    senders: list[str] = field(default_factory=list)  # live senders ("process 1234"; see delivery)
    cron_state: cron.CronStatus | None = None
    steps: list[str] = field(default_factory=list)  # what is happening and what to do next
    problem: bool = False  # the steps report something wrong

    @property
    def working(self) -> bool:
        """A sender is at work on it: the page follows it (refreshes)."""
        return self.started_here or (self.shown == IssueState.SENDING and bool(self.senders))

    @property
    def stalled(self) -> bool:
        """Marked sending, but no sender process is alive: nothing will move by itself."""
        return self.shown == IssueState.SENDING and not self.working

    @property
    def editable(self) -> bool:
        return self.shown in EDITABLE

    @property
    def schedulable(self) -> bool:
        return self.shown in SCHEDULABLE

    @property
    def refreshable(self) -> bool:
        """Its articles can be taken again from their files: it has not started going out."""
        return self.shown in SCHEDULABLE and self.issue.started_at is None

    @property
    def cancellable(self) -> bool:
        return self.shown in CANCELLABLE

    @property
    def sendable(self) -> bool:
        return self.shown in SENDABLE and not self.working


def row(conn: Connection, config: Config, issue: issues.Issue, folder: Collection[str]) -> IssueRow:
    """``issue`` as lists show it; ``folder``: the content folder's slugs (their previews exist)."""
    articles = issues.article_refs(conn, config, issue, folder)
    return IssueRow(issue, shown_state(issue.state, sending.running(issue.id)),
                    issues.subject(conn, config, issue, articles), articles, issues.delivery_counts(conn, issue))


def rows(conn: Connection, config: Config, listed: list[issues.Issue], folder: Collection[str]) -> list[IssueRow]:
    return [row(conn, config, issue, folder) for issue in listed]


def cron_status(conn: Connection, config: Config) -> cron.CronStatus:
    return cron.cron_status(cron.last_run(conn), now_utc(), config.cron_interval)


def status(conn: Connection, config: Config, issue: issues.Issue, folder: Collection[str]) -> IssueStatus:
    """Everything the issue's page says about it."""
    base = row(conn, config, issue, folder)
    found = IssueStatus(**vars(base), started_here=sending.running(issue.id),
                        senders=senders_at_work(config, conn, issue.id), cron_state=cron_status(conn, config))
    found.steps, found.problem = _steps(found, config)
    return found


def _steps(s: IssueStatus, config: Config) -> tuple[list[str], bool]:
    """What is happening and what to do next, in plain sentences; whether it is a problem."""
    last = s.issue.last_send
    pending = s.counts[DeliveryState.PENDING]
    cron_ok = s.cron_state is not None and s.cron_state.last is not None and not s.cron_state.overdue
    if s.working:
        who = "this app's" if s.started_here else "a"
        which = f" ({', '.join(s.senders)})" if s.senders else ""
        return [f"Sending: {who} sender process is at work{which}. This page follows it."], False
    if s.stalled:
        steps = ["No sender process is running, so nothing moves by itself."]
        if last is not None and last.status == UNREACHABLE:
            steps.append(f"The mail server could not be reached: {last.note}")
        elif last is not None and last.status:
            steps.append(f"The last send stopped: {last.note}")
        else:
            steps.append("The sender stopped before it finished (it was killed, or the machine restarted).")
        retry = (f"{pending} deliveries are still pending. They are retried at the next `send-due` run"
                 " (cron), or press Send now again." if cron_ok else
                 f"{pending} deliveries are still pending, and cron is not running `send-due`"
                 f" ({s.cron_state.text if s.cron_state else 'never ran'}): press Send now again"
                 + (" once the mail server is back." if last and last.status == UNREACHABLE else "."))
        steps.append(retry + " No one who already has it gets it twice.")
        return steps, True
    if s.shown == IssueState.SCHEDULED:
        steps = [f"Sent by cron (`send-due`); {s.cron_state.text}."]
        if not cron_ok:
            steps.append("Cron does not seem to run `send-due`: this issue will not go out by itself."
                         " Install the crontab line below, or press Send now.")
        return steps, not cron_ok
    if s.shown == IssueState.MISSED:
        return [f"`send-due` did not send it: it was more than {config['schedule']['max_lateness']} late"
                " (schedule.max_lateness). Send it now, or give it a new time."], True
    if last is not None and last.status == REFUSED and s.shown in SCHEDULABLE:
        return [f"The last send was refused: {last.note}", "Fix that, then press Send now again."], True
    if s.counts[DeliveryState.FAILED]:
        return [f"{s.counts[DeliveryState.FAILED]} deliveries failed: their addresses and the"
                " servers' replies are listed below."], True
    return [], False
