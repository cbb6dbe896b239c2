"""The store on both databases: versioned schema migrated on open, the cancelled-is-final rule;
SQLite in WAL mode; PostgreSQL configured by URL without a password in the file."""
from __future__ import annotations

import sqlite3

import pytest

from newsletter.config import load_config
from newsletter.errors import ConfigError
from newsletter.migrations import MIGRATIONS, script
from newsletter.store import _statements, connect


def test_new_sqlite_database_is_wal_and_at_the_latest_version(tmp_path):
    conn = connect(tmp_path / "deep" / "folder" / "nl.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_an_older_sqlite_database_is_migrated_forward_keeping_its_rows(tmp_path):
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    for statement in _statements(script(0, "sqlite")):
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 1")
    raw.execute("INSERT INTO subscribers (email, email_key, subscribed_at) VALUES ('a@x.org', 'a@x.org', 't')")
    raw.commit()
    raw.close()
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("SELECT email FROM subscribers").fetchall()[0][0] == "a@x.org"
    assert len(conn.execute("SELECT key FROM subscribers").fetchone()[0]) == 24  # migration 3 gave it a key
    connect(path)  # opening again changes nothing


def test_an_older_postgresql_database_is_migrated_forward_keeping_its_rows(postgres):
    import psycopg

    url = postgres.new_database(migrated=False)
    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        raw.execute(script(0, "postgresql"))
        raw.execute("INSERT INTO schema_version VALUES (1)")
        raw.execute("INSERT INTO subscribers (email, email_key, subscribed_at) VALUES ('a@x.org', 'a@x.org', 't')")
    config = load_config(overrides={"database": {"url": url}}, environ={})
    conn = connect(config)
    assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("SELECT email FROM subscribers").fetchone()["email"] == "a@x.org"
    assert len(conn.execute("SELECT key FROM subscribers").fetchone()[0]) == 24
    connect(config)  # opening again changes nothing
    assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)


def test_a_semicolon_in_a_comment_does_not_split_a_statement():
    assert len(_statements("CREATE TABLE t (a TEXT -- one; two\n);\nCREATE INDEX i ON t (a);\n")) == 2


def test_a_cancelled_issue_stays_cancelled(config):
    conn = connect(config)
    conn.execute("INSERT INTO issues (articles, state, created_at) VALUES ('[]', 'cancelled', 't')")
    conn.execute("UPDATE issues SET state = 'sent', finished_at = 'later' WHERE id = 1")
    assert tuple(conn.execute("SELECT state, finished_at FROM issues").fetchone()) == ("cancelled", None)
    conn.execute("UPDATE issues SET subject = 'still editable' WHERE id = 1")
    assert conn.execute("SELECT subject FROM issues").fetchone()[0] == "still editable"


@pytest.mark.parametrize("url,message", [
    ("mysql://x@db/news", "must start with postgresql://"),
    ("postgresql://app:hunter2@db/news", "must not hold a password"),
])
def test_a_database_url_is_postgresql_without_a_password(url, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides={"database": {"url": url}}, environ={})


def test_an_unreachable_postgresql_is_one_line_naming_the_key():
    config = load_config(overrides={"database": {"url": "postgresql://nobody@127.0.0.1:1/none"}}, environ={})
    with pytest.raises(ConfigError, match=r"^database\.url: cannot connect to PostgreSQL"):
        connect(config)
