"""Several senders, one issue, one PostgreSQL database (as if on three hosts): every subscriber
gets the issue exactly once, the work is spread over the senders, and when one is killed with
SIGKILL mid-send the others finish the rest at once (its in-flight deliveries become unknown)."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest

from helpers import ENV, ROOT, add_subscribers, make_issue, open_db, write_config
from smtpserver import Recorder, smtp_server

SUBSCRIBERS = 600
SENDERS = 3


@pytest.fixture
def postgres_url(postgres) -> str:
    return postgres.new_database()


def start_sender(cfg_path, issue: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "--config", str(cfg_path), "send", str(issue)],
        cwd=ROOT, env={**os.environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_three_senders_share_an_issue_and_finish_what_a_killed_one_left(tmp_path, postgres_url):
    handler = Recorder(delay=0.01)  # slow enough that all three are at work when one is killed
    with smtp_server(handler) as (port, server):
        cfg_path = write_config(tmp_path, port, postgres_url, connections=2)
        cfg, conn = open_db(cfg_path)
        emails = add_subscribers(conn, SUBSCRIBERS)
        issue = make_issue(conn)

        senders = [start_sender(cfg_path, issue) for _ in range(SENDERS)]
        assert handler.wait_for_messages(SUBSCRIBERS // 4, timeout=60)
        victim = senders[1]
        assert victim.poll() is None, "the send finished before it could be killed"
        victim.kill()
        victim.wait(10)
        survivors = [senders[0], senders[2]]
        outputs = [proc.communicate(timeout=180) for proc in survivors]
        for proc, (_, err) in zip(survivors, outputs, strict=True):
            assert proc.returncode == 0, err

        got = Counter(server.recipients())
        assert max(got.values()) == 1, [e for e, n in got.items() if n > 1]  # nobody twice
        state = dict(conn.execute(
            "SELECT s.email, d.state FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
            " WHERE d.issue_id = ?", (issue,)).fetchall())
        assert set(state) == set(emails)
        unknown = {e for e, s in state.items() if s == "unknown"}
        assert set(state.values()) <= {"sent", "unknown"}  # nothing left pending: the rest was finished
        assert len(unknown) <= 2  # at most the victim's two connections were in flight
        assert {e for e, s in state.items() if s == "sent"} == set(got) - unknown
        assert conn.execute("SELECT state FROM issues WHERE id = ?", (issue,)).fetchone()[0] == "sent"

        owners = Counter(row[0] for row in conn.execute(
            "SELECT owner FROM deliveries WHERE issue_id = ? AND state = 'sent'", (issue,)))
        assert len(owners) == SENDERS  # each of the three sent a share
        assert min(owners.values()) >= SUBSCRIBERS // 20
