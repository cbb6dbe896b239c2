"""`issue create|list|show|schedule|cancel` through the real command line (subprocesses)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "samples" / "000_c1508f7e4351951f.txt"
NOW = datetime(2025, 10, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def run(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[database]\npath = "nl.db"\n[schedule]\ntimezone = "America/New_York"\n')
    env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg), "NEWSLETTER_NOW": NOW.isoformat()}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    return run


def test_create_prints_the_id_alone_and_shows_times_in_the_zone(run, tmp_path):
    made = run("issue", "create", str(SEED), "--subject", "Weekly digest", "--send-at", "2025-11-02T01:30")
    assert made.returncode == 0, made.stderr
    assert made.stdout == "1\n"
    assert "happens twice" in made.stderr  # the fall-back overlap: the first 01:30 (EDT) is used
    assert "scheduled for 2025-11-02 01:30 EDT (-04:00)" in made.stderr

    draft = run("issue", "create", str(SEED))
    assert draft.stdout == "2\n" and "draft" in draft.stderr

    listed = run("issue", "list").stdout.splitlines()
    assert listed[0].split("\t")[:3] == ["2", "draft", "-"]
    assert listed[1].split("\t") == ["1", "scheduled", "2025-11-02 01:30 EDT (-04:00)", "Weekly digest",
                                     "sent 0, pending 0, failed 0, unknown 0"]
    shown = run("issue", "show", "1").stdout
    assert shown.startswith("issue 1: scheduled\nsubject: Weekly digest\n")
    assert f"articles: {SEED}" in shown and "send at: 2025-11-02 01:30 EDT (-04:00)" in shown


def test_create_refuses_unknown_articles_and_bad_times(run):
    missing = run("issue", "create", "no-such-article-slug")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.startswith("error: ") and "no-such-article-slug" in missing.stderr
    gap = run("issue", "create", str(SEED), "--send-at", "2026-03-08T02:30")
    assert gap.returncode == 2 and "does not exist in America/New_York" in gap.stderr
    stale = run("issue", "create", str(SEED), "--send-at", "2025-10-18T09:00")
    assert stale.returncode == 2 and "max_lateness" in stale.stderr
    assert run("issue", "list").stdout == ""  # nothing was created


def test_schedule_and_cancel(run, tmp_path):
    assert run("issue", "create", str(SEED)).stdout == "1\n"
    moved = run("issue", "schedule", "1", "--at", "2025-10-21T09:00Z")
    assert moved.returncode == 0 and moved.stdout.strip() == "issue 1 scheduled for 2025-10-21 05:00 EDT (-04:00)"
    assert run("subscribers", "add", "a@example.com").returncode == 0
    assert "sent 0, pending 1, failed 0, unknown 0" in run("issue", "show", "1").stdout
    cancelled = run("issue", "cancel", "1")
    assert cancelled.returncode == 0 and cancelled.stdout.strip() == "issue 1 cancelled (0 already sent)"
    shown = run("issue", "show", "1").stdout
    assert shown.startswith("issue 1: cancelled") and "pending 0" in shown
    again = run("issue", "schedule", "1", "--at", "2025-10-22T09:00")
    assert again.returncode == 2 and "is cancelled" in again.stderr
    assert run("issue", "cancel", "1").stdout.strip() == "issue 1 was already cancelled"
    nothing = run("issue", "show", "42")
    assert nothing.returncode == 2 and nothing.stderr.strip() == "error: issue 42: no such issue"
    # send-due leaves a cancelled issue alone
    assert run("send-due").stdout == ""
    assert run("issue", "show", "1").stdout.startswith("issue 1: cancelled")


def test_show_lists_failed_and_unknown_recipients_bounded(run, tmp_path):
    import sqlite3

    assert run("issue", "create", str(SEED)).stdout == "1\n"
    csv_file = tmp_path / "s.csv"
    csv_file.write_text("email\n" + "".join(f"p{i}@example.com\n" for i in range(25)))
    run("subscribers", "import", str(csv_file))
    db = sqlite3.connect(tmp_path / "nl.db")
    with db:
        db.execute("UPDATE issues SET state = 'sent'")
        db.executemany(
            "INSERT INTO deliveries (issue_id, subscriber_id, state, attempts, last_error, message_id, updated_at)"
            " VALUES (1, ?, ?, 1, ?, 'm', 'now')",
            [(i, "failed" if i <= 23 else "unknown", "550 5.1.1 no such user" if i <= 23 else "in flight")
             for i in range(1, 26)],
        )
    shown = run("issue", "show", "1").stdout
    assert "deliveries: sent 0, pending 0, failed 23, unknown 2" in shown
    assert "unknown (in flight when a send was killed; resend with `send 1 --retry-unknown`):" in shown
    assert shown.count("550 5.1.1 no such user") == 20 and "  and 3 more" in shown
    assert "p24@example.com\tattempts 1\tin flight" in shown
