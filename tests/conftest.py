"""Shared fixtures (flaskr style): ``config``, ``app``, ``client``, ``runner``."""
from __future__ import annotations

from pathlib import Path

import pytest

from click.testing import CliRunner

from newsletter import create_app
from newsletter.cli import cli as newsletter_cli
from newsletter.cli.context import State
from newsletter.config import load_config

from browser import browser  # noqa: F401  (one Chromium for the whole run: a session fixture)
from helpers import CONTENT


@pytest.fixture
def overrides(tmp_path: Path) -> dict:
    """Config overrides that keep every test's state inside its own tmp_path."""
    return {
        "content": {"dir": str(CONTENT)},
        "database": {"path": str(tmp_path / "instance" / "newsletter.db")},
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
