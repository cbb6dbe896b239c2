"""``send-due`` runs: each one recorded (when, how it went), and what the editor is told of them.

Cron (or a systemd timer) runs ``send-due`` every ``[schedule] cron_interval``; nothing else
sends scheduled issues. When it never ran, or stopped running, a scheduled issue just sits
there: :func:`cron_status` says so, and :func:`crontab_line` is the line to install.
Old runs are pruned as new ones start: the editor only needs the recent ones.
"""
from __future__ import annotations

import secrets
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .config import Config
from .store import Connection, from_db_time, to_db_time, transaction

#: runs older than this are deleted when a new one starts
KEEP = timedelta(days=30)


class RunOutcome(StrEnum):
    """How a ``send-due`` run went."""

    RUNNING = "running"  # still going (or the process died before it could say)
    IDLE = "idle"  # nothing was due
    SENT = "sent"  # sent (or resumed) at least one issue, every delivery went
    FAILED = "failed"  # finished, but some deliveries failed or the send paused (exit 1)
    ERROR = "error"  # an issue could not be sent, or the server could not be reached (exit 2, 3)
    LOCKED = "locked"  # another run was sending: nothing done


@dataclass(frozen=True)
class Run:
    """One recorded ``send-due`` run."""

    started_at: datetime
    finished_at: datetime | None
    outcome: RunOutcome
    detail: str


def start(conn: Connection, now: datetime) -> str:
    """Record a run starting at ``now`` (and forget runs older than :data:`KEEP`); its id."""
    run_id = secrets.token_hex(8)
    with transaction(conn):
        conn.execute("DELETE FROM send_due_runs WHERE started_at < ?", (to_db_time(now - KEEP),))
        conn.execute("INSERT INTO send_due_runs (id, started_at, outcome) VALUES (?, ?, ?)",
                     (run_id, to_db_time(now), RunOutcome.RUNNING))
    return run_id


def finish(conn: Connection, run_id: str, now: datetime, outcome: RunOutcome, detail: str = "") -> None:
    """Record how run ``run_id`` ended."""
    with transaction(conn):
        conn.execute("UPDATE send_due_runs SET finished_at = ?, outcome = ?, detail = ? WHERE id = ?",
                     (to_db_time(now), outcome, detail[:500], run_id))


def last_run(conn: Connection) -> Run | None:
    """The most recent ``send-due`` run, if any ever started."""
    row = conn.execute(
        "SELECT started_at, finished_at, outcome, detail FROM send_due_runs"
        " ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return Run(from_db_time(row["started_at"]), from_db_time(row["finished_at"]),
               RunOutcome(row["outcome"]), row["detail"])


@dataclass(frozen=True)
class CronStatus:
    """What the editor is told about ``send-due``: when it last ran, and whether that is too
    long ago (more than twice ``cron_interval``: cron is probably not running it)."""

    last: Run | None
    ago: str  # "never", "2 min ago", "3 h ago"
    overdue: bool

    @property
    def text(self) -> str:
        """``last run: never`` / ``last run: 2 min ago`` / ``last run: 3 h ago - overdue``."""
        return f"last run: {self.ago}" + (" - overdue" if self.overdue and self.last else "")


def cron_status(last: Run | None, now: datetime, interval: timedelta) -> CronStatus:
    """How :func:`last_run` looks at ``now`` when cron should run every ``interval``."""
    if last is None:
        return CronStatus(None, "never", True)
    age = max(now - last.started_at, timedelta(0))
    return CronStatus(last, f"{_span(age)} ago", age > 2 * interval)


def _span(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def crontab_line(config: Config, python: str = sys.executable) -> str:
    """The crontab line that runs ``send-due`` for this config every ``cron_interval``."""
    minutes = max(1, min(59, int(config.cron_interval.total_seconds() // 60)))
    every = "*" if minutes == 1 else f"*/{minutes}"
    command = f"cd {shlex.quote(str(config.root))} && {shlex.quote(python)} -m newsletter"
    if config.source is not None:
        command += f" --config {shlex.quote(str(config.source.resolve()))}"
    log = config.instance_path / "logs" / "send-due.log"
    return f"{every} * * * * {command} send-due >>{shlex.quote(str(log))} 2>&1"
