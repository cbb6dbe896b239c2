"""CSV import of subscribers, streamed: constant memory whatever the size of the file.

The file is read a row at a time into a staging table of this connection (a temporary table:
SQLite keeps it in a file of its own, PostgreSQL in the session), every row with its line
number: the good ones as ``(email, email_key, name)``, the rejected ones with their reason.
The database then does what a dictionary of every address would otherwise do in memory: it
finds the later occurrences of an address (rejected as duplicates of the first), the erased
addresses (:mod:`suppression`), and merges the rest into ``subscribers`` in one transaction.
Rejections are handed back in file order at the end.

Only the merge holds SQLite's write lock (reading and staging the file does not), so a signup
arriving during a long import waits seconds at most.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import suppression
from .csvcells import restore
from .errors import InputError
from .store import Connection, analyze, bulk_insert, now_utc, to_db_time, transaction
from .subscribers import clean_name, email_key, new_keys, normalize_email

#: (line, email, email_key, name, reason): a good row has no reason, a rejected one only a reason
Staged = tuple[int, "str | None", "str | None", "str | None", "str | None"]

STAGING = "import_staging"
_COLUMNS = ("line", "email", "email_key", "name", "reason", "email_hash", "key")
#: new subscriber keys drawn at a time
BATCH = 50_000


@dataclass
class ImportReport:
    """What an import did: counts, and the addresses not imported because they were erased."""

    new: int = 0
    present: int = 0
    renamed: int = 0
    rejected: int = 0
    suppressed: list[str] = field(default_factory=list)  # erased at their request: not imported

    @property
    def summary(self) -> str:
        return f"imported {self.new} new, {self.present} already present, {self.rejected} rejected"

    @property
    def suppressed_note(self) -> str:
        """One line naming the addresses skipped as erased, or ""."""
        if not self.suppressed:
            return ""
        n = len(self.suppressed)
        return (f"not imported: {n} address{'es' * (n != 1)} erased at their owner's request "
                f"(suppression list): {', '.join(self.suppressed)}")


def import_csv(conn: Connection, path: str | Path, *, now: datetime | None = None, special_use: bool = False,
               on_reject: Callable[[str], None] | None = None) -> ImportReport:
    """Validate and import a subscriber CSV (see :func:`read_rows`); ``on_reject`` gets each
    rejected row as ``FILE:LINE: reason``, in file order. A file that cannot be read as CSV
    is an :class:`InputError` and imports nothing."""
    return _import(conn, read_rows(path, special_use=special_use), now, on_reject, path)


def import_rows(conn: Connection, rows: Iterable[tuple[str, str, str]], *,
                now: datetime | None = None) -> ImportReport:
    """Import validated ``(email, email_key, name)`` rows as if they were a CSV file's."""
    return _import(conn, ((n, email, key, name, None) for n, (email, key, name) in enumerate(rows, 2)), now)


def read_rows(path: str | Path, *, special_use: bool = False) -> Iterator[Staged]:
    """Read and validate a subscriber CSV a row at a time (``special_use``: see
    :func:`subscribers.normalize_email`), without touching the database.

    Line numbers are those of the file (the header is line 1; a quoted field spanning lines
    counts from its row's first line); blank lines are skipped. Raises :class:`InputError`
    for a file that cannot be read as CSV or has no ``email`` column, naming the line.
    """
    path = Path(path)
    try:
        # undecodable bytes stay in the text as lone surrogates, so that the row holding one is
        # reported by its own line number (a decoding error would name the line read ahead)
        handle = open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        line = 1
        try:
            email_col, name_col = _columns(next(reader, None), path)
            line = reader.line_num + 1
            for row in reader:
                start, line = line, reader.line_num + 1
                text = "".join(row)
                if not text.strip():
                    continue  # blank line
                if "\0" in text or not text.isascii():
                    _check_text(text, path, start)
                if "'" in text:
                    row = [restore(cell) for cell in row]
                try:
                    normalized = normalize_email(row[email_col] if email_col < len(row) else "",
                                                 special_use=special_use)
                except ValueError as exc:
                    yield start, None, None, None, str(exc)
                    continue
                name = row[name_col] if name_col is not None and name_col < len(row) else ""
                yield start, normalized, email_key(normalized), clean_name(name), None
        except csv.Error as exc:
            raise InputError(f"{path}:{line}: not a readable CSV file: {exc}") from None


def _columns(header: list[str] | None, path: Path) -> tuple[int, int | None]:
    """The positions of the ``email`` and ``name`` columns in the header row."""
    if header is None:
        raise InputError(f"{path}: empty file, expected a header row with an 'email' column")
    _check_text("".join(header), path, 1)
    names = [h.strip().lower() for h in header]
    if "email" not in names:
        raise InputError(f"{path}:1: no 'email' column in the header row")
    return names.index("email"), names.index("name") if "name" in names else None


_UNDECODED = re.compile("[\udc80-\udcff]")


def _check_text(text: str, path: Path, line: int) -> None:
    """InputError naming ``line`` when a row's ``text`` holds a NUL or bytes that are not UTF-8."""
    if "\0" in text:
        raise InputError(f"{path}:{line}: NUL byte: not a CSV text file")
    if _UNDECODED.search(text):
        raise InputError(f"{path}:{line}: not UTF-8 text: not a CSV file (save it as UTF-8)")


