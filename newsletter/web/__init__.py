"""The Flask app: editor pages (login required) and public pages (unsubscribe, web view)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from ..config import Config, load_config
from ..errors import InputError, NewsletterError

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = PROJECT_ROOT / "templates"

#: App-wide CSRF protection; a view that must take cross-site POSTs calls ``csrf.exempt``.
csrf = CSRFProtect()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """App factory. ``test_config`` may hold ``NEWSLETTER`` (a :class:`Config`), Flask keys,
    or ``NEWSLETTER_OVERRIDES`` (section -> key -> value, applied over the config file)."""
    test_config = dict(test_config or {})
    config: Config | None = test_config.pop("NEWSLETTER", None)
    if config is None:
        try:
            config = load_config(overrides=test_config.pop("NEWSLETTER_OVERRIDES", None))
        except NewsletterError as exc:
            if click.get_current_context(silent=True) is None:
                raise  # a WSGI server: its log shows the error
            click.echo(f"error: {exc}", err=True)  # `flask --app newsletter ...`: one line, no traceback
            raise SystemExit(exc.exit_code) from None
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(PROJECT_ROOT / "static"))
    app.config["NEWSLETTER"] = config
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="newsletter_session",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-side) session
        SEND_FILE_MAX_AGE_DEFAULT=300,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,  # CSV uploads
    )
    app.config.update(test_config)
    if not app.secret_key:  # NEWSLETTER_SECRET_KEY (newest first), else instance/secret_key (0600)
        from ..links import secret_keys

        app.secret_key, *app.config["SECRET_KEY_FALLBACKS"] = secret_keys(config)

    from . import auth, db, security

    security.init_app(app)
    db.init_app(app)
    auth.init_app(app)  # before CSRF: a request without login gets the login page, not a 400
    csrf.init_app(app)
    _register_errors(app)
    _register_filters(app)

    from .editor import bp as editor_bp

    app.register_blueprint(editor_bp)

    from . import public

    public.init_app(app)  # unsubscribe and web view: no login, CSRF-exempt

    from ..cli import cli

    for command in cli.commands.values():
        app.cli.add_command(command)
    _announce_under_flask_run(app)
    return app


def _register_errors(app: Flask) -> None:
    def page(status: int, title: str, message: str):
        return render_template("web/error.html", status=status, title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return page(400, "Form expired", "The form was missing its security token. "
                    "Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 404:
            return page(404, "Not found", "There is nothing at this address.")
        return page(exc.code or 500, exc.name, exc.description or "")

    @app.errorhandler(InputError)
    def input_error(exc: InputError):
        return page(404, "Not found", str(exc))

    @app.errorhandler(NewsletterError)
    def newsletter_error(exc: NewsletterError):
        return page(400, "Cannot do that", str(exc))

    @app.errorhandler(500)
    def server_error(exc: Exception):
        return page(500, "Something went wrong", "The error has been logged. "
                    "Go back and try again, or check the server's console.")


def _register_filters(app: Flask) -> None:
    from . import fmt

    app.jinja_env.filters.update(fmt.FILTERS)
    app.jinja_env.globals.update(newsletter_name=lambda: app.config["NEWSLETTER"]["newsletter"]["name"])


def _announce_under_flask_run(app: Flask) -> None:
    """Under ``flask --app newsletter run`` print the login link as ``serve`` does."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name != "run" or app.testing:
        return
    from .auth import announce

    announce(app.config["NEWSLETTER"], ctx.params.get("host") or "127.0.0.1", ctx.params.get("port") or 5000)
