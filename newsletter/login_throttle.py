"""Editor login throttling: failed logins counted per client address and overall, in the
database, so the limits hold across every process serving the app.

A client with :data:`PER_CLIENT` failures in the last :data:`WINDOW`, or everyone once there
were :data:`OVERALL` failures in it (guessing spread over many addresses), is refused, even
with the right password, until enough of those failures are older than the window; the wait is
said in seconds. Each attempt is written down as a failure *before* the password is checked, in
one transaction with the count, so parallel guesses cannot slip past the limit together; a
success then clears its client's failures. Clients are keyed hashes of their address (an IPv6
address counts by its /64 network, what one subscriber line gets), never the address itself.
Times are computed here; the SQL is as valid for PostgreSQL as for SQLite.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from datetime import datetime, timedelta

from .store import Connection, to_db_time, transaction

#: failures from one client within WINDOW that lock it out
PER_CLIENT = 5
#: failures from all clients together within WINDOW that lock everyone out
OVERALL = 100
#: how far back failures count
WINDOW = timedelta(minutes=15)


def client_key(address: str, secret: str) -> str:
    """What the table stores for a client address: a keyed hash of it (of its /64 for IPv6)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if ip is not None and ip.version == 6 and ip.ipv4_mapped is None:
        address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    elif ip is not None and ip.version == 6:
        address = str(ip.ipv4_mapped)
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]


def attempt(conn: Connection, client: str, now: datetime) -> int:
    """Start a login attempt of ``client`` (a :func:`client_key`): 0 when it may try (the try
    counts as a failure until :func:`succeeded`), else the seconds until it may try again."""
    since = now - WINDOW
    with transaction(conn):
        if conn.dialect == "postgresql":  # one attempt at a time, as SQLite's BEGIN IMMEDIATE does
            conn.execute("LOCK TABLE login_failures IN SHARE ROW EXCLUSIVE MODE")
        conn.execute("DELETE FROM login_failures WHERE failed_at < ?", (to_db_time(since),))
        wait = max(_wait(conn, "client = ?", (client,), PER_CLIENT, now),
                   _wait(conn, "1 = 1", (), OVERALL, now))
        if not wait:
            conn.execute("INSERT INTO login_failures (client, failed_at) VALUES (?, ?)",
                         (client, to_db_time(now)))
    return wait


def succeeded(conn: Connection, client: str) -> None:
    """The attempt was right: the client's failures are forgotten."""
    conn.execute("DELETE FROM login_failures WHERE client = ?", (client,))


def _wait(conn: Connection, where: str, args: tuple, limit: int, now: datetime) -> int:
    """Seconds until fewer than ``limit`` of the failures matching ``where`` are in the window
    (0 when that is already so): when the failure that keeps the count at the limit expires."""
    count = conn.execute(f"SELECT count(*) FROM login_failures WHERE {where}", args).fetchone()[0]
    if count < limit:
        return 0
    row = conn.execute(f"SELECT failed_at FROM login_failures WHERE {where}"
                       " ORDER BY failed_at LIMIT 1 OFFSET ?", (*args, count - limit)).fetchone()
    expires = datetime.fromisoformat(row[0]) + WINDOW
    return max(1, math.ceil((expires - now).total_seconds()))
