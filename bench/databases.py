"""The two databases every benchmark measures: an SQLite file, and a PostgreSQL database of a
throwaway cluster started as the tests start theirs (``tests/pgserver.py``), but with
PostgreSQL's default durability (fsync on), as a real server runs.

    with databases(tmp) as targets:
        for target in targets:          # Target("SQLite", ...), then Target("PostgreSQL", ...)
            config = target.config(tmp / target.name)

Without PostgreSQL's binaries only SQLite is measured, and a line says how to install them.
"""
from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import pgserver  # noqa: E402  (tests/pgserver.py, found through the path above)


@dataclass
class Target:
    """One database to measure: ``url`` empty for SQLite (a file under the given folder)."""

    name: str
    url: str = ""

    def settings(self, folder: Path) -> dict:
        """The ``[database]`` settings of this target, its SQLite file under ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        return {"path": str(folder / "bench.db"), "url": self.url}

    def toml(self, folder: Path) -> str:
        """The same as a config file's ``[database]`` table."""
        values = self.settings(folder)
        return f'[database]\npath = "{values["path"]}"\nurl = "{values["url"]}"\n'


@contextlib.contextmanager
def databases(only: str = "") -> Iterator[list[Target]]:
    """SQLite and (when its binaries are installed) a fresh PostgreSQL database per call of
    ``new_postgres``; ``only`` ("sqlite" or "postgresql") keeps one of them."""
    cluster = None
    targets = [Target("SQLite")] if only in ("", "sqlite") else []
    if only in ("", "postgresql"):
        binaries = pgserver.find_binaries()
        if binaries is None:
            print(f"PostgreSQL: skipped ({pgserver.INSTALL_HINT})")
        else:
            cluster = pgserver.Cluster(binaries, durable=True)
            cluster.start()
            targets.append(Target("PostgreSQL", cluster.new_database()))
    try:
        yield targets
    finally:
        if cluster is not None:
            cluster.stop()
