"""Copy the whole database to another one: SQLite into PostgreSQL when a publisher outgrows one
machine, or back. Both ends are migrated to the same schema first; the target must be empty.

Every table is copied, parents before the tables that refer to them, rows streamed in batches
(constant memory), all in one transaction on the target: a failed copy leaves the target as
empty as it was. Row counts are compared table by table afterwards. PostgreSQL's id sequences
are moved past the copied ids, so new rows get new ids. The kept counts (:mod:`tallies`) are
not copied: the target's triggers count the rows as they arrive.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from .errors import InputError
from .store import Connection, bulk_insert, transaction
from .tallies import TABLES as TALLIES

BATCH = 5000


@dataclass(frozen=True)
class TableCopy:
    name: str
    rows: int


def tables(conn: Connection) -> list[str]:
    """The schema's data tables, parents before children (bookkeeping tables left out)."""
    if conn.dialect == "sqlite":
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        parents = {name: {r[2] for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')} for name in names}
    else:
        names = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = 'BASE TABLE' AND table_name != 'schema_version' ORDER BY table_name")]
        parents = {name: set() for name in names}
        for child, parent in conn.execute(
            "SELECT tc.table_name, ccu.table_name FROM information_schema.table_constraints tc"
            " JOIN information_schema.constraint_column_usage ccu"
            " ON ccu.constraint_name = tc.constraint_name AND ccu.constraint_schema = tc.constraint_schema"
            " WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
        ):
            parents[child].add(parent)
    return [name for name in _parents_first(parents) if name not in TALLIES]


def _parents_first(parents: dict[str, set[str]]) -> list[str]:
    ordered: list[str] = []
    remaining = dict(parents)
    while remaining:  # bounded: each pass places at least one table, or the schema has a cycle
        ready = sorted(name for name, needs in remaining.items() if needs - {name} <= set(ordered))
        if not ready:
            raise InputError(f"cannot order tables with circular references: {', '.join(sorted(remaining))}")
        ordered += ready
        for name in ready:
            del remaining[name]
    return ordered


def columns(conn: Connection, table: str) -> list[str]:
    if conn.dialect == "sqlite":
        return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? ORDER BY ordinal_position", (table,))]


def count(conn: Connection, table: str) -> int:
    return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def _rows(conn: Connection, sql: str) -> Iterator[tuple]:
    """Stream a query's rows, a batch at a time (PostgreSQL: a server-side cursor)."""
    if conn.dialect == "postgresql":
        with conn.raw.transaction(), conn.raw.cursor(name="newsletter_copy") as cursor:
            cursor.itersize = BATCH
            cursor.execute(sql)
            yield from cursor
        return
    yield from conn.execute(sql)


def copy(source: Connection, target: Connection,
         progress: Callable[[str, int], None] | None = None) -> list[TableCopy]:
    """Copy every row of ``source`` into the empty ``target`` (same schema version); returns
    the row count of each table, checked equal on both sides. ``progress(table, rows)`` is
    called after each batch."""
    names = tables(source)
    missing = sorted(set(names) - set(tables(target)))
    if missing:
        raise InputError(f"the target has no table {missing[0]}: is it an older schema?")
    busy = [(name, n) for name in names if (n := count(target, name))]
    if busy:
        raise InputError(f"the target is not empty ({busy[0][1]} rows in {busy[0][0]}); copy into an empty database")
    done: list[TableCopy] = []
    with transaction(target):
        for name in names:
            wanted = columns(target, name)
            shared = [c for c in columns(source, name) if c in wanted]
            done.append(TableCopy(name, _copy_table(source, target, name, shared, progress)))
        if target.dialect == "postgresql":
            _advance_sequences(target, names)
    for table in done:
        if count(source, table.name) != table.rows or count(target, table.name) != table.rows:
            raise InputError(f"{table.name}: row counts differ after the copy "
                             f"(source {count(source, table.name)}, target {count(target, table.name)})")
    return done


def _copy_table(source: Connection, target: Connection, name: str, shared: list[str],
                progress: Callable[[str, int], None] | None) -> int:
    listed = ", ".join(f'"{c}"' for c in shared)
    batch: list[tuple] = []
    copied = 0
    for row in _rows(source, f'SELECT {listed} FROM "{name}"'):
        batch.append(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
        if len(batch) == BATCH:
            copied += _write(target, name, shared, batch)
            if progress:
                progress(name, copied)
    if batch:
        copied += _write(target, name, shared, batch)
    if progress:
        progress(name, copied)
    return copied


def _write(target: Connection, name: str, shared: list[str], batch: list[tuple]) -> int:
    """One batch into the target (PostgreSQL: one COPY, so its triggers run once); emptied."""
    bulk_insert(target, f'"{name}"', tuple(f'"{c}"' for c in shared), batch)
    written = len(batch)
    batch.clear()
    return written


def _advance_sequences(conn: Connection, names: list[str]) -> None:
    """Identity columns continue after the highest copied id."""
    for name, column in conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND is_identity = 'YES'"
    ).fetchall():
        if name in names:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', '{column}'),"
                f' coalesce((SELECT max("{column}") FROM "{name}"), 0) + 1, false)'
            )
