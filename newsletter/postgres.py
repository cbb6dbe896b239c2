"""PostgreSQL through psycopg 3, behind the same small interface the code uses of sqlite3.

:class:`PgConnection` takes the queries written for SQLite (``?`` placeholders) and runs them on
PostgreSQL; rows answer to both ``row[0]`` and ``row["name"]`` like ``sqlite3.Row``. Where the
dialects differ the caller asks ``conn.dialect`` (see :mod:`store`); nothing else changes.

The password never comes from the config file: libpq reads ``PGPASSWORD`` or ``~/.pgpass``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .errors import ConfigError

if TYPE_CHECKING:  # psycopg is imported when a PostgreSQL database is opened
    import psycopg

DIALECT = "postgresql"


class Row(tuple):
    """A result row: a tuple whose values can also be read by column name."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=256)
def _shaped(names: tuple[str, ...]) -> type[Row]:
    """The Row class of one result shape."""
    return type("Row", (Row,), {"__slots__": (), "_index": {name: i for i, name in enumerate(names)}})


def _row_factory(cursor):
    """psycopg row factory: rows of the Row class of this result's column names."""
    return _shaped(tuple(column.name for column in cursor.description or ()))


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """A query written for SQLite's ``?`` placeholders, for psycopg: ``?`` becomes ``%s`` and a
    literal ``%`` becomes ``%%``, except inside quoted strings and identifiers (where only
    ``%`` is doubled)."""
    out: list[str] = []
    quote = ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


class PgConnection:
    """A psycopg connection in autocommit mode: transactions are explicit ``BEGIN`` … ``COMMIT``
    (see :class:`store.transaction`), as they are on SQLite."""

    dialect = DIALECT
    begin = "BEGIN"

    def __init__(self, raw):
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        cursor = self.raw.cursor(row_factory=_row_factory)
        cursor.execute(translate(sql), tuple(params) if params else None)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor:
        cursor = self.raw.cursor(row_factory=_row_factory)
        cursor.executemany(translate(sql), (tuple(row) for row in rows))
        return cursor

    def pipeline(self) -> psycopg.Pipeline:
        """``with conn.pipeline():`` sends the block's statements without waiting for each
        answer (psycopg's pipeline mode): a transaction of several statements costs a round
        trip or two instead of one per statement. Reading a result waits for it."""
        return self.raw.pipeline()

    def close(self) -> None:
        self.raw.close()


def connect(url: str) -> PgConnection:
    """Open a connection to ``url`` (``postgresql://user@host:port/dbname``)."""
    import psycopg

    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="newsletter")
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"database.url: cannot connect to PostgreSQL: {reason}") from None
    return PgConnection(raw)