# -- staging and merging ------------------------------------------------------------------------


def _import(conn: Connection, rows: Iterable[Staged], now: datetime | None,
            on_reject: Callable[[str], None] | None = None, path: str | Path = "") -> ImportReport:
    """Stage ``rows``, merge them into ``subscribers``, then report the rejected ones."""
    _create_staging(conn)
    try:
        hashed = suppression.count(conn) > 0  # only then is each address's hash worth computing
        _stage(conn, rows, hashed)
        _mark_duplicates(conn)
        report = _merge(conn, to_db_time(now or now_utc()), hashed)
        for line, reason, first, email in conn.execute(
            f"SELECT line, reason, dup_of, email FROM {STAGING} WHERE reason IS NOT NULL OR dup_of IS NOT NULL"
            " ORDER BY line"
        ):
            report.rejected += 1
            if on_reject:
                on_reject(f"{path}:{line}: {reason or f'duplicate of line {first} ({email})'}")
    finally:
        _drop_staging(conn)
    return report


def _drop_staging(conn: Connection) -> None:
    schema = "pg_temp" if conn.dialect == "postgresql" else "temp"  # never a table of the schema
    conn.execute(f"DROP TABLE IF EXISTS {schema}.{STAGING}")


def _create_staging(conn: Connection) -> None:
    _drop_staging(conn)  # left by an import that failed on this connection
    conn.execute(
        f"CREATE TEMPORARY TABLE {STAGING} (line INTEGER PRIMARY KEY, email TEXT, email_key TEXT, name TEXT,"
        " reason TEXT, email_hash TEXT, key TEXT, dup_of INTEGER, held INTEGER NOT NULL DEFAULT 0)"
    )


class staging_transaction(transaction):
    """A transaction that writes only the staging table: on SQLite a plain ``BEGIN``, which
    does not take the database's write lock (signups go on meanwhile)."""

    def __enter__(self) -> Connection:
        self.conn.execute("BEGIN")
        return self.conn


def _stage(conn: Connection, rows: Iterable[Staged], hashed: bool) -> None:
    """Write ``rows`` to the staging table :data:`BATCH` at a time, each with the suppression
    hash of its address (when ``hashed``) and a fresh subscriber key.

    A batch's keys are handed out in ascending order: each is as random as ever, but the
    index on ``key`` then takes them in one sweep instead of at one random page per row (at a
    million rows, the merge takes half the time).
    """
    rows = iter(rows)
    with staging_transaction(conn):
        while batch := list(islice(rows, BATCH)):
            keys = sorted(new_keys(len(batch)))
            bulk_insert(conn, STAGING, _COLUMNS, [
                (*row, suppression.email_hash(row[2]) if hashed and row[2] else None, key)
                for row, key in zip(batch, keys, strict=True)
            ])


def _mark_duplicates(conn: Connection) -> None:
    """Later occurrences of an address get ``dup_of``, the line of its first."""
    conn.execute(f"CREATE INDEX {STAGING}_key ON {STAGING} (email_key, line)")
    with staging_transaction(conn):
        conn.execute(
            f"UPDATE {STAGING} SET dup_of = f.first FROM ("
            f"  SELECT email_key, min(line) AS first FROM {STAGING} WHERE email_key IS NOT NULL"
            "   GROUP BY email_key HAVING count(*) > 1"
            f") AS f WHERE {STAGING}.email_key = f.email_key AND {STAGING}.line > f.first"
        )


def _merge(conn: Connection, stamp: str, hashed: bool) -> ImportReport:
    """The staged first occurrences into ``subscribers``, in one transaction (consent
    ``import``). Existing addresses keep their status (an unsubscribed one stays so) and
    spelling; a non-empty, different name replaces the stored one. An erased address that is
    not a subscriber again is not imported."""
    good = f"{STAGING}.reason IS NULL AND {STAGING}.dup_of IS NULL"
    with transaction(conn):
        if hashed:
            conn.execute(
                f"UPDATE {STAGING} SET held = 1 WHERE {good} AND email_hash IN (SELECT email_hash FROM suppressions)"
                f" AND NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.email_key = {STAGING}.email_key)"
            )
        renamed = conn.execute(
            f"UPDATE subscribers SET name = {STAGING}.name FROM {STAGING} WHERE subscribers.email_key ="
            f" {STAGING}.email_key AND {good} AND {STAGING}.name != '' AND subscribers.name != {STAGING}.name"
        ).rowcount
        new = conn.execute(
            "INSERT INTO subscribers (email, email_key, name, status, subscribed_at, key, consent_source, consent_at)"
            f" SELECT email, email_key, name, 'active', ?, key, 'import', ? FROM {STAGING}"
            f" WHERE {good} AND held = 0 ORDER BY line ON CONFLICT (email_key) DO NOTHING",
            (stamp, stamp),
        ).rowcount
        staged = conn.execute(f"SELECT count(*) FROM {STAGING} WHERE {good}").fetchone()[0]
    if new:
        analyze(conn, "subscribers")
    held = [r[0] for r in conn.execute(f"SELECT email FROM {STAGING} WHERE held = 1 ORDER BY line")] if hashed else []
    return ImportReport(new=new, present=staged - new - len(held), renamed=renamed, suppressed=held)
