"""Self-service subscribing: signup, double opt-in confirmation, and the limits around them.

:func:`sign_up` decides what a signup does to the list and which email (a :class:`Notice`)
should follow, if any; the caller answers the same whatever happened (no enumeration) and
sends the notice (:mod:`notices`). What a signup does, by the address's state:

- new: ``pending`` with a confirmation link (double opt-in), else ``active`` (and a welcome);
- ``pending``: a new confirmation link (the last one mailed is the one that works);
- ``active``: nothing changes (a stranger's signup never renames anyone); at most one "you are
  already subscribed" email a day;
- ``unsubscribed``: a fresh confirmation, even with double opt-in off (only the address's owner
  may bring it back); it stays unsubscribed until confirmed;
- ``bounced``/``complained``: accepted silently, no email; the attempt is recorded for editors.

Every email counts against ``[subscribe] mails_per_day`` for that address, whoever asks, so the
form cannot be used to mail-bomb anyone. A confirmation link works once (its nonce is cleared)
and expires after ``confirm_expiry``; unconfirmed signups are purged then. Every link mailed
for one signup carries the same nonce, so a stranger's repeated signup never voids a link
already mailed.
"""
from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from . import limits, subscribers, suppression
from .config import Config
from .errors import InputError
from .signing import SubscriberRef, secret_keys
from .states import SILENCED, ConsentSource, SubscriberStatus
from .store import Connection, now_utc, to_db_time, transaction
from .subscribers import Subscriber

CONFIRM = "confirm"
ALREADY = "already"
WELCOME = "welcome"


@dataclass(frozen=True)
class Notice:
    """An email a signup or a confirmation calls for: ``kind`` (CONFIRM, ALREADY, WELCOME) to
    ``subscriber``; a CONFIRM carries the nonce its link signs."""

    kind: str
    subscriber: Subscriber
    nonce: str = ""


@dataclass(frozen=True)
class Signup:
    """One signup request as the web layer read it."""

    email: str
    name: str = ""
    source: ConsentSource = ConsentSource.FORM
    client: str = ""  # the client's address ("" when unknown)


def sign_up(conn: Connection, config: Config, request: Signup, *,
            now: datetime | None = None) -> Notice | None:
    """Apply a signup (see module docstring); the email to send, if any. A malformed address
    is an :class:`InputError` (that answer tells nothing about the list)."""
    try:
        email = subscribers.normalize_email(request.email)
    except ValueError as exc:
        raise InputError(f"{request.email!r}: {exc}") from None
    now = now or now_utc()
    settings = config["subscribe"]
    key = subscribers.email_key(email)
    purge_pending(conn, config.confirm_expiry, now)
    row = conn.execute("SELECT id, status FROM subscribers WHERE email_key = ?", (key,)).fetchone()
    status = row["status"] if row else None
    if status is None:
        kind = CONFIRM if settings["double_opt_in"] else WELCOME
    elif status == SubscriberStatus.ACTIVE:
        kind = ALREADY
    elif status in SILENCED:
        kind = None
    else:  # pending, or unsubscribed: only the address's owner may bring it back
        kind = CONFIRM
    mail = kind in (CONFIRM, ALREADY) and _may_mail(conn, config, key, kind, now)
    consent = (request.source, to_db_time(now), request.client if settings["record_ip"] else None)
    with transaction(conn):
        if row is None:
            sid = _insert(conn, email, request.name, kind == CONFIRM, consent, mail)
        else:
            sid = row["id"]
            _record(conn, sid, status, request.name, consent, mail)
    sub = subscribers.get(conn, sid) if sid else None
    if sub is None or kind is None:
        return None
    if kind == WELCOME:
        return Notice(WELCOME, sub) if settings["welcome"] else None
    nonce = conn.execute("SELECT confirm_nonce FROM subscribers WHERE id = ?", (sid,)).fetchone()[0]
    return Notice(kind, sub, nonce or "") if mail else None


def _insert(conn: Connection, email: str, name: str, pending: bool, consent: tuple,
            mailed: bool) -> int | None:
    """A new subscriber from a signup, ``pending`` with a confirmation nonce or ``active``;
    their id, or None when another request added the address first."""
    source, stamp, ip = consent
    key = subscribers.email_key(email)
    row = conn.execute(
        "INSERT INTO subscribers (email, email_key, name, status, subscribed_at, key, consent_source,"
        " consent_at, consent_ip, confirm_nonce, confirm_sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (email_key) DO NOTHING RETURNING id",
        (email, key, subscribers.clean_name(name)[:200],
         SubscriberStatus.PENDING if pending else SubscriberStatus.ACTIVE, stamp, subscribers.new_key(),
         source, stamp, ip, _nonce() if pending else None, stamp if pending and mailed else None),
    ).fetchone()
    if row is None:
        return None
    if not pending:  # their own signup is consent again
        suppression.lift(conn, key)
    return row[0]


def _record(conn: Connection, sid: int, status: str, name: str, consent: tuple, mailed: bool) -> None:
    """A signup of an address already in the table. Active: nothing changes. Bounced or
    complained: the attempt is recorded for editors. Pending or unsubscribed: the consent is
    recorded and the outstanding confirmation nonce kept (a link already mailed keeps working;
    a stranger's request can never void it); the purge clock restarts when a new link is mailed.
    Only a pending signup's name may change."""
    if status == SubscriberStatus.ACTIVE:
        return
    conn.execute("UPDATE subscribers SET consent_source = ?, consent_at = ?, consent_ip = ? WHERE id = ?",
                 (*consent, sid))
    if status in SILENCED:
        return
    name = subscribers.clean_name(name)[:200] if status == SubscriberStatus.PENDING else ""
    conn.execute(
        "UPDATE subscribers SET confirm_nonce = coalesce(confirm_nonce, ?),"
        " confirm_sent_at = CASE WHEN ? = 1 THEN ? ELSE confirm_sent_at END,"
        " name = CASE WHEN ? != '' THEN ? ELSE name END WHERE id = ?",
        (_nonce(), int(mailed), consent[1], name, name, sid),
    )


