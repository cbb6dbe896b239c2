"""Public pages, open without login: one-click unsubscribe (RFC 8058) and the web view of an issue.

``GET /unsubscribe/<token>`` only shows a confirmation page with a button; ``POST`` (the
button, or a mail client's ``List-Unsubscribe=One-Click``, no cookies) unsubscribes and
answers 200, repeatably. A forged or altered token gets 400 and changes nothing. This
blueprint is exempt from CSRF checks: its POST is authorised by the signed token alone.
"""
from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, render_template, request

from .. import delivery, links, store, subscribers
from ..compose import TOKENS
from ..errors import InputError

bp = Blueprint("public", __name__)


def init_app(app: Flask) -> None:
    """Register the blueprint and exempt it from Flask-WTF's CSRFProtect (set up before or after)."""
    app.register_blueprint(bp)

    def exempt_public() -> None:
        csrf = app.extensions.get("csrf")
        if csrf is not None and bp not in csrf._exempt_blueprints:
            csrf.exempt(bp)

    app.before_request_funcs.setdefault(None, []).insert(0, exempt_public)


def _page(template: str, status: int = 200, **values):
    nl = current_app.config["NEWSLETTER"]["newsletter"]
    html = render_template(f"public/{template}", newsletter=nl["name"], language=nl["language"], **values)
    return html, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _connect():
    return store.connect(current_app.config["NEWSLETTER"].database_path)


@bp.route("/unsubscribe")
def unsubscribe_help():
    return _page("message.html", title="Unsubscribe",
                 message="Use the unsubscribe link at the bottom of any message you received.")


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    config = current_app.config["NEWSLETTER"]
    try:
        subscriber_id, email = links.read_unsubscribe_token(config, token)
    except InputError:
        return _page("message.html", 400, title="Invalid link",
                     message="This unsubscribe link is not valid. Copy the whole link from the "
                     "message, or use the link in a more recent message.")
    if request.method == "GET":
        return _page("confirm.html", email=email)
    conn = _connect()
    try:
        sub = subscribers.get(conn, subscriber_id)
        if sub is not None and sub.email.lower() == email.lower():
            with store.transaction(conn):
                subscribers.unsubscribe(conn, subscriber_id)
    finally:
        conn.close()
    return _page("done.html", email=email)


@bp.route("/issues/<int:issue_id>/view")
def webview(issue_id: int):
    config = current_app.config["NEWSLETTER"]
    conn = _connect()
    try:
        row = conn.execute("SELECT * FROM issues WHERE id = ?", (issue_id,)).fetchone()
        rendered = delivery.frozen(row) if row is not None and row["state"] in ("sending", "sent") else None
        if rendered is None:
            abort(404)
        values = {"unsubscribe_url": f"{config.base_url}/unsubscribe",
                  "webview_url": links.webview_url(config, issue_id)}
        token = request.args.get("t", "")
        if token:
            try:
                subscriber_id, email = links.read_unsubscribe_token(config, token)
            except InputError:
                subscriber_id = None
            sub = subscribers.get(conn, subscriber_id) if subscriber_id is not None else None
            if sub is not None and sub.email.lower() == email.lower():
                values.update(name=sub.name, email=sub.email,
                              unsubscribe_url=f"{config.base_url}/unsubscribe/{token}")
    finally:
        conn.close()
    html, _ = rendered.fill({key: values.get(key, "") for key in TOKENS})
    return html, 200, {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
