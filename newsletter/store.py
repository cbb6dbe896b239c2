"""The database: SQLite (the embedded default) or PostgreSQL, connections and migrations.

``[database] path`` is an SQLite file (WAL mode); ``[database] url`` a PostgreSQL database
(:mod:`postgres`). The code writes its queries once, with ``?`` placeholders, for what both
dialects agree on; where they differ it asks ``conn.dialect``. Both are migrated forward on
every open from the same list (:mod:`migrations`). Times are stored as UTC ISO-8601 text
(``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``), so they sort as text in both.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence, Union

from .errors import ConfigError, StorageError
from .migrations import MIGRATIONS, script
from .private_files import make_owner_only, private_fd

if TYPE_CHECKING:
    from .config import Config
    from .postgres import PgConnection
    from .postgres import Row as PgRow


class SqliteConnection(sqlite3.Connection):
    """sqlite3's connection, named by dialect like :class:`postgres.PgConnection`."""

    dialect = "sqlite"
    begin = "BEGIN IMMEDIATE"  # take the write lock at the start: writers queue, never deadlock

    def pipeline(self) -> contextlib.AbstractContextManager:
        """Nothing to do: SQLite has no round trips (see :meth:`postgres.PgConnection.pipeline`)."""
        return contextlib.nullcontext()


#: what every function taking ``conn`` accepts, and the rows its queries return
Connection = Union[SqliteConnection, "PgConnection"]
Row = Union[sqlite3.Row, "PgRow"]


#: the largest row id (SQLite's INTEGER is 64-bit signed, as is PostgreSQL's BIGINT)
MAX_ID = 2**63 - 1


def is_row_id(value: int) -> bool:
    """Whether ``value`` can be a row's id at all (1 .. :data:`MAX_ID`); a bigger number
    cannot be bound as a query parameter, so callers answer "no such row" without asking."""
    return 0 < value <= MAX_ID


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def to_db_time(moment: datetime) -> str:
    """A timezone-aware datetime as the stored UTC text."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_db_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def database_errors() -> tuple[type[Exception], ...]:
    """What a query raises when the database itself fails (locked too long, disk full, I/O):
    the edges turn it into a :class:`StorageError` (:func:`storage_error`)."""
    try:
        import psycopg
    except ImportError:  # PostgreSQL support not installed: only SQLite can fail
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)


#: what the database says when a write waited too long for a lock, or the disk is full
_LOCKED = ("database is locked", "database table is locked", "lock timeout", "busy")
_FULL = ("disk is full", "no space left", "could not extend")


def storage_error(exc: Exception, config: "Config") -> StorageError:
    """One line for a failure of ``config``'s database, naming it, for the user to act on."""
    where = config.database_url or config.database_path
    text = " ".join(str(exc).split())
    lowered = text.lower()
    if any(sign in lowered for sign in _LOCKED):
        return StorageError(f"{where}: the database is locked: another program held it for longer than"
                            f" database.busy_timeout ({config['database']['busy_timeout']:g} s); try again")
    if any(sign in lowered for sign in _FULL):
        return StorageError(f"{where}: the database or disk is full; free some space and try again")
    return StorageError(f"{where}: database error: {text}")


def connect(target: "Config | str | os.PathLike") -> Connection:
    """Open and migrate the configured database (a :class:`Config`), a PostgreSQL URL, or an
    SQLite file. A write waits up to ``database.busy_timeout`` seconds for another program's
    write."""
    url = getattr(target, "database_url", None)
    if isinstance(target, str) and is_database_url(target):
        url = target
    values = getattr(target, "values", None)  # a Config's settings (not a bare path or URL)
    busy_timeout = values["database"]["busy_timeout"] if values else 30.0
    if url:
        return _connect_postgres(url, busy_timeout)
    return _connect_sqlite(Path(getattr(target, "database_path", target)), busy_timeout)


def is_database_url(text: str) -> bool:
    """Whether ``text`` names a PostgreSQL database rather than an SQLite file."""
    return text.startswith(("postgresql://", "postgres://"))


def _connect_sqlite(path: Path, busy_timeout: float) -> SqliteConnection:
    """Autocommit mode (``isolation_level=None``): callers group writes with :class:`transaction`.
    The file is the owner's alone (0600, and so its ``-wal`` and ``-shm``, which SQLite creates
    with the file's mode). An existing file is never opened here: closing that descriptor
    would drop the locks of this process's other connections to it (and another process could
    then delete the ``-shm`` they use)."""
    try:
        try:
            os.close(private_fd(path, os.O_RDWR | os.O_EXCL))
        except FileExistsError:
            pass
        make_owner_only(path, Path(f"{path}-wal"), Path(f"{path}-shm"))
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False,
                               factory=SqliteConnection)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path}: cannot open database: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create database: {exc.strerror}") from None
    return conn


