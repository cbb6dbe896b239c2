"""The two databases every benchmark measures: SQLite files, and PostgreSQL databases of a
throwaway cluster started as the tests start theirs (``tests/pgserver.py``), but with
PostgreSQL's default durability (fsync on), as a real server runs.

    with databases() as targets:
        for target in targets:                       # SQLite, then PostgreSQL
            settings = target.new_database(folder)   # a fresh, empty [database] table

Without PostgreSQL's binaries only SQLite is measured, and a line says how to install them.
"""
from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import pgserver  # noqa: E402  (tests/pgserver.py, found through the path above)


@dataclass
class Target:
    """One database engine to measure; ``cluster`` is None for SQLite."""

    name: str
    cluster: pgserver.Cluster | None = None

    def new_database(self, folder: Path) -> dict:
        """The ``[database]`` settings of a fresh database: an SQLite file in ``folder``
        (created), or a new PostgreSQL database."""
        folder.mkdir(parents=True, exist_ok=True)
        url = self.cluster.new_database() if self.cluster else ""
        return {"path": str(folder / "bench.db"), "url": url}


def toml(settings: dict) -> str:
    """``settings`` as a config file's ``[database]`` table."""
    return "[database]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())


@contextlib.contextmanager
def databases(only: str = "") -> Iterator[list[Target]]:
    """SQLite and, when its binaries are installed, PostgreSQL; ``only`` ("sqlite" or
    "postgresql") keeps one of them. The cluster is stopped and removed at the end."""
    cluster = None
    targets = [Target("SQLite")] if only in ("", "sqlite") else []
    if only in ("", "postgresql"):
        binaries = pgserver.find_binaries()
        if binaries is None:
            print(f"PostgreSQL: skipped ({pgserver.INSTALL_HINT})")
        else:
            cluster = pgserver.Cluster(binaries, durable=True)
            cluster.start()
            targets.append(Target("PostgreSQL", cluster))
    try:
        yield targets
    finally:
        if cluster is not None:
            cluster.stop()
