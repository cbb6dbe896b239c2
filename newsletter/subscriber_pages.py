"""The subscriber list as the editor reads it: a search, and one page of it at a time.

A search matches the subscribers whose address starts with the text typed, in any case
(``ann`` finds ``Ann.Lee@example.com``, ``ann.lee@ex`` narrows it down), optionally of one
status. The database finds them through an index on the address (a range of it: no row is
read that does not match), and the list of everyone, or of a status, from the kept counts
(:mod:`tallies`), so that a page takes the same time with a hundred subscribers or a million.

Pages are in subscriber order (the order they joined), :data:`PAGE_SIZE` a page. Moving to the
next or previous page continues from the last or first subscriber shown (keyset pagination);
a page asked for by its number alone is counted from whichever end of the list is nearer, so
the last page is as quick as the first.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import tallies
from .store import Connection
from .subscribers import COLUMNS, Subscriber

#: subscribers per page
PAGE_SIZE = 50
#: the largest code point: a prefix ending in it cannot be bounded by its successor
_TOP = 0x10FFFF


@dataclass(frozen=True)
class Search:
    """What the editor asked for: the start of an address ("" for anyone), and a status ("" for any)."""

    query: str = ""
    status: str = ""

    def where(self, conn: Connection) -> tuple[str, list]:
        """The SQL condition and its arguments."""
        parts, args = ["1 = 1"], []
        if self.query:
            low, high = prefix_range(self.query.lower())
            # PostgreSQL compares text by the database's collation unless told to compare code points
            column = 'email_key COLLATE "C"' if conn.dialect == "postgresql" else "email_key"
            parts.append(f"{column} >= ?" + (f" AND {column} < ?" if high else ""))
            args += [low, high] if high else [low]
        if self.status:  # with an address, looked for among its matches (SQLite would read every status' row)
            parts.append("status || '' = ?" if self.query else "status = ?")
            args.append(self.status)
        return " AND ".join(parts), args


def prefix_range(prefix: str) -> tuple[str, str]:
    """The range of text holding every string that starts with ``prefix``, compared by code
    point: from ``prefix`` up to (not including) ``prefix`` with its last character moved one
    on; "" for no upper end."""
    chars = list(prefix)
    while chars and ord(chars[-1]) == _TOP:
        chars.pop()
    if not chars:
        return prefix, ""
    following = ord(chars[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not text: the next character is past them
        following = 0xE000
    return prefix, "".join(chars[:-1]) + chr(following)


def matches(conn: Connection, search: Search) -> int:
    """How many subscribers ``search`` finds: kept counts when no text was typed."""
    if not search.query:
        return tallies.subscriber_count(conn, search.status or None)
    where, args = search.where(conn)
    return conn.execute(f"SELECT count(*) FROM subscribers WHERE {where}", args).fetchone()[0]


def page(conn: Connection, search: Search, number: int, total: int, *, after: int | None = None,
         before: int | None = None, size: int = PAGE_SIZE) -> list[Subscriber]:
    """Page ``number`` (from 1) of the ``total`` subscribers ``search`` finds, in id order:
    the ``size`` after subscriber ``after``, or before subscriber ``before``, when given."""
    where, args = search.where(conn)
    # "+id": SQLite would otherwise walk every subscriber in id order instead of the address index
    order = "+id" if search.query else "id"
    if after is not None:
        return _rows(conn, f"{where} AND id > ? ORDER BY {order} LIMIT ?", [*args, after, size])
    if before is not None:
        return _rows(conn, f"{where} AND id < ? ORDER BY {order} DESC LIMIT ?", [*args, before, size])[::-1]
    start = (number - 1) * size
    end = min(start + size, total)
    if start <= total - end:
        return _rows(conn, f"{where} ORDER BY {order} LIMIT ? OFFSET ?", [*args, size, start])
    return _rows(conn, f"{where} ORDER BY {order} DESC LIMIT ? OFFSET ?", [*args, end - start, total - end])[::-1]


def _rows(conn: Connection, sql: str, args: list) -> list[Subscriber]:
    return [Subscriber.from_row(row) for row in conn.execute(f"SELECT {COLUMNS} FROM subscribers WHERE {sql}", args)]
