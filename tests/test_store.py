"""The SQLite store: WAL, versioned schema migrated on open, the cancelled-is-final rule."""
from __future__ import annotations

import sqlite3

from newsletter.store import MIGRATIONS, _statements, connect


def test_new_database_is_wal_and_at_the_latest_version(tmp_path):
    conn = connect(tmp_path / "deep" / "folder" / "nl.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_an_older_database_is_migrated_forward_keeping_its_rows(tmp_path):
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 1")
    raw.execute("INSERT INTO subscribers (email, email_key, subscribed_at) VALUES ('a@x.org', 'a@x.org', 't')")
    raw.commit()
    raw.close()
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("SELECT email FROM subscribers").fetchall()[0][0] == "a@x.org"
    connect(path)  # opening again changes nothing


def test_a_semicolon_in_a_comment_does_not_split_a_statement():
    assert len(_statements("CREATE TABLE t (a TEXT -- one; two\n);\nCREATE INDEX i ON t (a);\n")) == 2


def test_a_cancelled_issue_stays_cancelled(tmp_path):
    conn = connect(tmp_path / "nl.db")
    conn.execute("INSERT INTO issues (articles, state, created_at) VALUES ('[]', 'cancelled', 't')")
    conn.execute("UPDATE issues SET state = 'sent', finished_at = 'later' WHERE id = 1")
    assert tuple(conn.execute("SELECT state, finished_at FROM issues").fetchone()) == ("cancelled", None)
    conn.execute("UPDATE issues SET subject = 'still editable' WHERE id = 1")
    assert conn.execute("SELECT subject FROM issues").fetchone()[0] == "still editable"
