"""``db copy``: move the whole database between SQLite and PostgreSQL."""
from __future__ import annotations

import click

from .. import dbcopy, store
from ..config import check_database_url
from ..delivery import SendLock
from .context import current_config, current_db
from .output import echo


@click.group()
def db() -> None:
    """The database itself."""


@db.command("copy")
@click.option("--to", "target", required=True, metavar="URL_OR_PATH",
              help="The empty database to copy into: postgresql://user@host:5432/dbname (password from "
                   "PGPASSWORD or ~/.pgpass) or an SQLite file.")
def copy(target: str) -> None:
    """Copy every row of the configured database into another, empty one: SQLite into
    PostgreSQL to outgrow one machine, or back. The target gets the same schema first; the copy
    is one transaction (a failure leaves it empty) and each table's row count is checked on both
    sides. Stop the web app and cron while it runs; then point [database] at the target.
    Exit status 2 when the target cannot be reached or is not empty.
    """
    config = current_config()
    if store.is_database_url(target):
        check_database_url(target, "--to")
    source = current_db()
    with SendLock(config, source):  # no send writes to the ledger meanwhile
        destination = store.connect(target)
        try:
            copied = dbcopy.copy(source, destination, progress=_progress())
        finally:
            destination.close()
    for table in copied:
        echo(f"{table.name}\t{table.rows}")
    echo(f"copied {sum(t.rows for t in copied)} rows in {len(copied)} tables; row counts match", err=True)


def _progress():
    """Every 100,000 rows of a table, a line on stderr (a long copy shows it is moving)."""
    def report(table: str, rows: int) -> None:
        if rows and rows % 100_000 == 0:
            echo(f"  {table}: {rows} rows…", err=True)
    return report


COMMANDS = (db,)
