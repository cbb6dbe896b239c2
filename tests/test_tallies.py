"""Kept counts (tallies.py) always equal the rows counted the slow way, on both databases:
after an import, a send with sent, failed, deferred, unknown and refused (bounced) messages,
unsubscribes, a bounce, a complaint, a resubscribe, an erasure, a retry of the unknown, a
cancel; after a migration of an older database that had rows; and the numbers shown per issue
are the ones counting every row gave."""
from __future__ import annotations

import sqlite3

from newsletter import issues, ledger, store, subscribers, tallies
from newsletter.migrations import MIGRATIONS, script
from newsletter.states import OPEN, SHOWN_DELIVERY_STATES, DeliveryState, IssueState, SubscriberStatus
from newsletter.store import _statements

from helpers import add_subscribers, make_issue, open_db, run, write_config
from smtpserver import Recorder, smtp_server

BEFORE = 10  # migrations before the one that brings the tallies


def counted_per_issue(conn, issue: issues.Issue) -> dict[DeliveryState, int]:
    """An issue's shown counts as they were computed before the tallies: every row counted."""
    counts = dict.fromkeys(SHOWN_DELIVERY_STATES, 0)
    for state, n in conn.execute(
        "SELECT d.state, count(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
        " WHERE d.issue_id = ? AND (d.state != 'pending' OR s.status = 'active') GROUP BY d.state", (issue.id,),
    ):
        counts[DeliveryState.PENDING if state == "sending" else DeliveryState(state)] += n
    if issue.state in OPEN:
        counts[DeliveryState.PENDING] += conn.execute(
            "SELECT count(*) FROM subscribers s WHERE s.status = 'active' AND NOT EXISTS"
            " (SELECT 1 FROM deliveries d WHERE d.issue_id = ? AND d.subscriber_id = s.id)", (issue.id,),
        ).fetchone()[0]
    elif issue.state == IssueState.CANCELLED:
        counts[DeliveryState.PENDING] = 0
    return counts


def assert_exact(conn, when: str) -> None:
    assert tallies.kept(conn) == tallies.recounted(conn), when
    for issue in issues.list_issues(conn):
        assert issues.delivery_counts(conn, issue) == counted_per_issue(conn, issue), (when, issue.id)
    every = dict(conn.execute("SELECT status, count(*) FROM subscribers GROUP BY status").fetchall())
    assert {status: subscribers.count(conn, status) for status in every} == every, when
    assert subscribers.count(conn) == sum(every.values()), when


def test_counts_stay_exact_through_import_send_unsubscribe_bounce_erase(tmp_path, database_url, monkeypatch):
    handler = Recorder(rcpt_replies={"user3@example.com": "451 4.7.1 Try again later",
                                     "user5@example.com": "550 5.1.1 No such user",
                                     "user8@example.com": "554 5.7.1 Refused"},
                       drop_after_data={"user9@example.com"})
    csv = tmp_path / "list.csv"
    csv.write_text("email,name\n" + "".join(f"user{i}@example.com,User {i}\n" for i in range(40)))
    with smtp_server(handler) as (port, _):
        path = write_config(tmp_path, port, database_url)
        _, conn = open_db(path)
        assert_exact(conn, "empty")
        assert run(path, "subscribers", "import", str(csv)).exit_code == 0
        assert_exact(conn, "import")
        first, second = make_issue(conn), make_issue(conn)
        assert_exact(conn, "issues made")
        subscribers.remove(conn, "user1@example.com")
        assert run(path, "send", str(first)).exit_code in (0, 1)
        assert_exact(conn, "send")
        states = tallies.delivery_states(conn, first)
        assert states[DeliveryState.UNKNOWN] == 1 and states[DeliveryState.FAILED] >= 1
        assert subscribers.find(conn, "user5@example.com").status == SubscriberStatus.BOUNCED
        listed = {state: issues.problem_deliveries(conn, first, state) for state in DeliveryState}
        assert [row["email"] for row in listed[DeliveryState.UNKNOWN]] == ["user9@example.com"]
        monkeypatch.setattr(issues, "_FEW", 0)  # found by walking the issue's rows instead of the state index
        assert {state: issues.problem_deliveries(conn, first, state) for state in DeliveryState} == listed
        monkeypatch.undo()

        subscribers.remove(conn, "user3@example.com")  # left with a delivery waiting for a retry
        subscribers.stop(conn, subscribers.find(conn, "user10@example.com").id, SubscriberStatus.BOUNCED)
        subscribers.stop(conn, subscribers.find(conn, "user11@example.com").id, SubscriberStatus.COMPLAINED)
        subscribers.add(conn, "user1@example.com", resubscribe=True)
        assert_exact(conn, "unsubscribe, bounce, complaint, resubscribe")
        assert subscribers.erase(conn, subscribers.find(conn, "user12@example.com").id)
        assert subscribers.erase(conn, subscribers.find(conn, "user9@example.com").id)
        assert_exact(conn, "erase")
        handler.drop_after_data.clear()
        assert run(path, "send", str(first), "--retry-unknown").exit_code in (0, 1)
        assert_exact(conn, "retry unknown")
        ledger.create_rows(conn, second, lambda issue, subscriber: f"<{issue}.{subscriber}@test>")
        assert_exact(conn, "rows of a second issue")
        assert run(path, "issue", "cancel", str(second)).exit_code == 0
        assert_exact(conn, "cancel")
        add_subscribers(conn, 5, start=100)
        assert_exact(conn, "more subscribers")


