"""Abuse limits that hold across processes: counters in the database, per fixed time window.

:func:`hit` counts one event in a bucket (``"signup-ip:<hash>"``) for the current window and
says whether it is still within the limit. Every worker of the web app shares the table, so a
limit holds however many processes serve the form. Buckets hold keyed hashes of what they
count (client addresses, email addresses), never the values; expired windows are pruned.
The SQL is plain (``ON CONFLICT … DO UPDATE … RETURNING``, times computed here), as valid
for PostgreSQL as for SQLite.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from .store import Connection, to_db_time, transaction

_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def bucket(kind: str, value: str, secret: str) -> str:
    """The bucket name for ``kind`` of events about ``value`` (an address), keyed so that the
    table never holds the value nor a hash anyone could reverse by trying addresses."""
    digest = hmac.new(secret.encode(), f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:32]}"


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window of length ``window`` that holds ``now``."""
    elapsed = (now - _EPOCH) // window
    return _EPOCH + elapsed * window


def hit(conn: Connection, name: str, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one event in bucket ``name``; True while the window's count is within ``limit``
    (0 = no limit, nothing stored)."""
    if limit <= 0:
        return True
    start = window_start(now, window)
    with transaction(conn):
        hits = conn.execute(
            "INSERT INTO rate_limits (bucket, window_start, hits, expires_at) VALUES (?, ?, 1, ?)"
            " ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1"
            " RETURNING hits",
            (name, to_db_time(start), to_db_time(start + window)),
        ).fetchone()[0]
    return hits <= limit


def prune(conn: Connection, now: datetime) -> int:
    """Drop the counters of windows that have ended; how many."""
    return conn.execute("DELETE FROM rate_limits WHERE expires_at <= ?", (to_db_time(now),)).rowcount
