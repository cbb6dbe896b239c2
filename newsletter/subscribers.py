"""Subscribers: validation, normalisation, add/remove, streaming reads, search and CSV export
(the import is :mod:`subscriber_import`).

Addresses are checked with email-validator (syntax only, no DNS) and stored in its normalised
form (domain lower-cased, local part kept as written), with an international domain in its
ASCII (IDNA) form, the only one SMTP without SMTPUTF8 and a ``To:`` header can carry. Uniqueness
is case-insensitive through ``email_key``. Addresses whose local part needs SMTPUTF8 are refused:
not every server takes them.

"Remove" never deletes: it marks the subscriber unsubscribed, which keeps the delivery ledger
exact and stops a later import from bringing the address back. Re-importing an unsubscribed
address leaves it unsubscribed; only ``add --resubscribe`` (an explicit operator decision)
re-activates it. A re-import that gives a (non-empty) different name updates the name.
"Erase" (the subscriber's own request) does delete: the row and its delivery history go, the
address stays only as a hash on the suppression list (:mod:`suppression`), which imports and
adds respect and report.

Every subscriber carries a consent record: how (:class:`~newsletter.states.ConsentSource`),
when, the client address (only with ``[subscribe] record_ip``) and, for double opt-in, when
they confirmed.

Nothing here loads the subscriber list whole: reads go in id-ordered batches, counts are SQL.
"""
from __future__ import annotations

import csv
import io
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Iterator, TextIO

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from . import suppression, tallies
from .csvcells import neutralise
from .errors import InputError
from .signing import SubscriberRef
from .states import RESUBSCRIBABLE, STOPPABLE, ConsentSource, SubscriberStatus
from .store import Connection, Row, is_row_id, now_utc, to_db_time, transaction

STATUSES = tuple(s.value for s in SubscriberStatus)
EXPORT_FIELDS = ("email", "name", "status", "subscribed_at", "unsubscribed_at",
                 "consent_source", "consent_at", "confirmed_at", "consent_ip")
BATCH = 1000


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str
    status: str
    subscribed_at: str
    unsubscribed_at: str | None
    key: str  # random: what links name them by (see signing)
    consent_source: str | None = None  # a ConsentSource; None for rows older than the record
    consent_at: str | None = None
    consent_ip: str | None = None
    confirmed_at: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> "Subscriber":
        return cls(*(row[k] for k in _FIELDS))


_FIELDS = ("id", "email", "name", "status", "subscribed_at", "unsubscribed_at", "key",
           "consent_source", "consent_at", "consent_ip", "confirmed_at")
COLUMNS = ", ".join(_FIELDS)


def new_key() -> str:
    """A fresh random subscriber key (24 hex digits, as the database makes them)."""
    return secrets.token_hex(12)


def new_keys(count: int) -> list[str]:
    """``count`` fresh keys like :func:`new_key`'s, from one read of the system's random source."""
    data = os.urandom(12 * count)
    return [data[i:i + 12].hex() for i in range(0, len(data), 12)]


def normalize_email(text: str, *, special_use: bool = False) -> str:
    """The normalised address, or :class:`ValueError` with email-validator's reason.

    Addresses at special-use domain names (``.test``, ``.local``, ``.localhost``, ...: no
    public mail server delivers there) are refused unless ``special_use``
    (``newsletter.special_use_domains``).
    """
    text = text.strip()
    if not text:
        raise ValueError("empty email address")
    simple = _SIMPLE.match(text)
    if simple:
        local, domain = simple.groups()
        if len(local) <= 64 and len(text) <= 200 and local.lower() not in CASE_INSENSITIVE_MAILBOX_NAMES:
            # A plain ASCII local part is valid as written; only the domain needs email-validator,
            # and lists repeat domains: check each once (same result as validating the whole).
            domain, error = _domain(domain, special_use)
            if error:
                raise ValueError(error)
            return f"{local}@{domain}"
    return _validate(text, special_use)


#: a dot-atom local part of common characters (anything else takes the full path)
_SIMPLE = re.compile(r"([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)@([^@\s]+)\Z")


