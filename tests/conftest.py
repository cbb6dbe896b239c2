"""Shared fixtures (flaskr style): ``config``, ``app``, ``client``, ``runner``."""
from __future__ import annotations

from pathlib import Path

import pytest

from browser import browser  # noqa: F401  (one Chromium for the whole run: a session fixture)
from newsletter import create_app
from newsletter.config import load_config

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
SEED = ROOT / "tests" / "samples" / "000_c1508f7e4351951f.txt"  # copy of shared/seeds


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


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
