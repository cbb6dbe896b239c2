"""`db copy --to`: an SQLite database with every kind of row moves into PostgreSQL and back
without losing a row or an unsubscribe; a target that is not empty is refused."""
from __future__ import annotations

from newsletter import delivery, issues, store, subscribers, tallies
from newsletter.config import load_config
from newsletter.transport import OutboxTransport

from helpers import CONTENT, ENV, add_subscribers, run

TABLES_WITH_ROWS = ("subscribers", "issues", "deliveries", "test_addresses", "issue_articles")


def sqlite_site(tmp_path):
    """A config file on SQLite and a database with subscribers (one unsubscribed, one with
    bytes of a kept bounce), a sent issue and its ledger."""
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\npath = "{tmp_path / "news.db"}"\n[content]\ndir = "{CONTENT}"\n'
                    f'[smtp]\noutbox = "{tmp_path / "outbox"}"\n')
    config = load_config(path, environ=ENV)
    conn = store.connect(config)
    add_subscribers(conn, 250)
    subscribers.remove(conn, "user7@example.com")
    conn.execute("INSERT INTO test_addresses (email, added_at) VALUES ('Ed@example.com', 't')")
    conn.execute("INSERT INTO kept_messages (fingerprint, reason, raw, received_at) VALUES ('f', 'r', ?, 't')",
                 (b"\x00\xffraw bytes",))
    issue = issues.create(conn, config.content_dir, ["passkeys-without-the-jargon"], subject="Copied")
    with delivery.SendLock(config, conn):
        delivery.send_issue(conn, config, issue, transport=lambda: OutboxTransport(config.outbox_path))
    return path, config, conn


def snapshot(conn) -> dict:
    """What must survive a copy, read the same way on either database."""
    return {
        "subscribers": [tuple(r) for r in conn.execute(
            "SELECT id, email, status, key, unsubscribed_at FROM subscribers ORDER BY id")],
        "deliveries": [tuple(r) for r in conn.execute(
            "SELECT issue_id, subscriber_id, state, message_id FROM deliveries ORDER BY subscriber_id")],
        "issues": [tuple(r) for r in conn.execute("SELECT id, subject, state, rendered_html FROM issues")],
        "kept": [bytes(r[0]) for r in conn.execute("SELECT raw FROM kept_messages")],
        "testers": [r[0] for r in conn.execute("SELECT email FROM test_addresses")],
    }


def test_sqlite_to_postgresql_and_back_keeps_every_row(tmp_path, postgres):
    path, config, conn = sqlite_site(tmp_path)
    before = snapshot(conn)
    url = postgres.new_database()

    result = run(path, "db", "copy", "--to", url)
    assert result.exit_code == 0, result.output
    counts = dict(line.split("\t") for line in result.stdout.splitlines())
    assert counts["subscribers"] == "250" and counts["deliveries"] == "249"
    assert all(int(counts[name]) > 0 for name in TABLES_WITH_ROWS)
    assert "row counts match" in result.stderr

    pg = store.connect(url)
    assert snapshot(pg) == before
    assert tallies.kept(pg) == tallies.recounted(pg) == tallies.recounted(conn)  # counted as the rows arrived
    assert subscribers.find(pg, "user7@example.com").status == "unsubscribed"
    new_id = pg.execute("INSERT INTO issues (articles, created_at) VALUES ('[]', 't') RETURNING id").fetchone()[0]
    assert new_id == max(row[0] for row in before["issues"]) + 1  # ids go on after the copied ones

    back = tmp_path / "back" / "news.db"
    pg_config = tmp_path / "pg.toml"
    pg_config.write_text(f'[database]\npath = "{tmp_path / "unused.db"}"\nurl = "{url}"\n')
    result = run(pg_config, "db", "copy", "--to", str(back))
    assert result.exit_code == 0, result.output
    returned = snapshot(store.connect(back))
    assert tallies.kept(store.connect(back)) == tallies.recounted(conn)
    assert returned["subscribers"] == before["subscribers"] and returned["deliveries"] == before["deliveries"]
    assert returned["kept"] == before["kept"] and returned["testers"] == before["testers"]


def test_a_target_that_is_not_empty_is_refused_and_left_alone(tmp_path, postgres):
    path, config, conn = sqlite_site(tmp_path)
    url = postgres.new_database()
    target = store.connect(url)
    add_subscribers(target, 1, domain="already.example")

    result = run(path, "db", "copy", "--to", url)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the target is not empty (1 rows in subscribers)")
    assert target.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 1


def test_a_password_in_the_target_url_is_refused(tmp_path):
    path, _, _ = sqlite_site(tmp_path)
    result = run(path, "db", "copy", "--to", "postgresql://app:secret@127.0.0.1:1/news")
    assert result.exit_code == 2 and "must not hold a password" in result.stderr
