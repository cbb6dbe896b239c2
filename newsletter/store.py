"""SQLite storage: schema, migrations and connections.

One file (``[database] path``), WAL mode, schema versioned with ``PRAGMA user_version`` and
migrated forward on every open. Times are stored as UTC ISO-8601 strings
(``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``), so they sort as text.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from .errors import ConfigError

#: Each entry moves the schema from version i to i+1. Append only; never edit a shipped one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE subscribers (
        id              INTEGER PRIMARY KEY,
        email           TEXT NOT NULL,
        email_key       TEXT NOT NULL UNIQUE,      -- lower-cased email: uniqueness is case-insensitive
        name            TEXT NOT NULL DEFAULT '',
        status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unsubscribed')),
        subscribed_at   TEXT NOT NULL,
        unsubscribed_at TEXT
    );
    CREATE INDEX subscribers_status ON subscribers (status, id);

    CREATE TABLE issues (
        id          INTEGER PRIMARY KEY,
        subject     TEXT NOT NULL DEFAULT '',      -- '' = derived from the lead article
        articles    TEXT NOT NULL,                 -- JSON list of article slugs or paths, in order
        state       TEXT NOT NULL DEFAULT 'draft'
                    CHECK (state IN ('draft', 'scheduled', 'sending', 'sent', 'missed', 'cancelled')),
        send_at     TEXT,                          -- UTC; set when scheduled
        created_at  TEXT NOT NULL,
        started_at  TEXT,
        finished_at TEXT,
        -- the rendered issue, frozen when sending starts, so that a resumed send and the web view
        -- show exactly what was sent (placeholders still in place)
        rendered_subject   TEXT,
        rendered_preheader TEXT,
        rendered_html      TEXT,
        rendered_text      TEXT
    );

    CREATE TABLE deliveries (
        issue_id        INTEGER NOT NULL REFERENCES issues (id),
        subscriber_id   INTEGER NOT NULL REFERENCES subscribers (id),
        state           TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,                      -- UTC; NULL = now
        last_error      TEXT,
        message_id      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        PRIMARY KEY (issue_id, subscriber_id)
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_state ON deliveries (issue_id, state, next_attempt_at);

    CREATE TABLE test_addresses (
        email    TEXT PRIMARY KEY COLLATE NOCASE,
        added_at TEXT NOT NULL
    );
    """,
    # 2: cancelling is final, whatever a send already running writes afterwards
    """
    CREATE TRIGGER issues_cancelled_is_final BEFORE UPDATE OF state ON issues
    WHEN OLD.state = 'cancelled' AND NEW.state != 'cancelled'
    BEGIN
        SELECT RAISE(IGNORE);
    END;
    """,
    # 3: each subscriber gets a random key: links name it, never the address
    """
    ALTER TABLE subscribers ADD COLUMN key TEXT;
    UPDATE subscribers SET key = lower(hex(randomblob(12))) WHERE key IS NULL;
    CREATE UNIQUE INDEX subscribers_key ON subscribers (key);
    CREATE TRIGGER subscribers_key_given AFTER INSERT ON subscribers WHEN NEW.key IS NULL
    BEGIN
        UPDATE subscribers SET key = lower(hex(randomblob(12))) WHERE id = NEW.id;
    END;
    """,
    # 4: bounces and complaints. Subscribers may be 'bounced' or 'complained' (and 'pending',
    # the contract's double opt-in state): the CHECK constraint changes, which SQLite can only do
    # by rebuilding the table (see migrate(): foreign keys are off while a migration runs).
    """
    CREATE TABLE subscribers_v4 (
        id              INTEGER PRIMARY KEY,
        email           TEXT NOT NULL,
        email_key       TEXT NOT NULL UNIQUE,
        name            TEXT NOT NULL DEFAULT '',
        status          TEXT NOT NULL DEFAULT 'active'
                        CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained')),
        subscribed_at   TEXT NOT NULL,
        unsubscribed_at TEXT,                      -- when the subscriber stopped getting mail, for any reason
        key             TEXT                       -- links name this random key (migration 3)
    );
    INSERT INTO subscribers_v4 (id, email, email_key, name, status, subscribed_at, unsubscribed_at, key)
        SELECT id, email, email_key, name, status, subscribed_at, unsubscribed_at, key FROM subscribers;
    DROP TABLE subscribers;
    ALTER TABLE subscribers_v4 RENAME TO subscribers;
    CREATE INDEX subscribers_status ON subscribers (status, id);
    CREATE UNIQUE INDEX subscribers_key ON subscribers (key);
    CREATE TRIGGER subscribers_key_given AFTER INSERT ON subscribers WHEN NEW.key IS NULL
    BEGIN
        UPDATE subscribers SET key = lower(hex(randomblob(12))) WHERE id = NEW.id;
    END;

    -- one row per bounce or complaint understood, per subscriber; the same report read twice
    -- (a pipe and a mailbox, or a fetch run again) has the same fingerprint and counts once
    CREATE TABLE bounce_events (
        id            INTEGER PRIMARY KEY,
        fingerprint   TEXT NOT NULL UNIQUE,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers (id),
        issue_id      INTEGER REFERENCES issues (id),   -- NULL when the report does not say
        kind          TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint')),
        status        TEXT NOT NULL DEFAULT '',          -- enhanced status code (5.1.1) or SMTP reply code
        diagnostic    TEXT NOT NULL DEFAULT '',
        source        TEXT NOT NULL DEFAULT '',          -- 'rcpt' (refused during a send), a file, a mailbox
        received_at   TEXT NOT NULL
    );
    CREATE INDEX bounce_events_subscriber ON bounce_events (subscriber_id, kind, received_at);
    CREATE INDEX bounce_events_issue ON bounce_events (issue_id, kind);

    -- messages that reached the bounce intake and were not understood: kept for the editor
    CREATE TABLE kept_messages (
        id          INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        reason      TEXT NOT NULL,
        sender      TEXT NOT NULL DEFAULT '',
        subject     TEXT NOT NULL DEFAULT '',
        raw         BLOB NOT NULL,
        source      TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL
    );
    """,
]


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def to_db_time(moment: datetime) -> str:
    """A timezone-aware datetime as the stored UTC text."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_db_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating folders and the file as needed) and migrate the database.

    Autocommit mode (``isolation_level=None``): callers group writes with explicit
    ``BEGIN IMMEDIATE`` / ``COMMIT`` (see :func:`transaction`).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path}: cannot open database: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create database: {exc.strerror}") from None
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to the newest version, one migration per transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(
            f"schema version {version} is newer than this program knows ({len(MIGRATIONS)})"
        )
    if version == len(MIGRATIONS):
        return
    # A migration may rebuild a table others refer to (SQLite's way to change a constraint):
    # foreign keys are off while it runs and checked whole before it commits.
    enforced = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        for number in range(version, len(MIGRATIONS)):
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("PRAGMA user_version").fetchone()[0] == number:
                    for statement in _statements(MIGRATIONS[number]):
                        conn.execute(statement)
                    broken = conn.execute("PRAGMA foreign_key_check").fetchone()
                    if broken:
                        raise sqlite3.DatabaseError(
                            f"migration {number + 1} leaves a broken reference in table {broken[0]}"
                        )
                    conn.execute(f"PRAGMA user_version = {number + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    finally:
        conn.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")


def _statements(script: str) -> list[str]:
    """Split a migration into statements (a ``;`` inside a comment or string does not split)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    if pending.strip():
        raise sqlite3.DatabaseError(f"incomplete statement in migration: {pending.strip()[:60]}")
    return statements


class transaction:
    """``with transaction(conn):`` runs the block in ``BEGIN IMMEDIATE`` … ``COMMIT``."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
