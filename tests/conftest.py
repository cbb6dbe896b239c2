"""Shared fixtures (flaskr style): ``config``, ``app``, ``client``, ``runner``.

Every test that uses the database (through ``overrides``/``config``, or ``database_url``
directly) runs twice: on an SQLite file and on a fresh PostgreSQL database of a throwaway
cluster the session starts (``pgserver``). Without PostgreSQL's binaries the second half skips,
saying how to install them.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter import create_app
from newsletter.cli import cli as newsletter_cli
from newsletter.cli.context import State
from newsletter.config import load_config

import pgserver
from browser import browser  # noqa: F401  (one Chromium for the whole run: a session fixture)
from helpers import CONTENT


@pytest.fixture(scope="session")
def postgres():
    """The session's PostgreSQL cluster (skips when the binaries are missing)."""
    binaries = pgserver.find_binaries()
    if binaries is None:
        pytest.skip(pgserver.INSTALL_HINT)
    cluster = pgserver.Cluster(binaries)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """"" (the SQLite file under tmp_path), or a fresh migrated PostgreSQL database's URL."""
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def overrides(tmp_path: Path, database_url: str) -> dict:
    """Config overrides that keep every test's state inside its own tmp_path (and database)."""
    return {
        "content": {"dir": str(CONTENT)},
        "database": {"path": str(tmp_path / "instance" / "newsletter.db"), "url": database_url},
        "smtp": {"outbox": str(tmp_path / "instance" / "outbox")},
    }


@pytest.fixture
def config(overrides: dict, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NEWSLETTER_CONFIG", raising=False)
    return load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "test-secret-key"})


@pytest.fixture
def app(config):
    app = create_app({"NEWSLETTER": config, "TESTING": True})
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


class CommandRunner(CliRunner):
    """Runs ``python -m newsletter`` commands in-process with the test's config."""

    def __init__(self, config):
        super().__init__()
        self.config = config

    def invoke(self, cli=None, args=None, **kwargs):
        kwargs.setdefault("obj", State(None, config=self.config))
        return super().invoke(cli or newsletter_cli, args, **kwargs)


@pytest.fixture
def runner(config):
    return CommandRunner(config)
