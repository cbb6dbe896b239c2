"""The Flask app: editor pages (login required) and public pages (unsubscribe, web view)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from ..config import Config, load_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = PROJECT_ROOT / "templates"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """App factory. ``test_config`` may hold ``NEWSLETTER`` (a :class:`Config`), Flask keys,
    or ``NEWSLETTER_OVERRIDES`` (section -> key -> value, applied over the config file)."""
    test_config = dict(test_config or {})
    config: Config | None = test_config.pop("NEWSLETTER", None)
    if config is None:
        config = load_config(overrides=test_config.pop("NEWSLETTER_OVERRIDES", None))
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(PROJECT_ROOT / "static"))
    app.config["NEWSLETTER"] = config
    app.config.update(test_config)

    from ..cli import cli

    for command in cli.commands.values():
        app.cli.add_command(command)
    return app
