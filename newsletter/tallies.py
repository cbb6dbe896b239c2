"""Counts kept, not recounted: subscribers per status, and each issue's deliveries per state.

A million rows take a database 50 to 300 ms to count, on every page that shows a number.
Instead, triggers (migration 11) keep the counts in ``subscriber_tally`` and
``delivery_tally``, in the transaction of every insert, delete and change of status or state,
whatever the code that makes it: the send, an import, an unsubscribe, a bounce, an erasure, a
database copy. A delivery is counted with whether its subscriber is active (a pending
delivery of someone who left is not going out), and moves when the subscriber's status does.

The count of a key is the sum of its rows: one row on SQLite (slot 0); on PostgreSQL one per
database session that changed it (slot: the session's process id), so that senders on several
hosts never wait for each other's counts. :func:`compact` folds those rows together, and the
readers here call it when a key has gathered many.
"""
from __future__ import annotations

from .states import DeliveryState, SubscriberStatus
from .store import Connection, in_transaction, transaction

#: rows read for one count beyond which PostgreSQL's are folded together
COMPACT_AFTER = 64
#: the advisory lock that lets one session at a time fold rows (so none waits for another)
_COMPACT_LOCK = 0x6E6C7463  # "nltc"

#: the tables of kept counts, and the columns that key a count
TABLES = {"subscriber_tally": "status", "delivery_tally": "issue_id, state, active"}


def subscriber_counts(conn: Connection) -> dict[SubscriberStatus, int]:
    """Subscribers per status, every status present."""
    found: dict[str, int] = {}
    rows = 0
    for status, n, parts in conn.execute(
            "SELECT status, CAST(sum(n) AS BIGINT), count(*) FROM subscriber_tally GROUP BY status"):
        found[status] = n
        rows += parts
    if rows > COMPACT_AFTER:
        compact(conn, "subscriber_tally")
    return {status: found.get(status, 0) for status in SubscriberStatus}


def subscriber_count(conn: Connection, status: str | None = None) -> int:
    """Subscribers with ``status``, or all of them."""
    counts = subscriber_counts(conn)
    return sum(counts.values()) if status is None else counts.get(status, 0)


def delivery_tally(conn: Connection, issue_id: int) -> dict[tuple[DeliveryState, bool], int]:
    """An issue's deliveries per (state, subscriber active), the keys with rows only."""
    found: dict[tuple[DeliveryState, bool], int] = {}
    rows = 0
    for state, active, n, parts in conn.execute(
        "SELECT state, active, CAST(sum(n) AS BIGINT), count(*) FROM delivery_tally WHERE issue_id = ? "
        "GROUP BY state, active",
        (issue_id,),
    ):
        found[DeliveryState(state), bool(active)] = n
        rows += parts
    if rows > COMPACT_AFTER:
        compact(conn, "delivery_tally", issue_id)
    return found


def delivery_states(conn: Connection, issue_id: int) -> dict[DeliveryState, int]:
    """An issue's deliveries per state (whoever the subscriber), every state present."""
    counts = dict.fromkeys(DeliveryState, 0)
    for (state, _), n in delivery_tally(conn, issue_id).items():
        counts[state] += n
    return counts


def compact(conn: Connection, table: str, issue_id: int | None = None) -> None:
    """PostgreSQL: fold the rows of ``table`` (of one issue of ``delivery_tally``) into this
    session's, skipping rows a transaction holds (they stay, and still count); nothing when
    another session is folding. SQLite keeps one row per key: nothing to do."""
    if conn.dialect != "postgresql" or in_transaction(conn):  # never inside the caller's transaction
        return
    key = TABLES[table]
    where, args = ("issue_id = ?", (issue_id,)) if issue_id is not None else ("1 = 1", ())
    with transaction(conn):
        if not conn.execute("SELECT pg_try_advisory_xact_lock(?)", (_COMPACT_LOCK,)).fetchone()[0]:
            return
        conn.execute(
            f"WITH gone AS (DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table} WHERE {where}"
            f"   AND slot <> pg_backend_pid() FOR UPDATE SKIP LOCKED) RETURNING {key}, n)"
            f" INSERT INTO {table} AS t ({key}, slot, n) SELECT {key}, pg_backend_pid(), sum(n) FROM gone"
            f" GROUP BY {key} ORDER BY {key} ON CONFLICT ({key}, slot) DO UPDATE SET n = t.n + excluded.n",
            args,
        )
        conn.execute(f"DELETE FROM {table} WHERE {where} AND slot = pg_backend_pid() AND n = 0", args)


def recounted(conn: Connection) -> tuple[dict[str, int], dict[tuple[int, str, bool], int]]:
    """The counts as the rows are now, counted the slow way: subscribers per status, and
    deliveries per (issue, state, subscriber active); what the tallies must always equal."""
    subscribers = dict(conn.execute("SELECT status, count(*) FROM subscribers GROUP BY status").fetchall())
    deliveries = {
        (issue_id, state, bool(active)): n
        for issue_id, state, active, n in conn.execute(
            "SELECT d.issue_id, d.state, CASE WHEN s.status = 'active' THEN 1 ELSE 0 END, count(*)"
            " FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id GROUP BY 1, 2, 3"
        )
    }
    return subscribers, deliveries


def kept(conn: Connection) -> tuple[dict[str, int], dict[tuple[int, str, bool], int]]:
    """The tallies in the shape of :func:`recounted` (keys whose count is 0 left out)."""
    subscribers = {status: n for status, n in conn.execute(
        "SELECT status, CAST(sum(n) AS BIGINT) FROM subscriber_tally GROUP BY status") if n}
    deliveries = {
        (issue_id, state, bool(active)): n
        for issue_id, state, active, n in conn.execute(
            "SELECT issue_id, state, active, CAST(sum(n) AS BIGINT) FROM delivery_tally "
            "GROUP BY issue_id, state, active")
        if n
    }
    return subscribers, deliveries
