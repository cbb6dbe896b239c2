"""The editors' saved test addresses: where test copies go (the preview page's choices, and
``send-test`` without ``--to``)."""
from __future__ import annotations

from .store import Connection, now_utc, to_db_time
from .subscribers import normalize_email


def saved(conn: Connection) -> list[str]:
    """The saved addresses, alphabetically."""
    return [row[0] for row in conn.execute("SELECT email FROM test_addresses ORDER BY email")]


def add(conn: Connection, email: str, *, special_use: bool = False) -> str:
    """Save an address (checked and normalised; ValueError says why not); returns it as saved.
    ``special_use`` accepts special-use domains (:func:`~newsletter.subscribers.normalize_email`)."""
    address = normalize_email(email, special_use=special_use)
    conn.execute(
        "INSERT INTO test_addresses (email, added_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (address, to_db_time(now_utc())),
    )
    return address


def remove(conn: Connection, email: str) -> bool:
    """Forget an address; whether it was saved."""
    return conn.execute("DELETE FROM test_addresses WHERE email = ?", (email,)).rowcount > 0


def chosen(conn: Connection, wanted: list[str]) -> list[str]:
    """The saved addresses among ``wanted`` (case-insensitive), as saved: a form can only
    choose from the list, never add to it."""
    by_key = {address.lower(): address for address in saved(conn)}
    return [by_key[w.lower()] for w in wanted if w.lower() in by_key]
