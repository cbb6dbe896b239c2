"""What bounces do to the list: hard at once, soft after soft_limit distinct issues within the
window, complaints for good; the same report counts once; the rest is kept for the editor.
Through the real command line too: one line per message, exit status per the contract."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsletter import issues, subscriber_import, subscribers
from newsletter.bounces.apply import Rules, apply, kept_message, kept_messages, signatures
from newsletter.bounces.classify import classify
from newsletter.bounces.events import record_refusal
from newsletter.bounces.verp import Verp
from newsletter.migrations import script
from newsletter.store import _statements, connect, transaction

from helpers import CONTENT

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "bounces"
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture
def conn(config):
    return connect(config.database_path)


def status(conn, email):
    return subscribers.find(conn, email).status


def soft_bounce(sigs, verp: Verp, issue_id: int, sub_id: int) -> tuple:
    """A real soft-bounce report for one issue and subscriber (its own body: its own report)."""
    raw = (FIXTURES / "postfix_gave_up_mailbox_full.eml").read_bytes().replace(
        b"Arrival-Date: Wed", f"X-Issue: {issue_id}\nArrival-Date: Wed".encode()
    )
    return raw, classify(raw, sigs, envelope_to=verp.address(issue_id, sub_id))


def test_a_hard_bounce_makes_the_subscriber_bounced_once(config, conn):
    subscribers.add(conn, "alice@example.org")
    subscribers.add(conn, "bob@example.org")
    raw = (FIXTURES / "postfix_user_unknown.eml").read_bytes()
    sigs = signatures(config)
    first = apply(conn, classify(raw, sigs), raw, rules=Rules(), now=T0)
    assert first.changed == [("alice@example.org", "bounced")]
    again = apply(conn, classify(raw, sigs), raw, rules=Rules(), now=T0)
    assert again.duplicate and not again.changed
    assert conn.execute("SELECT count(*) FROM bounce_events").fetchone()[0] == 1
    assert (status(conn, "alice@example.org"), status(conn, "bob@example.org")) == ("bounced", "active")
    assert [s.email for s in subscribers.iter_subscribers(conn, "active")] == ["bob@example.org"]
    row = conn.execute("SELECT kind, status, diagnostic FROM bounce_events").fetchone()
    assert row["kind"] == "hard" and row["status"] == "5.1.1" and "User unknown" in row["diagnostic"]


def test_soft_bounces_count_distinct_issues_within_the_window(overrides, conn):
    from newsletter.config import load_config

    config = load_config(overrides={**overrides, "bounces": {"address": "bounces@example.com"}},
                         environ={"NEWSLETTER_SECRET_KEY": "k"})
    sigs = signatures(config)
    sub, _ = subscribers.add(conn, "bob@example.net")
    ids = [issues.create(conn, CONTENT, ["the-emergency-fund-ladder"]) for _ in range(4)]
    rules = Rules(soft_limit=3, soft_window=timedelta(days=30))

    def bounce(issue_id, when):
        raw, reading = soft_bounce(sigs, sigs.verp, issue_id, sub.id)
        return apply(conn, reading, raw, rules=rules, now=when)

    bounce(ids[0], T0)
    bounce(ids[0], T0 + timedelta(days=1))  # the same issue again: still one issue
    bounce(ids[1], T0 + timedelta(days=40))  # the first one has left the window
    assert status(conn, "bob@example.net") == "active"
    bounce(ids[2], T0 + timedelta(days=41))
    assert status(conn, "bob@example.net") == "active"
    last = bounce(ids[3], T0 + timedelta(days=42))
    assert last.changed == [("bob@example.net", "bounced")]


def test_a_complaint_makes_the_subscriber_complained_even_after_unsubscribing(config, conn):
    subscribers.add(conn, "judy@example-isp.net")
    subscribers.remove(conn, "judy@example-isp.net")
    raw = (FIXTURES / "arf_abuse.eml").read_bytes()
    outcome = apply(conn, classify(raw, signatures(config)), raw, rules=Rules())
    assert outcome.changed == [("judy@example-isp.net", "complained")]
    assert "complaint" in outcome.line
    # a re-import never brings them back
    subscriber_import.import_rows(conn, [("judy@example-isp.net", "judy@example-isp.net", "Judy")])
    assert status(conn, "judy@example-isp.net") == "complained"


def test_a_hard_bounce_leaves_an_unsubscribed_subscriber_unsubscribed(config, conn):
    subscribers.add(conn, "alice@example.org")
    subscribers.remove(conn, "alice@example.org")
    raw = (FIXTURES / "postfix_user_unknown.eml").read_bytes()
    outcome = apply(conn, classify(raw, signatures(config)), raw, rules=Rules())
    assert not outcome.changed and status(conn, "alice@example.org") == "unsubscribed"


def test_auto_replies_change_nothing_and_the_unknown_is_kept(config, conn):
    subscribers.add(conn, "ken@example.org")
    sigs = signatures(config)
    for name in ("vacation_rfc3834.eml", "postfix_delayed.eml"):
        raw = (FIXTURES / name).read_bytes()
        outcome = apply(conn, classify(raw, sigs), raw, rules=Rules())
        assert outcome.line.startswith("ignored") and not outcome.kept
    raw = (FIXTURES / "human_reply.eml").read_bytes()
    assert apply(conn, classify(raw, sigs), raw, rules=Rules()).kept
    assert apply(conn, classify(raw, sigs), raw, rules=Rules()).duplicate
    [row] = kept_messages(conn)
    assert row["sender"] == "laura@example.org" and "Re: This week" in row["subject"]
    assert kept_message(conn, row["id"])["raw"] == raw
    assert status(conn, "ken@example.org") == "active"
    assert conn.execute("SELECT count(*) FROM bounce_events").fetchone()[0] == 0


def test_a_5xx_to_rcpt_during_a_send_is_a_hard_bounce(conn):
    sub, _ = subscribers.add(conn, "x@example.org")
    issue_id = issues.create(conn, CONTENT, ["the-emergency-fund-ladder"])
    with transaction(conn):
        assert record_refusal(conn, sub.id, issue_id, "550 RCPT TO: 5.1.1 no such user")
    with transaction(conn):
        assert not record_refusal(conn, sub.id, issue_id, "550 RCPT TO: 5.1.1 no such user")
    assert status(conn, "x@example.org") == "bounced"
    assert tuple(conn.execute("SELECT kind, status, source FROM bounce_events").fetchone()) == ("hard", "5.1.1", "rcpt")


def test_the_migration_keeps_subscribers_deliveries_and_indexes(tmp_path):
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    for number in range(4):  # the schema before the bounces migration
        for statement in _statements(script(number, "sqlite")):
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 4")
    raw.execute("INSERT INTO subscribers (email, email_key, status, subscribed_at, unsubscribed_at, key)"
                " VALUES ('a@x.org', 'a@x.org', 'unsubscribed', 't0', 't1', 'k1')")
    raw.execute("INSERT INTO issues (articles, created_at) VALUES ('[]', 't')")
    raw.execute("INSERT INTO deliveries (issue_id, subscriber_id, message_id, updated_at) VALUES (1, 1, 'm', 't')")
    raw.commit()
    raw.close()
    conn = connect(path)
    row = conn.execute("SELECT * FROM subscribers").fetchone()
    assert (row["id"], row["email"], row["status"], row["unsubscribed_at"], row["key"]) == (
        1, "a@x.org", "unsubscribed", "t1", "k1")
    conn.execute("INSERT INTO subscribers (email, email_key, subscribed_at) VALUES ('b@x.org', 'b@x.org', 't')")
    assert conn.execute("SELECT key FROM subscribers WHERE id = 2").fetchone()[0]  # the key trigger is back
    assert conn.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"subscribers_status", "subscribers_key", "deliveries_state", "bounce_events_subscriber"} <= indexes
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(sqlite3.IntegrityError):  # references are enforced again
        conn.execute("INSERT INTO deliveries (issue_id, subscriber_id, message_id, updated_at) VALUES (1, 9, 'm', 't')")
    conn.execute("UPDATE subscribers SET status = 'bounced'")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE subscribers SET status = 'gone'")


# -- the command line ---------------------------------------------------------------------------


def run(tmp_path: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    cfg = tmp_path / "config.toml"
    if not cfg.exists():
        cfg.write_text('[database]\npath = "instance/newsletter.db"\n[bounces]\naddress = "bounces@example.com"\n')
    env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg), "NEWSLETTER_SECRET_KEY": "cli-key"}
    proc = subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=ROOT, env=env,
                          capture_output=True, input=input, timeout=60)
    proc.stdout, proc.stderr = proc.stdout.decode(), proc.stderr.decode()
    return proc


def test_process_files_and_stdin_one_line_each(tmp_path):
    run(tmp_path, "subscribers", "add", "alice@example.org")
    run(tmp_path, "subscribers", "add", "heidi@example.net")
    files = [str(FIXTURES / n) for n in ("postfix_user_unknown.eml", "vacation_rfc3834.eml", "garbage.eml")]
    proc = run(tmp_path, "bounces", "process", *files)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3 and proc.stderr == ""
    assert "alice@example.org is now bounced" in lines[0] and lines[0].startswith(files[0])
    assert "ignored" in lines[1] and "kept for the editor" in lines[2]
    proc = run(tmp_path, "bounces", "process", input=(FIXTURES / "qmail_local.eml").read_bytes())
    assert proc.returncode == 0 and proc.stdout.startswith("stdin: hard bounce (5.1.1)")
    listed = run(tmp_path, "subscribers", "list", "--status", "bounced").stdout
    assert listed.split() == ["alice@example.org", "bounced", "heidi@example.net", "bounced"]


@pytest.mark.parametrize("case", ["too large", "no subscriber", "forged token", "missing file"])
def test_bad_input_is_one_line_and_changes_nothing(tmp_path, case):
    run(tmp_path, "subscribers", "add", "alice@example.org")
    raw = (FIXTURES / "postfix_user_unknown.eml").read_bytes()
    path = tmp_path / "message.eml"
    if case == "too large":
        raw = raw + b"x" * (20 * 2**20)
    elif case == "no subscriber":
        raw = raw.replace(b"alice@example.org", b"nobody@example.org")
    elif case == "forged token":
        raw = raw.replace(b"Delivered-To: bounces@example.com",
                          b"Delivered-To: bounces+1-1-abcdefghijklmnop@example.com")
    if case != "missing file":
        path.write_bytes(raw)
    proc = run(tmp_path, "bounces", "process", str(path))
    out = (proc.stdout + proc.stderr).strip()
    assert len(out.splitlines()) == 1 and str(path) in out and "Traceback" not in out
    assert proc.returncode == (0 if case == "no subscriber" else 2), out
    assert run(tmp_path, "subscribers", "list").stdout.split() == ["alice@example.org", "active"]
    conn = connect(tmp_path / "instance" / "newsletter.db")
    assert conn.execute("SELECT count(*) FROM bounce_events").fetchone()[0] == 0
    kept = conn.execute("SELECT reason FROM kept_messages").fetchall()
    assert [r[0] for r in kept] == (
        ["hard bounce for nobody@example.org: no subscriber matches"] if case == "no subscriber" else []
    )
