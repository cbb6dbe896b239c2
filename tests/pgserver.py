"""A throwaway PostgreSQL cluster for the tests: initdb into a temporary folder, the server on
127.0.0.1 and a free port, stopped and removed at the end of the session.

PostgreSQL refuses to run as root, so under root (CI, containers) the cluster belongs to the
``postgres`` user that Debian's package creates, and its programs run through ``runuser``.
Without the binaries (Debian: ``apt-get install postgresql``) :func:`find_binaries` returns
None and the PostgreSQL half of the suite is skipped with that advice.
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

INSTALL_HINT = ("PostgreSQL binaries not found: install them (Debian: apt-get install postgresql) "
                "to run the PostgreSQL half")


def find_binaries() -> Path | None:
    """The folder holding initdb and postgres (newest version first), or None."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "postgres").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found and shutil.which("postgres") else None


class Cluster:
    """One running cluster; :meth:`new_database` hands out fresh, migrated databases."""

    def __init__(self, binaries: Path, *, durable: bool = False):
        self.binaries = binaries
        self.durable = durable  # False: no fsync (tests); True: PostgreSQL's defaults (benchmarks)
        self.folder = Path(tempfile.mkdtemp(prefix="newsletter-pg-"))
        self.data = self.folder / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # the server will not run as root: run it as Debian's postgres user
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = 0
        self.process: subprocess.Popen | None = None
        self._names = itertools.count(1)
        self.template = ""

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(str(self.binaries / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        fast = [] if self.durable else ["-c", "fsync=off", "-c", "synchronous_commit=off",
                                        "-c", "full_page_writes=off"]
        for _ in range(5):  # postgres cannot bind port 0: pick a free port, retry on a clash
            self.port = _free_port()
            self.process = subprocess.Popen(
                [*self.as_user, str(self.binaries / "postgres"), "-D", str(self.data), "-h", "127.0.0.1",
                 "-p", str(self.port), "-k", str(self.folder), *fast, "-c", "max_connections=200"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            if self._ready():
                return
            self.process.kill()
            self.process.wait()
        raise RuntimeError(f"PostgreSQL did not start: {self.process.stderr.read().decode()[-500:]}")

    def _ready(self) -> bool:
        import psycopg

        for _ in range(200):  # bounded: about 20 s
            if self.process.poll() is not None:
                return False
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=1).close()
                return True
            except psycopg.OperationalError:
                import time

                time.sleep(0.1)
        return False

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def new_database(self, migrated: bool = True) -> str:
        """A fresh database's URL: a copy of a migrated template, or empty (``migrated=False``)."""
        name = f"t{next(self._names)}"
        if migrated:
            if not self.template:
                self.template = "nl_template"
                self.admin(f"CREATE DATABASE {self.template}")
                from newsletter.store import connect

                connect(_Target(self.url(self.template))).close()
            self.admin(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        else:
            self.admin(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """Immediate shutdown (a throwaway cluster: no need to wait for clients or a checkpoint)."""
        if self.process is not None and self.process.poll() is None:
            subprocess.run([*self.as_user, str(self.binaries / "pg_ctl"), "stop", "-D", str(self.data),
                            "-m", "immediate"], capture_output=True, timeout=60)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class _Target:
    """What store.connect needs of a config: just the URL."""

    def __init__(self, url: str):
        self.database_url = url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
