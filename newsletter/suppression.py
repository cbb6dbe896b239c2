"""The suppression list: addresses erased at their owner's request, kept only as hashes.

Erasing a subscriber removes their row; the SHA-256 of their lower-cased address stays here so
that an import (or an editor's add) never brings them back unknowingly. Their own signup is
consent again: confirming it lifts the suppression.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Iterable

from .store import Connection, now_utc, to_db_time

ERASED = "erased at their request"


def email_hash(email_key: str) -> str:
    """The stored form of an address: hex SHA-256 of its case-insensitive identity."""
    return hashlib.sha256(email_key.encode("utf-8")).hexdigest()


def suppress(conn: Connection, email_key: str, reason: str = ERASED,
             *, now: datetime | None = None) -> None:
    """Put an address on the list (repeatable; the first reason stays)."""
    conn.execute(
        "INSERT INTO suppressions (email_hash, reason, added_at) VALUES (?, ?, ?)"
        " ON CONFLICT (email_hash) DO NOTHING",
        (email_hash(email_key), reason, to_db_time(now or now_utc())),
    )


def lift(conn: Connection, email_key: str) -> None:
    """Take an address off the list (its owner subscribed again themselves)."""
    conn.execute("DELETE FROM suppressions WHERE email_hash = ?", (email_hash(email_key),))


def is_suppressed(conn: Connection, email_key: str) -> bool:
    return conn.execute(
        "SELECT 1 FROM suppressions WHERE email_hash = ?", (email_hash(email_key),)
    ).fetchone() is not None


def suppressed_among(conn: Connection, email_keys: Iterable[str], batch: int = 500) -> set[str]:
    """The given address keys that are on the list, looked up ``batch`` at a time."""
    keys = list(email_keys)
    found: set[str] = set()
    for start in range(0, len(keys), batch):
        chunk = {email_hash(k): k for k in keys[start:start + batch]}
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(f"SELECT email_hash FROM suppressions WHERE email_hash IN ({marks})", list(chunk))
        found.update(chunk[row[0]] for row in rows)
    return found


def count(conn: Connection) -> int:
    return conn.execute("SELECT count(*) FROM suppressions").fetchone()[0]
