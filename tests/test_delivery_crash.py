"""Crash safety: `send` killed with SIGKILL at random moments, then run to completion."""
from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

from helpers import ENV, add_subscribers, make_issue, open_db, run, write_config
from smtpserver import Recorder, smtp_server

ROOT = Path(__file__).resolve().parent.parent
KILLS = 10
CONNECTIONS = 4


def test_sigkill_ten_times_then_finish_no_duplicates_nobody_missed(tmp_path, database_url):
    handler = Recorder(delay=0.02)  # slow enough that kills land mid-send
    with smtp_server(handler) as (port, server):
        cfg_path = write_config(tmp_path, port, database_url, connections=CONNECTIONS)
        cfg, conn = open_db(cfg_path)
        emails = add_subscribers(conn, 300)
        issue = make_issue(conn)
        rng = random.Random(20240501)
        env = {**os.environ, **ENV}
        kills = 0
        for _ in range(KILLS + 5):  # bounded: a run that finishes before its kill ends the loop
            if kills == KILLS:
                break
            before = handler.data_count
            proc = subprocess.Popen(
                [sys.executable, "-m", "newsletter", "--config", str(cfg_path), "send", str(issue)],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            # kill once this run has got a random number of messages to the server
            reached = handler.wait_for_messages(before + rng.randint(1, 6), timeout=30)
            if not reached or proc.poll() is not None:
                break  # it finished (or stalled) before we could kill it
            proc.kill()
            proc.wait()
            kills += 1
        assert kills >= KILLS, f"only {kills} kills landed mid-send"

        final = run(cfg_path, "send", str(issue))
        assert final.exit_code == 0, final.output

        got = Counter(server.recipients())
        assert max(got.values()) == 1, [e for e, n in got.items() if n > 1]
        state = dict(conn.execute(
            "SELECT s.email, d.state FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
            "WHERE d.issue_id = ?", (issue,)).fetchall())
        unknown = {e for e, s in state.items() if s == "unknown"}
        assert all(e in got or e in unknown for e in emails)
        assert {e for e, s in state.items() if s == "sent"} <= set(got)
        assert set(state.values()) <= {"sent", "unknown"}
        assert len(unknown) <= kills * CONNECTIONS
        assert len(got) + len(unknown - set(got)) == 300
        assert "unknown " + str(len(unknown)) in final.stdout