def test_migration_counts_the_rows_already_there(tmp_path, database_url):
    """A database made before the tallies existed gets them filled in, and kept from then on."""
    if database_url:
        import psycopg

        raw = psycopg.connect(database_url, autocommit=True)
        raw.execute("DROP SCHEMA public CASCADE")
        raw.execute("CREATE SCHEMA public")
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for number in range(BEFORE):
            raw.execute(script(number, "postgresql"))
        raw.execute("INSERT INTO schema_version VALUES (%s)", (BEFORE,))
        execute = raw.execute
    else:
        raw = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
        for number in range(BEFORE):
            for statement in _statements(script(number, "sqlite")):
                raw.execute(statement)
        raw.execute(f"PRAGMA user_version = {BEFORE}")
        execute = raw.execute
    for i in range(6):
        execute(f"INSERT INTO subscribers (email, email_key, status, subscribed_at) VALUES ('u{i}@x.org', 'u{i}@x.org',"
                f" '{'active' if i < 4 else 'unsubscribed'}', 't')")
    execute("INSERT INTO issues (articles, created_at) VALUES ('[]', '2025-01-01T00:00:00+00:00')")
    for i, state in enumerate(("sent", "sent", "pending", "failed", "pending", "unknown"), 1):
        execute(f"INSERT INTO deliveries (issue_id, subscriber_id, state, message_id, updated_at)"
                f" VALUES (1, {i}, '{state}', 'm{i}', 't')")
    raw.close()
    conn = store.connect(database_url or tmp_path / "old.db")
    assert conn.execute("SELECT count(*) FROM subscriber_tally").fetchone()[0] > 0
    assert_exact(conn, "migrated")
    assert issues.delivery_counts(conn, issues.get(conn, 1)) == {"sent": 2, "pending": 1, "failed": 1, "unknown": 1}
    subscribers.unsubscribe(conn, 3)
    conn.execute("UPDATE deliveries SET state = 'sent' WHERE subscriber_id = 4")
    assert_exact(conn, "changed after the migration")
    assert len(MIGRATIONS) > BEFORE


def test_postgresql_rows_of_many_sessions_fold_into_one(postgres):
    """Each session keeps its own rows (senders never wait for each other's counts); reading
    a count gathered from many folds them, and the count stays the same."""
    url = postgres.new_database()
    conns = [store.connect(url) for _ in range(tallies.COMPACT_AFTER + 6)]
    issue = make_issue(conns[0])
    for n, conn in enumerate(conns):
        add_subscribers(conn, 1, start=n)
    ledger.create_rows(conns[0], issue, lambda issue, subscriber: f"<{issue}.{subscriber}@test>")
    for conn in conns:  # every session moves one delivery along
        conn.execute("UPDATE deliveries SET state = 'sent' WHERE subscriber_id = ("
                     "SELECT min(subscriber_id) FROM deliveries WHERE state = 'pending')")
    reader = conns[0]
    assert reader.execute("SELECT count(*) FROM subscriber_tally").fetchone()[0] > tallies.COMPACT_AFTER
    assert tallies.subscriber_count(reader) == len(conns)
    assert reader.execute("SELECT count(*) FROM subscriber_tally").fetchone()[0] == 1
    assert tallies.delivery_states(reader, issue)[DeliveryState.SENT] == len(conns)
    assert reader.execute("SELECT count(*) FROM delivery_tally").fetchone()[0] <= 2
    assert_exact(reader, "folded")
    for conn in conns:
        conn.close()