def _validate(text: str, special_use: bool) -> str:
    """email-validator's normalised form of ``text`` (ValueError with its reason).

    email-validator can allow only ``.test`` of the special-use names (``test_environment``),
    so with ``special_use`` a domain under any of them is validated as if under ``.test``
    and keeps its own name: every other check applies unchanged.
    """
    local, _, domain = text.rpartition("@")
    suffix = _special_suffix(domain) if special_use else ""
    if suffix:
        text = f"{local}@{domain[:len(domain) - len(suffix)]}test"
    try:
        address = validate_email(text, check_deliverability=False, allow_smtputf8=False,
                                 test_environment=special_use).ascii_email
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return address[:-len("test")] + suffix if suffix else address


def _special_suffix(domain: str) -> str:
    """The special-use name ``domain`` ends with (lower case), or ""."""
    name = domain.lower()
    return next((s for s in SPECIAL_USE_DOMAIN_NAMES if name == s or name.endswith("." + s)), "")


@lru_cache(maxsize=65536)
def _domain(domain: str, special_use: bool) -> tuple[str, str]:
    """(normalised domain, "") or ("", reason), by validating a plain address at that domain."""
    try:
        return _validate(f"x@{domain}", special_use).split("@", 1)[1], ""
    except ValueError as exc:
        return "", str(exc)


def email_key(email: str) -> str:
    """The case-insensitive identity of a normalised address."""
    return email.lower()


def clean_name(name: str | None) -> str:
    """A display name on one line (CR, LF, NUL and other control characters become spaces)."""
    if not name:
        return ""
    if name.isprintable():
        return " ".join(name.split())
    return " ".join("".join(c if c.isprintable() else " " for c in name).split())


# -- single subscribers -------------------------------------------------------------------------


def find(conn: Connection, email: str) -> Subscriber | None:
    """The subscriber with this address (any case), or None."""
    try:
        key = email_key(normalize_email(email, special_use=True))  # only looks; adds nothing
    except ValueError:
        key = email_key(email.strip())
    row = conn.execute(f"SELECT {COLUMNS} FROM subscribers WHERE email_key = ?", (key,)).fetchone()
    return Subscriber.from_row(row) if row else None