def _connect_postgres(url: str, busy_timeout: float) -> "PgConnection":
    import psycopg

    from .postgres import connect as pg_connect

    conn = pg_connect(url)
    try:
        # a lock held by another program for longer than this fails the statement (0 would wait for ever)
        conn.execute(f"SET lock_timeout = {max(1, int(busy_timeout * 1000))}")
        migrate(conn)
    except psycopg.Error as exc:
        conn.close()
        raise ConfigError(f"database.url: cannot migrate the database: {' '.join(str(exc).split())}") from None
    return conn


#: the advisory lock that serialises PostgreSQL migrations across processes and hosts
_MIGRATION_LOCK = 0x6E6C6D67  # "nlmg"


def migrate(conn: Connection) -> None:
    """Bring the schema to the newest version, one migration per transaction; a second process
    migrating at the same time waits, then finds nothing left to do.

    On SQLite a migration may rebuild a table others refer to (its way to change a
    constraint): foreign keys are off while migrations run, and checked whole before each
    commits. PostgreSQL alters constraints in place and checks references itself.
    """
    version = _version(conn)
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(
            f"schema version {version} is newer than this program knows ({len(MIGRATIONS)})"
        )
    if version == len(MIGRATIONS):
        return
    if conn.dialect == "sqlite":
        conn.execute("PRAGMA foreign_keys=OFF")  # only outside a transaction
    try:
        for number in range(version, len(MIGRATIONS)):
            _apply(conn, number)
    finally:
        if conn.dialect == "sqlite":
            conn.execute("PRAGMA foreign_keys=ON")


def _apply(conn: Connection, number: int) -> None:
    with transaction(conn):
        if conn.dialect == "postgresql":
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
        if _version(conn) != number:
            return  # another process applied it meanwhile
        _run_script(conn, script(number, conn.dialect))
        if conn.dialect == "sqlite":
            broken = conn.execute("PRAGMA foreign_key_check").fetchone()
            if broken:
                raise sqlite3.DatabaseError(f"migration {number + 1} leaves a broken reference in table {broken[0]}")
        _set_version(conn, number + 1)


def _version(conn: Connection) -> int:
    if conn.dialect == "sqlite":
        return conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return row[0] or 0


def _set_version(conn: Connection, version: int) -> None:
    if conn.dialect == "sqlite":
        conn.execute(f"PRAGMA user_version = {int(version)}")
    else:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))


def _run_script(conn: Connection, sql: str) -> None:
    if conn.dialect == "postgresql":
        conn.raw.execute(sql)  # several statements, dollar-quoted bodies: sent as written
        return
    for statement in _statements(sql):
        conn.execute(statement)


def _statements(script: str) -> list[str]:
    """Split an SQLite migration into statements (a ``;`` inside a comment, string or trigger
    body does not split)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    if pending.strip():
        raise sqlite3.DatabaseError(f"incomplete statement in migration: {pending.strip()[:60]}")
    return statements


def bulk_insert(conn: Connection, table: str, columns: tuple[str, ...], rows: Iterable[Sequence]) -> None:
    """Insert many rows, streamed (constant memory): PostgreSQL's ``COPY``, SQLite's
    ``executemany``. Inside the caller's transaction."""
    listed = ", ".join(columns)
    if conn.dialect == "postgresql":
        with conn.raw.cursor().copy(f"COPY {table} ({listed}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    conn.executemany(f"INSERT INTO {table} ({listed}) VALUES ({', '.join('?' * len(columns))})", rows)


def analyze(conn: Connection, table: str) -> None:
    """After adding many rows to ``table``: PostgreSQL's planner gets fresh statistics (until
    autovacuum comes by it would think the table as small as it was, and may pick an index
    that scans every new row). SQLite's planner keeps no statistics: nothing to do."""
    if conn.dialect == "postgresql":
        conn.execute(f"ANALYZE {table}")


class transaction:
    """``with transaction(conn):`` runs the block in one transaction (SQLite: ``BEGIN
    IMMEDIATE``, so writers queue instead of failing), committed at the end, rolled back on an
    exception."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def __enter__(self) -> Connection:
        self.conn.execute(self.conn.begin)
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            rollback(self.conn)


def rollback(conn: Connection) -> None:
    """Undo the open transaction, if any: after an I/O error or a full disk SQLite has already
    rolled it back, and a second ROLLBACK would hide that error behind its own."""
    if in_transaction(conn):
        try:
            conn.execute("ROLLBACK")
        except database_errors():
            pass  # the error being handled is the one to report


def in_transaction(conn: Connection) -> bool:
    """Whether a transaction is open on ``conn``."""
    if conn.dialect == "sqlite":
        return conn.in_transaction
    from psycopg.pq import TransactionStatus

    return conn.raw.info.transaction_status != TransactionStatus.IDLE
