"""The Flask app: editor pages (login required) and public pages (unsubscribe, web view,
signup and confirmation, preferences).

:func:`create_app` knows nothing of the command line: ``python -m newsletter`` (``cli``)
imports the factory, never the reverse.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import Config, load_config
from ..errors import InputError, NewsletterError
from ..signing import secret_keys
from ..store import database_errors, storage_error
from ..terminal import printable

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = PROJECT_ROOT / "templates"

#: App-wide CSRF protection (the editors' session forms). Exempt: the public blueprint and the
#: preferences page (their POSTs carry signed tokens), and signup, which has a protection of its
#: own kind (see web/subscribe.py).
csrf = CSRFProtect()
#: the blueprints of readers' pages: no CSRF session check, and errors in the public frame
PUBLIC_BLUEPRINTS = ("public", "subscribe", "preferences")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """App factory. ``test_config`` may hold ``NEWSLETTER`` (a :class:`Config`), Flask keys,
    or ``NEWSLETTER_OVERRIDES`` (section -> key -> value, applied over the config file)."""
    test_config = dict(test_config or {})
    config: Config | None = test_config.pop("NEWSLETTER", None)
    if config is None:
        config = _load_config(test_config.pop("NEWSLETTER_OVERRIDES", None))
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=str(PROJECT_ROOT / "static"))
    app.config["NEWSLETTER"] = config
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="newsletter_session",
        SESSION_COOKIE_SECURE=config.base_url.startswith("https://"),  # never sent over plain http
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-side) session
        SEND_FILE_MAX_AGE_DEFAULT=300,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,  # CSV uploads
    )
    app.config.update(test_config)
    if not app.secret_key:  # NEWSLETTER_SECRET_KEY (newest first), else instance/secret_key (0600)
        app.secret_key, *app.config["SECRET_KEY_FALLBACKS"] = secret_keys(config)

    from . import auth, background, db, fmt, numbers, preferences, public, security, subscribe
    from .editor import bounces, dashboard, issues, preview, subscribers, testers

    proxies = config["server"]["trusted_proxies"]
    if proxies:  # client address (limits, login throttle, record_ip), scheme and host from the proxy
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    numbers.init_app(app)  # before the blueprints: their <int:...> are bounded
    security.init_app(app)
    db.init_app(app)
    background.init_app(app)
    auth.init_app(app)  # before CSRF: a request without login gets the login page, not a 400
    csrf.init_app(app)
    for blueprint in (auth.bp, public.bp, subscribe.bp, preferences.bp, dashboard.bp, issues.bp,
                      preview.bp, subscribers.bp, testers.bp, bounces.bp):
        app.register_blueprint(blueprint)
    for name in PUBLIC_BLUEPRINTS:
        csrf.exempt(app.blueprints[name])
    _register_errors(app)
    app.jinja_env.filters.update(fmt.FILTERS)
    app.jinja_env.globals.update(newsletter_name=lambda: app.config["NEWSLETTER"]["newsletter"]["name"])
    address = _flask_run_address()
    if address is not None:
        auth.announce(config, *address)
    return app


def _flask_run_address() -> tuple[str, int] | None:
    """The (host, port) of ``flask --app newsletter run [--host H] [--port P]``, so that it
    prints the login link as ``serve`` does; None under anything else."""
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true" or "run" not in sys.argv[1:]:
        return None
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-h", "--host", default=os.environ.get("FLASK_RUN_HOST") or "127.0.0.1")
    parser.add_argument("-p", "--port", default=os.environ.get("FLASK_RUN_PORT") or "5000")
    known, _ = parser.parse_known_args(sys.argv[sys.argv.index("run") + 1:])
    try:
        return known.host, int(known.port)
    except ValueError:
        return None  # Flask itself reports the bad port


def _load_config(overrides: dict | None) -> Config:
    """The config as the CLI reads it. Under ``flask --app newsletter ...`` a bad config is one
    ``error:`` line and the contract's exit status; under a WSGI server the error propagates
    to its log."""
    try:
        return load_config(overrides=overrides)
    except NewsletterError as exc:
        if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
            raise
        print(printable(f"error: {exc}"), file=sys.stderr)
        raise SystemExit(exc.exit_code) from None


def _register_errors(app: Flask) -> None:
    from flask import make_response, request

    from .auth import logged_in
    from .public import error_page

    def page(status: int, title: str, message: str) -> ResponseReturnValue:
        """The editor's error page for editors on editor pages; the public frame for a public
        address, and for anyone not logged in (they are readers, not editors)."""
        if request.blueprint in PUBLIC_BLUEPRINTS or not logged_in():
            return make_response(error_page(status, title, message))
        return make_response(render_template("web/error.html", status=status, title=title, message=message), status)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> ResponseReturnValue:
        return page(400, "Form expired", "The form was missing its security token. "
                    "Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        if exc.code == 404:
            return page(404, "Not found", "There is nothing at this address.")
        return page(exc.code or 500, exc.name, exc.description or "")

    @app.errorhandler(InputError)
    def input_error(exc: InputError) -> ResponseReturnValue:
        return page(404, "Not found", str(exc))

    @app.errorhandler(NewsletterError)
    def newsletter_error(exc: NewsletterError) -> ResponseReturnValue:
        return page(400, "Cannot do that", str(exc))

    def database_error(exc: Exception) -> ResponseReturnValue:
        config = app.config["NEWSLETTER"]
        app.logger.error("%s", storage_error(exc, config))
        response = page(503, "Try again in a moment", "The database is busy or cannot take more"
                        " data right now. Nothing was changed.")
        response.headers["Retry-After"] = "5"
        return response

    for error_class in database_errors():
        app.register_error_handler(error_class, database_error)

    @app.errorhandler(500)
    def server_error(exc: Exception) -> ResponseReturnValue:
        return page(500, "Something went wrong", "The error has been logged. "
                    "Go back and try again, or check the server's console.")
