"""Issues: states, scheduling rules, cancelling, delivery counts (library level, real SQLite)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from newsletter import issues, subscriber_import, subscribers
from newsletter.errors import InputError
from newsletter.store import connect, to_db_time

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
SIX = timedelta(hours=6)


@pytest.fixture
def conn(config):
    return connect(config)


@pytest.fixture
def content(tmp_path):
    """A content folder with articles ``a`` and ``b``."""
    folder = tmp_path / "content"
    folder.mkdir()
    for slug in ("a", "b"):
        (folder / f"{slug}.md").write_text(f"---\ntitle: Article {slug}\n---\nText of {slug}.\n")
    return folder


def add_subscribers(conn, n: int) -> None:
    subscriber_import.import_rows(conn, [(f"r{i}@example.com", f"r{i}@example.com", "") for i in range(n)])


def put_delivery(conn, issue_id: int, email: str, state: str, error: str | None = None, retry_at=None):
    sid = subscribers.find(conn, email).id
    conn.execute(
        "INSERT INTO deliveries (issue_id, subscriber_id, state, attempts, next_attempt_at, last_error,"
        " message_id, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
        (issue_id, sid, state, to_db_time(retry_at) if retry_at else None, error,
         f"<{issue_id}.{sid}@test>", to_db_time(NOW)),
    )


def test_create_draft_and_scheduled(conn, content):
    draft = issues.get(conn, issues.create(conn, content, ["a"], now=NOW))
    assert (draft.state, draft.send_at, draft.articles) == ("draft", None, ("a",))
    later = issues.get(conn, issues.create(conn, content, ["a", "b"], subject="Hi", send_at=NOW + SIX, now=NOW))
    assert (later.state, later.send_at, later.subject) == ("scheduled", NOW + SIX, "Hi")
    assert [i.id for i in issues.list_issues(conn)] == [later.id, draft.id]
    with pytest.raises(InputError, match="no such issue"):
        issues.get(conn, 999)
    with pytest.raises(InputError, match="one line"):
        issues.create(conn, content, ["a"], subject="Hi\r\nBcc: x@example.com")


def test_schedule_rules(conn, content):
    issue_id = issues.create(conn, content, ["a"], now=NOW)
    assert issues.schedule(conn, issue_id, NOW + SIX, now=NOW, max_lateness=SIX).state == "scheduled"
    with pytest.raises(InputError, match="ago"):  # would only be missed again
        issues.schedule(conn, issue_id, NOW - timedelta(days=2), now=NOW, max_lateness=SIX)
    assert issues.mark_missed(conn, issue_id)
    assert issues.get(conn, issue_id).state == "missed"
    assert issues.schedule(conn, issue_id, NOW + SIX, now=NOW, max_lateness=SIX).state == "scheduled"
    for state in ("sending", "sent", "cancelled"):
        conn.execute("UPDATE issues SET state = ? WHERE id = ?", (state, issue_id))
        with pytest.raises(InputError, match=f"is {state}"):
            issues.schedule(conn, issue_id, NOW + SIX, now=NOW, max_lateness=SIX)


def test_cancel_keeps_sent_rows_and_zeroes_pending(conn, content):
    add_subscribers(conn, 5)
    issue_id = issues.create(conn, content, ["a"], send_at=NOW, now=NOW)
    conn.execute("UPDATE issues SET state = 'sending' WHERE id = ?", (issue_id,))
    put_delivery(conn, issue_id, "r0@example.com", "sent")
    put_delivery(conn, issue_id, "r1@example.com", "pending", "451 try later", NOW + SIX)
    before = issues.delivery_counts(conn, issues.get(conn, issue_id))
    assert before == {"sent": 1, "pending": 4, "failed": 0, "unknown": 0}
    issue, changed = issues.cancel(conn, issue_id)
    assert changed and issue.state == "cancelled"
    assert issues.delivery_counts(conn, issue) == {"sent": 1, "pending": 0, "failed": 0, "unknown": 0}
    rows = conn.execute("SELECT state FROM deliveries WHERE issue_id = ?", (issue_id,)).fetchall()
    assert [r[0] for r in rows] == ["sent"]  # nothing left that a running send could claim
    assert issues.cancel(conn, issue_id)[1] is False  # repeatable
    done = issues.create(conn, content, ["a"], now=NOW)
    conn.execute("UPDATE issues SET state = 'sent' WHERE id = ?", (done,))
    with pytest.raises(InputError, match="already sent"):
        issues.cancel(conn, done)


def test_counts_and_problem_lists(conn, content):
    add_subscribers(conn, 30)
    issue_id = issues.create(conn, content, ["a"], now=NOW)
    conn.execute("UPDATE issues SET state = 'sending' WHERE id = ?", (issue_id,))
    for i in range(0, 10):
        put_delivery(conn, issue_id, f"r{i}@example.com", "sent")
    for i in range(10, 13):
        put_delivery(conn, issue_id, f"r{i}@example.com", "failed", "550 no such user")
    for i in range(13, 15):
        put_delivery(conn, issue_id, f"r{i}@example.com", "unknown", "in flight when a send stopped")
    put_delivery(conn, issue_id, "r15@example.com", "sending")
    subscribers.remove(conn, "r29@example.com")  # an unsubscribed reader is not pending
    counts = issues.delivery_counts(conn, issues.get(conn, issue_id))
    assert counts == {"sent": 10, "pending": 1 + 13, "failed": 3, "unknown": 2}
    assert issues.format_counts(counts) == "sent 10, pending 14, failed 3, unknown 2"
    failed = issues.problem_deliveries(conn, issue_id, "failed", limit=2)
    assert [(r["email"], r["last_error"]) for r in failed] == [
        ("r10@example.com", "550 no such user"), ("r11@example.com", "550 no such user")]


def test_due_queries(conn, content):
    add_subscribers(conn, 3)
    early = issues.create(conn, content, ["a"], send_at=NOW - timedelta(hours=1), now=NOW)
    late = issues.create(conn, content, ["a"], send_at=NOW + timedelta(hours=1), now=NOW)
    assert [i.id for i in issues.scheduled_until(conn, NOW)] == [early]
    assert [i.id for i in issues.scheduled_until(conn, NOW + SIX)] == [early, late]

    resumed = issues.create(conn, content, ["a"], now=NOW)
    conn.execute("UPDATE issues SET state = 'sending' WHERE id = ?", (resumed,))
    for i in range(3):
        put_delivery(conn, resumed, f"r{i}@example.com", "sent" if i else "pending", "451", NOW + SIX)
    assert issues.resume_due(conn, NOW) == []              # the retry time has not come
    assert issues.resume_due(conn, NOW + SIX) == [resumed]  # now it has
    subscribers.add(conn, "new@example.com")                    # a reader with no delivery row yet
    assert issues.resume_due(conn, NOW) == [resumed]
