"""Editor login: a password (``NEWSLETTER_EDITOR_PASSWORD``) or, with none set, one-time links.

Sessions live server-side in ``instance/editor-auth.json`` (0600, hashes only) so that logging
out really ends them; the signed cookie carries only a random session id. One-time login
tokens (as Jupyter prints them) go in the same file, so ``python -m newsletter login-link``
can hand out a new one to a running server. Password guesses are throttled per client address
and overall (:mod:`newsletter.login_throttle`): past the limit, 429 and "try again in N s".
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from .. import login_throttle
from ..config import Config
from ..private_files import private_fd, write_private
from ..store import now_utc
from ..terminal import printable
from .db import get_db
from .security import safe_next

bp = Blueprint("auth", __name__)

TOKEN_LIFETIME = 24 * 3600
SESSION_LIFETIME = 14 * 24 * 3600
#: endpoints (besides the blueprints below) open without login
OPEN_ENDPOINTS = {"static"}
OPEN_BLUEPRINTS = {"auth", "public", "subscribe", "preferences"}


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class AuthStore:
    """Login tokens and editor sessions, as hashes with expiry times, in one JSON file."""

    def __init__(self, instance: Path):
        self.path = instance / "editor-auth.json"
        self.lock = instance / "editor-auth.lock"

    @contextmanager
    def _data(self, write: bool) -> Iterator[dict]:
        with open(private_fd(self.lock, os.O_WRONLY), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                data = {}
            data.setdefault("tokens", {})
            data.setdefault("sessions", {})
            now = time.time()
            for table in ("tokens", "sessions"):
                data[table] = {k: v for k, v in data[table].items() if v["expires"] > now}
            yield data
            if write:
                write_private(self.path, json.dumps(data, indent=1))

    def new_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._data(write=True) as data:
            data["tokens"][_digest(token)] = {"expires": time.time() + TOKEN_LIFETIME}
        return token

    def drop_tokens(self) -> None:
        """Forget every login token (a password is set: links printed before must not work)."""
        with self._data(write=True) as data:
            data["tokens"].clear()

    def use_token(self, token: str) -> bool:
        """True once for a valid token; the token is gone afterwards."""
        with self._data(write=True) as data:
            return data["tokens"].pop(_digest(token), None) is not None

    def new_session(self, fingerprint: str) -> str:
        sid = secrets.token_urlsafe(24)
        with self._data(write=True) as data:
            data["sessions"][_digest(sid)] = {
                "expires": time.time() + SESSION_LIFETIME,
                "fingerprint": fingerprint,
            }
        return sid

    def session_ok(self, sid: str, fingerprint: str) -> bool:
        with self._data(write=False) as data:
            entry = data["sessions"].get(_digest(sid))
        return entry is not None and hmac.compare_digest(entry["fingerprint"], fingerprint)

    def end_session(self, sid: str) -> None:
        with self._data(write=True) as data:
            data["sessions"].pop(_digest(sid), None)


def store_for(config: Config) -> AuthStore:
    return AuthStore(config.instance_path)


def _config() -> Config:
    return current_app.config["NEWSLETTER"]


def _fingerprint() -> str:
    """Changes when the editor password does, which ends every session made with the old one."""
    password = _config().secret("editor_password")
    return hmac.new(current_app.secret_key.encode(), password.encode(), "sha256").hexdigest()


def logged_in() -> bool:
    """Whether this request comes from a logged-in editor (checked once per request)."""
    if "editor" not in g:
        sid = session.get("sid")
        g.editor = isinstance(sid, str) and store_for(_config()).session_ok(sid, _fingerprint())
    return g.editor


def _log_in() -> None:
    session.clear()
    session["sid"] = store_for(_config()).new_session(_fingerprint())


def require_login() -> ResponseReturnValue | None:
    """App-wide ``before_request``: every endpoint needs a login unless it is public."""
    if request.endpoint is None or request.endpoint in OPEN_ENDPOINTS:
        return None
    if request.blueprint in OPEN_BLUEPRINTS or logged_in():
        return None
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return _login_page(status=401)


def _login_page(status: int = 200, error: str = ""):
    return (
        render_template(
            "web/login.html",
            password_mode=bool(_config().secret("editor_password")),
            next=request.values.get("next", ""),
            error=error,
        ),
        status,
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    target = safe_next(request.values.get("next"), url_for("dashboard.index"))
    token = request.args.get("token")
    if token and _config().secret("editor_password"):
        store_for(_config()).drop_tokens()  # printed before the password was set: never again
        return _login_page(403, "Login links no longer work: log in with the password.")
    if token:
        if store_for(_config()).use_token(token):
            _log_in()
            return redirect(target)
        return _login_page(403, "This login link has been used or has expired.")
    if request.method == "POST":
        expected = _config().secret("editor_password")
        if not expected:
            return _login_page(401, "Use the login link.")
        client = login_throttle.client_key(request.remote_addr or "", current_app.secret_key)
        wait = login_throttle.attempt(get_db(), client, now_utc())
        if wait:
            html, status = _login_page(429, f"Too many failed logins. Try again in {wait} s.")
            return html, status, {"Retry-After": str(wait)}
        if hmac.compare_digest(request.form.get("password", "").encode(), expected.encode()):
            login_throttle.succeeded(get_db(), client)
            _log_in()
            return redirect(target)
        return _login_page(401, "Wrong password.")
    if logged_in():
        return redirect(target)
    return _login_page()


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    sid = session.get("sid")
    if isinstance(sid, str):
        store_for(_config()).end_session(sid)
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


def login_link(config: Config, host: str, port: int) -> str | None:
    """A fresh one-time login URL, or None when the editor password is set."""
    if config.secret("editor_password"):
        return None
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/login?token={store_for(config).new_token()}"


def announce(config: Config, host: str, port: int) -> None:
    """Print how to log in, for the person who starts the server."""
    link = login_link(config, host, port)
    if link:
        print(printable(f" * Editor login (one-time link, valid 24 hours): {link}"), flush=True)
    else:
        print(" * Editor login: the password in NEWSLETTER_EDITOR_PASSWORD", flush=True)


def init_app(app: Flask) -> None:
    """Every request needs a login unless it is public; templates know whether it has one."""
    app.before_request(require_login)
    app.context_processor(lambda: {"editor": logged_in()})