def get(conn: Connection, subscriber_id: int) -> Subscriber | None:
    """The subscriber with this id, or None."""
    if not is_row_id(subscriber_id):
        return None
    row = conn.execute(f"SELECT {COLUMNS} FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()
    return Subscriber.from_row(row) if row else None


def named_by(conn: Connection, ref: SubscriberRef) -> Subscriber | None:
    """The subscriber a link names (by key; or, in an old link, by id and the address it was
    sent to), if they still exist."""
    if ref.key is not None:
        row = conn.execute(f"SELECT {COLUMNS} FROM subscribers WHERE key = ?", (ref.key,)).fetchone()
        return Subscriber.from_row(row) if row else None
    found = get(conn, ref.subscriber_id) if ref.subscriber_id is not None else None
    return found if found is not None and found.email.lower() == (ref.email or "").lower() else None


def add(
    conn: Connection,
    email: str,
    name: str = "",
    *,
    resubscribe: bool = False,
    source: ConsentSource = ConsentSource.EDITOR,
    now: datetime | None = None,
    special_use: bool = False,
) -> tuple[Subscriber | None, str]:
    """Add one address (an editor's decision: consent ``source``). Returns the subscriber and
    what happened:

    ``added``, ``exists`` (already active; a given name replaces the stored one),
    ``unsubscribed`` (left as it is: it asked to leave, bounced or complained; a pending
    signup becomes active), ``suppressed`` (erased at their request: not added, subscriber None), or
    ``resubscribed`` (only with ``resubscribe=True``: they asked to come back, recorded as
    consent ``request``; also adds a suppressed address). A bad address is an :class:`InputError`;
    ``special_use`` accepts special-use domains (see :func:`normalize_email`).
    """
    try:
        normalized = normalize_email(email, special_use=special_use)
    except ValueError as exc:
        raise InputError(f"{email!r}: {exc}") from None
    name = clean_name(name)
    key = email_key(normalized)
    stamp = to_db_time(now or now_utc())
    with transaction(conn):
        row = conn.execute("SELECT id, status FROM subscribers WHERE email_key = ?", (key,)).fetchone()
        if row is None:
            if suppression.is_suppressed(conn, key) and not resubscribe:
                return None, "suppressed"
            suppression.lift(conn, key)
            source = ConsentSource.REQUEST if resubscribe else source
            sid = conn.execute(
                "INSERT INTO subscribers (email, email_key, name, status, subscribed_at, key,"
                " consent_source, consent_at) VALUES (?, ?, ?, 'active', ?, ?, ?, ?) RETURNING id",
                (normalized, key, name, stamp, new_key(), source, stamp),
            ).fetchone()[0]
            outcome = "added"
        else:
            sid = row["id"]
            if name:
                conn.execute("UPDATE subscribers SET name = ? WHERE id = ?", (name, sid))
            if row["status"] == SubscriberStatus.ACTIVE:
                outcome = "exists"
            elif row["status"] == SubscriberStatus.PENDING:  # the editor vouches for them
                _reactivate(conn, sid, ConsentSource.REQUEST if resubscribe else source, stamp)
                outcome = "added"
            elif resubscribe:
                _reactivate(conn, sid, ConsentSource.REQUEST, stamp)
                outcome = "resubscribed"
            else:
                outcome = "unsubscribed"
    return get(conn, sid), outcome


def _reactivate(conn: Connection, sid: int, source: ConsentSource, stamp: str,
                ip: str | None = None) -> None:
    """Make a subscriber active with a new consent record (inside the caller's transaction)."""
    conn.execute(
        "UPDATE subscribers SET status = 'active', subscribed_at = ?, unsubscribed_at = NULL,"
        " consent_source = ?, consent_at = ?, consent_ip = ?, confirm_nonce = NULL WHERE id = ?",
        (stamp, source, stamp, ip, sid),
    )


def resubscribe(conn: Connection, subscriber_id: int, source: ConsentSource,
                *, now: datetime | None = None) -> bool:
    """Make an unsubscribed, bounced or complained subscriber active again because they asked
    (an editor: ``request``; their own preferences link: ``form``). True if it changed."""
    with transaction(conn):
        row = conn.execute("SELECT status FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()
        if row is None or row["status"] not in RESUBSCRIBABLE:
            return False
        _reactivate(conn, subscriber_id, source, to_db_time(now or now_utc()))
    return True


def rename(conn: Connection, subscriber_id: int, name: str) -> str:
    """Set a subscriber's display name (made one line); returns it."""
    name = clean_name(name)[:200]
    conn.execute("UPDATE subscribers SET name = ? WHERE id = ?", (name, subscriber_id))
    return name


def erase(conn: Connection, subscriber_id: int, *, now: datetime | None = None) -> bool:
    """Delete a subscriber with their delivery and bounce history, keeping only the hash of
    the address on the suppression list; True if they existed."""
    with transaction(conn):
        row = conn.execute("SELECT email_key FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()
        if row is None:
            return False
        suppression.suppress(conn, row["email_key"], now=now)
        for table in ("deliveries", "bounce_events"):  # every table that names a subscriber
            conn.execute(f"DELETE FROM {table} WHERE subscriber_id = ?", (subscriber_id,))
        conn.execute("DELETE FROM subscribers WHERE id = ?", (subscriber_id,))
    return True


def personal_data(conn: Connection, sub: Subscriber) -> dict:
    """Everything stored about a subscriber (their "download my data"): the row, the consent
    record and every delivery of an issue to them."""
    deliveries = conn.execute(
        "SELECT d.issue_id, i.subject, i.rendered_subject, d.state, d.attempts, d.updated_at,"
        " d.message_id, d.last_error FROM deliveries d JOIN issues i ON i.id = d.issue_id"
        " WHERE d.subscriber_id = ? ORDER BY d.issue_id",
        (sub.id,),
    ).fetchall()
    return {
        "email": sub.email,
        "name": sub.name,
        "status": sub.status,
        "subscribed_at": sub.subscribed_at,
        "unsubscribed_at": sub.unsubscribed_at,
        "consent": {"source": sub.consent_source, "at": sub.consent_at, "client_address": sub.consent_ip,
                    "confirmed_at": sub.confirmed_at},
        "deliveries": [
            {"issue": d["issue_id"], "subject": d["rendered_subject"] or d["subject"], "state": d["state"],
             "attempts": d["attempts"], "updated_at": d["updated_at"], "message_id": d["message_id"],
             "error": d["last_error"]}
            for d in deliveries
        ],
    }


def unsubscribe(conn: Connection, subscriber_id: int, *, now: datetime | None = None) -> bool:
    """Mark a subscriber unsubscribed; True if it was active (or a pending signup, whose
    confirmation link then stops working). Repeatable."""
    cur = conn.execute(
        "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?, confirm_nonce = NULL"
        " WHERE id = ? AND status IN ('active', 'pending')",
        (to_db_time(now or now_utc()), subscriber_id),
    )
    return cur.rowcount > 0


def stop(
    conn: Connection, subscriber_id: int, status: SubscriberStatus, *, now: datetime | None = None
) -> bool:
    """Mark a subscriber ``bounced`` or ``complained`` (see :data:`states.STOPPABLE`); True if it changed.
    Neither is ever mailed again unless an operator re-adds the address with ``--resubscribe``."""
    cur = conn.execute(
        f"UPDATE subscribers SET status = ?, unsubscribed_at = ? WHERE id = ?"
        f" AND status IN ({', '.join('?' * len(STOPPABLE[status]))})",
        (status, to_db_time(now or now_utc()), subscriber_id, *STOPPABLE[status]),
    )
    return cur.rowcount > 0


def remove(conn: Connection, email: str, *, now: datetime | None = None) -> tuple[Subscriber, bool]:
    """Unsubscribe an address (kept, never deleted). Returns it and whether it was active."""
    sub = find(conn, email)
    if sub is None:
        raise InputError(f"{email}: no such subscriber")
    changed = unsubscribe(conn, sub.id, now=now)
    return get(conn, sub.id), changed


# -- many subscribers ---------------------------------------------------------------------------


def iter_subscribers(
    conn: Connection, status: str | None = None, *, after_id: int = 0, batch: int = BATCH
) -> Iterator[Subscriber]:
    """Every subscriber (or those with ``status``) in id order, read ``batch`` rows at a time."""
    if status is not None and status not in STATUSES:
        raise InputError(f"unknown status {status!r} ({', '.join(STATUSES)})")
    where = "id > ?" + (" AND status = ?" if status else "")
    last = after_id
    while True:
        args = (last, status, batch) if status else (last, batch)
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM subscribers WHERE {where} ORDER BY id LIMIT ?", args
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield Subscriber.from_row(row)
        last = rows[-1]["id"]


def count(conn: Connection, status: str | None = None) -> int:
    """Subscribers with ``status``, or all of them (kept counts: :mod:`tallies`)."""
    return tallies.subscriber_count(conn, status)


def export_csv(conn: Connection, out: TextIO) -> None:
    """Write every subscriber as CSV (``EXPORT_FIELDS``) to the text stream ``out``, a batch
    at a time (see :func:`export_chunks`)."""
    for chunk in export_chunks(conn):
        out.write(chunk)


def export_chunks(conn: Connection, *, batch: int = BATCH) -> Iterator[str]:
    """The CSV export, streamed: the header row, then the rows of each ``batch`` subscribers
    as one piece of text (memory holds one batch, whatever the size of the list). Cells a
    spreadsheet would run as formulas start with ``'`` (:mod:`csvcells`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for n, sub in enumerate(iter_subscribers(conn, batch=batch), 1):
        row = [sub.email, sub.name, sub.status, sub.subscribed_at, sub.unsubscribed_at or "",
               sub.consent_source or "", sub.consent_at or "", sub.confirmed_at or "", sub.consent_ip or ""]
        writer.writerow([neutralise(cell) for cell in row])
        if n % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
