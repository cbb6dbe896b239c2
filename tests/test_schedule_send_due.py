"""`send-due` end to end: real subprocesses, a real SQLite file, a real aiosmtpd server on 127.0.0.1.

Also the DST case through the library with an injected clock (real sends into the outbox).
"""
from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from newsletter import issues, subscribers
from newsletter.config import load_config
from newsletter.schedule import parse_when, send_due
from newsletter.store import connect

from helpers import REAL_TOML
from smtpserver import Recorder, smtp_server

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "samples" / "000_c1508f7e4351951f.txt"
UTC = timezone.utc


def tally(server: Recorder) -> collections.Counter:
    """Messages received per recipient."""
    return collections.Counter(server.recipients())


@pytest.fixture
def smtp():
    with smtp_server(Recorder()) as (port, recorder):
        recorder.port = port
        yield recorder


@pytest.fixture
def site(tmp_path, smtp, database_url):
    """A config file using the test SMTP server (on SQLite or PostgreSQL), and a helper running
    the CLI against it: several runs at once are as several hosts would be."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        REAL_TOML + f'[database]\npath = "instance/newsletter.db"\nurl = "{database_url}"\n'
        f'[smtp]\nbackend = "smtp"\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
        "connections = 2\ntimeout = 10\n"
        '[schedule]\ntimezone = "Europe/Paris"\nmax_lateness = "6h"\n'
    )
    env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg), "NEWSLETTER_SECRET_KEY": "test-secret"}
    env.pop("NEWSLETTER_NOW", None)

    class Site:
        config = load_config(cfg, environ=env)

        @staticmethod
        def run(*args: str, now: datetime | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
            return subprocess.run(
                [sys.executable, "-m", "newsletter", *args], cwd=ROOT, capture_output=True, text=True,
                env={**env, **({"NEWSLETTER_NOW": now.isoformat()} if now else {})}, timeout=timeout,
            )

        @staticmethod
        def popen(*args: str) -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-m", "newsletter", *args], cwd=ROOT, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )

        @staticmethod
        def subscribe(n: int) -> list[str]:
            path = tmp_path / f"list{n}.csv"
            emails = [f"reader{i}@example.com" for i in range(n)]
            path.write_text("email,name\n" + "".join(f"{e},Reader {i}\n" for i, e in enumerate(emails)))
            assert Site.run("subscribers", "import", str(path)).returncode == 0
            return emails

        @staticmethod
        def create(send_at: datetime, now: datetime | None = None) -> int:
            proc = Site.run("issue", "create", str(SEED), "--send-at", send_at.isoformat(),
                            now=now or send_at - timedelta(minutes=1))
            assert proc.returncode == 0, proc.stderr
            return int(proc.stdout.splitlines()[0])

        @staticmethod
        def show(issue_id: int) -> str:
            return Site.run("issue", "show", str(issue_id)).stdout

    return Site


def test_send_due_with_nothing_to_do_prints_nothing(site):
    proc = site.run("send-due")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    site.subscribe(3)
    site.create(datetime.now(UTC) + timedelta(days=1), now=datetime.now(UTC))
    proc = site.run("send-due")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    verbose = site.run("send-due", "--verbose")
    assert verbose.returncode == 0 and verbose.stdout == ""
    assert "nothing due" in verbose.stderr and "next: issue 1 at" in verbose.stderr


def test_three_concurrent_runs_send_once(site, smtp):
    emails = site.subscribe(300)
    smtp.delay = 0.01  # keep the holder busy for a while, so the others meet the lock
    for round_no in range(1, 4):
        issue_id = site.create(datetime.now(UTC) - timedelta(minutes=1))
        procs = [site.popen("send-due") for _ in range(3)]
        results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
        senders = [r for r in results if r[1].strip()]
        assert len(senders) == 1, results
        code, out, err = senders[0]
        assert code == 0, err
        assert out.strip().startswith(f"issue {issue_id}: sent 300, failed 0, pending 0, unknown 0")
        for code, out, err in results:
            if not out.strip():
                assert code == 0 and "another run is sending" in err, (code, out, err)
        assert set(tally(smtp).values()) == {round_no}  # each reader exactly one copy per issue
        assert len(tally(smtp)) == len(emails)
        assert "sent 300, pending 0, failed 0, unknown 0" in site.show(issue_id)


def test_killed_send_due_is_finished_by_the_next_without_duplicates(site, smtp):
    emails = site.subscribe(300)
    smtp.delay = 0.01
    issue_id = site.create(datetime.now(UTC) - timedelta(minutes=1))
    proc = site.popen("send-due")
    assert smtp.wait_for_messages(40, timeout=60)
    assert proc.poll() is None, "send-due finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    got_before = len(smtp.received)
    assert 40 <= got_before < 300

    smtp.delay = 0
    again = site.run("send-due")
    assert again.returncode == 0, again.stderr
    assert f"issue {issue_id}: sent " in again.stdout
    shown = site.show(issue_id)
    assert max(tally(smtp).values(), default=0) <= 1
    unknown = [line.split("\t")[0].strip() for line in shown.splitlines() if line.startswith("  ") and "@" in line]
    got = tally(smtp)
    missing = [e for e in emails if got[e] == 0]
    assert set(missing) <= set(unknown)  # never silently lost: whoever got nothing is listed unknown
    assert len(unknown) <= 2  # at most one in flight per connection
    if unknown:
        assert "in flight" in again.stderr
    assert f"unknown {len(unknown)}" in shown and "pending 0" in shown
    assert site.run("send-due").stdout == ""  # and nothing more to do


def test_an_issue_two_days_late_is_missed_and_still_sendable(site, smtp):
    emails = site.subscribe(5)
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    issue_id = site.create(two_days_ago)
    proc = site.run("send-due")
    assert proc.returncode == 0 and proc.stdout == ""  # not a failure: reported on stderr
    assert f"issue {issue_id} missed" in proc.stderr and "not sent" in proc.stderr
    assert len(smtp.received) == 0
    assert site.show(issue_id).startswith(f"issue {issue_id}: missed")
    assert site.run("send-due").stderr == ""  # reported once, not on every run

    sent = site.run("send", str(issue_id))
    assert sent.returncode == 0, sent.stderr
    assert sorted(tally(smtp)) == sorted(emails) and max(tally(smtp).values(), default=0) <= 1
    assert site.show(issue_id).startswith(f"issue {issue_id}: sent")


def test_deferred_deliveries_go_out_when_their_retry_time_has_come(site, smtp):
    emails = site.subscribe(12)
    smtp.rcpt_replies = {emails[2]: "451 4.7.1 greylisted", emails[7]: "451 4.7.1 greylisted"}
    t0 = datetime.now(UTC).replace(microsecond=0)
    issue_id = site.create(t0 - timedelta(minutes=1), now=t0 - timedelta(minutes=2))
    first = site.run("send-due", now=t0)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"issue {issue_id}: sent 10, failed 0, pending 2")
    assert len(smtp.received) == 10 and tally(smtp)[emails[2]] == 0
    smtp.rcpt_replies = {}

    early = site.run("send-due", now=t0 + timedelta(minutes=4))  # backoff is 5 minutes
    assert (early.returncode, early.stdout, early.stderr) == (0, "", "")
    assert tally(smtp)[emails[2]] == 0

    due = site.run("send-due", now=t0 + timedelta(minutes=6))
    assert due.returncode == 0, due.stderr
    assert due.stdout.startswith(f"issue {issue_id}: sent 2, failed 0, pending 0")
    assert all(tally(smtp)[e] == 1 for e in emails)
    assert site.show(issue_id).startswith(f"issue {issue_id}: sent")
    assert site.run("send-due", now=t0 + timedelta(hours=1)).stdout == ""


@pytest.mark.parametrize(
    "wall, instant",
    [
        ("2025-03-30T03:30", datetime(2025, 3, 30, 1, 30, tzinfo=UTC)),   # just after spring forward
        ("2025-10-26T02:30", datetime(2025, 10, 26, 0, 30, tzinfo=UTC)),  # the first of two 02:30s
        ("2025-10-26T09:00", datetime(2025, 10, 26, 8, 0, tzinfo=UTC)),   # the morning after fall back
    ],
)
def test_a_schedule_across_a_dst_change_fires_once_at_the_right_instant(overrides, wall, instant):
    overrides["schedule"] = {"timezone": "Europe/Paris", "max_lateness": "6h"}
    config = load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "k"})
    conn = connect(config)
    for i in range(3):
        subscribers.add(conn, f"dst{i}@example.com")
    send_at = parse_when(wall, ZoneInfo("Europe/Paris")).utc
    assert send_at == instant
    start = instant - timedelta(hours=12)
    issue_id = issues.create(conn, config.content_dir, [str(SEED)], send_at=send_at, now=start)

    fired = []
    step = timedelta(minutes=10)
    for n in range(int(timedelta(hours=24) / step)):  # a day of cron runs, every 10 minutes
        now = start + n * step
        for event in send_due(conn, config, now):
            if event.kind == "sent":
                fired.append((now, event.report.sent))
    assert fired == [(instant, 3)]
    assert issues.get(conn, issue_id).state == "sent"
    assert len(list((config.outbox_path / "new").iterdir())) == 3


def test_cancel_during_a_send_stops_what_has_not_gone(site, smtp):
    emails = site.subscribe(300)
    smtp.delay = 0.01
    issue_id = site.create(datetime.now(UTC) - timedelta(minutes=1))
    proc = site.popen("send-due")
    assert smtp.wait_for_messages(30, timeout=60)
    cancelled = site.run("issue", "cancel", str(issue_id))
    assert cancelled.returncode == 0, cancelled.stderr
    proc.communicate(timeout=120)
    got = len(smtp.received)
    assert 30 <= got < len(emails)
    shown = site.show(issue_id)
    assert shown.startswith(f"issue {issue_id}: cancelled")
    assert f"sent {got}, pending 0" in shown
    assert site.run("send-due").stdout == "" and len(smtp.received) == got


def test_an_issue_left_sending_with_nothing_to_do_is_finished_by_send_due(overrides):
    """A send stopped between its last delivery and marking the issue sent: the next send-due
    marks it sent and mails nobody again."""
    config = load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "k"})
    conn = connect(config)
    for i in range(3):
        subscribers.add(conn, f"done{i}@example.com")
    now = datetime.now(UTC)
    issue_id = issues.create(conn, config.content_dir, [str(SEED)], send_at=now - timedelta(minutes=1),
                          now=now - timedelta(hours=1))
    kinds = [event.kind for event in send_due(conn, config, now)]
    assert kinds == ["sending", "sent"] and issues.get(conn, issue_id).state == "sent"
    conn.execute("UPDATE issues SET state = 'sending', finished_at = NULL WHERE id = ?", (issue_id,))

    later = now + timedelta(days=2)  # long after: finished, not marked missed
    kinds = [event.kind for event in send_due(conn, config, later)]
    assert kinds == ["idle"]
    assert issues.get(conn, issue_id).state == "sent"
    assert len(list((config.outbox_path / "new").iterdir())) == 3