def _nonce() -> str:
    return secrets.token_hex(8)


def _may_mail(conn: Connection, config: Config, email_key: str, kind: str, now: datetime) -> bool:
    """Whether ``email_key`` may get another ``kind`` email today: ``mails_per_day`` of any
    kind, and one "already subscribed" a day."""
    secret = secret_keys(config)[0]
    per_day = config["subscribe"]["mails_per_day"]
    if kind == ALREADY and not limits.hit(conn, limits.bucket("already", email_key, secret), 1, limits.DAY, now):
        return False
    return limits.hit(conn, limits.bucket("mail", email_key, secret), per_day, limits.DAY, now)


def client_allowed(conn: Connection, config: Config, client: str, *,
                   now: datetime | None = None) -> bool:
    """Count a signup from ``client`` (its address); False past ``signups_per_hour``."""
    now = now or now_utc()
    limits.prune(conn, now)
    name = limits.bucket("signup-client", client or "unknown", secret_keys(config)[0])
    return limits.hit(conn, name, config["subscribe"]["signups_per_hour"], limits.HOUR, now)


# --- the confirmation link ----------------------------------------------------------------------


def awaiting(conn: Connection, ref: SubscriberRef) -> Subscriber | None:
    """The subscriber a confirmation link is for, while that link is unused; else None."""
    row = conn.execute("SELECT id FROM subscribers WHERE key = ? AND confirm_nonce = ?",
                       (ref.key, ref.nonce)).fetchone()
    return subscribers.get(conn, row["id"]) if row else None


def confirm(conn: Connection, config: Config, ref: SubscriberRef, *,
            now: datetime | None = None) -> tuple[Subscriber | None, Notice | None]:
    """Use a confirmation link: its subscriber becomes ``active`` (confirmed now, off the
    suppression list) and the link stops working. (None, None) when the link was used or
    its subscriber is gone; else the subscriber and the welcome email, if one is configured."""
    stamp = to_db_time(now or now_utc())
    with transaction(conn):
        row = conn.execute(
            "SELECT id, email_key FROM subscribers WHERE key = ? AND confirm_nonce = ? AND status IN (?, ?)",
            (ref.key, ref.nonce, SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED),
        ).fetchone()
        if row is None:
            return None, None
        conn.execute(
            "UPDATE subscribers SET status = 'active', subscribed_at = ?, unsubscribed_at = NULL,"
            " confirmed_at = ?, confirm_nonce = NULL, confirm_sent_at = NULL WHERE id = ?",
            (stamp, stamp, row["id"]),
        )
        suppression.lift(conn, row["email_key"])
    sub = subscribers.get(conn, row["id"])
    return sub, (Notice(WELCOME, sub) if config["subscribe"]["welcome"] else None)


def resend(conn: Connection, config: Config, ref: SubscriberRef, *,
           now: datetime | None = None) -> Notice | None:
    """The confirmation email again, for the subscriber an expired link names, if they are
    still waiting to confirm and within the day's mail limit; None otherwise."""
    now = now or now_utc()
    sub = awaiting(conn, ref)
    if sub is None or sub.status not in (SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED):
        return None
    if not _may_mail(conn, config, subscribers.email_key(sub.email), CONFIRM, now):
        return None
    conn.execute("UPDATE subscribers SET confirm_sent_at = ? WHERE id = ?", (to_db_time(now), sub.id))
    return Notice(CONFIRM, sub, ref.nonce or "")


def purge_pending(conn: Connection, expiry: timedelta, now: datetime) -> int:
    """Delete signups never confirmed whose link expired (they never got an issue); how many."""
    return conn.execute(
        "DELETE FROM subscribers WHERE status = ? AND coalesce(confirm_sent_at, consent_at) < ? AND NOT EXISTS"
        " (SELECT 1 FROM deliveries d WHERE d.subscriber_id = subscribers.id)",
        (SubscriberStatus.PENDING, to_db_time(now - expiry)),
    ).rowcount


# --- for editors --------------------------------------------------------------------------------

PUBLIC_SOURCES = (ConsentSource.FORM, ConsentSource.API)


def signups_per_day(conn: Connection, zone: ZoneInfo, *, days: int = 30,
                    now: datetime | None = None) -> list[tuple[date, int]]:
    """Public signups (form and API) on each of the last ``days`` days in ``zone``, oldest
    first, days without any included: those confirmed and those still waiting (a signup never
    confirmed is deleted after ``confirm_expiry``, and leaves the count then)."""
    today = (now or now_utc()).astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), zone)
    per_day: Counter[date] = Counter()
    for (stamp,) in conn.execute(
        "SELECT consent_at FROM subscribers WHERE consent_at >= ? AND consent_source IN (?, ?)",
        (to_db_time(since), *PUBLIC_SOURCES),
    ):
        per_day[datetime.fromisoformat(stamp).astimezone(zone).date()] += 1
    return [(first + timedelta(days=n), per_day[first + timedelta(days=n)]) for n in range(days)]
