"""Public signup: the hosted page, the form and JSON endpoint, and the confirmation link.

``POST /subscribe`` takes three kinds of request, told apart by what they carry:

- the hosted form (``GET /subscribe``): a ``form_token`` field, a signed random value that is
  also the page's own cookie (SameSite=Strict), with the time the page was served. It is this
  form's CSRF protection (a page elsewhere can neither read the token nor send the cookie) and
  the minimum-time check (``[subscribe] min_seconds``: sooner is a bot, 429);
- a plain HTML form on another site (no token, no cookie can exist there), and
- JSON (``application/json`` in and out; browsers only from ``[subscribe] allowed_origins``,
  with CORS; servers send no Origin).

None of them can subscribe anyone by itself: the address's owner confirms from the email
(double opt-in), and the abuse limits apply to all: a honeypot field, ``signups_per_hour`` per
client address, ``mails_per_day`` per email address whoever asks, bodies over 4 KB refused
(413). Abuse answers are 429 (with Retry-After), never a traceback. The answer to a signup is
the same, byte for byte, whatever the address's state; the email goes out on another thread
(:mod:`.background`), so it takes the same time too.

A confirmation link's ``GET`` only shows a button (mail scanners fetch links); its ``POST``
confirms. An expired link offers a new one; a used or forged one says so.
"""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, jsonify, make_response, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from .. import signup, subscribers, urls
from ..config import Config
from ..errors import InputError, LinkExpired
from ..signing import form_token, read_form_token, read_subscriber_token
from ..states import ConsentSource, SubscriberStatus
from .background import outbox
from .db import get_db
from .public import page, preferences_link

bp = Blueprint("subscribe", __name__)

MAX_BODY = 4096
FORM_COOKIE = "nl_form"
FORM_LIFETIME = 24 * 3600  # a hosted page left open longer must be reloaded
HONEYPOT = "website"
RETRY_AFTER = "600"


def _config() -> Config:
    return current_app.config["NEWSLETTER"]


@bp.before_request
def _limits():
    request.max_content_length = MAX_BODY  # a larger body is a 413 when the view reads it


@bp.get(urls.SUBSCRIBE, provide_automatic_options=False)
def form() -> ResponseReturnValue:
    if not _config()["subscribe"]["enabled"]:
        abort(404)
    return _form_page()


def _form_page(status: int = 200, error: str = "", email: str = "", name: str = ""):
    """The hosted page with a fresh form token and its cookie."""
    nonce = secrets.token_urlsafe(16)
    settings = _config()["subscribe"]
    response = make_response(page("subscribe.html", status, token=form_token(_config(), nonce), error=error,
                                  email=email, name=name, description=settings["description"],
                                  privacy=settings["privacy_note"], action=urls.SUBSCRIBE,
                                  honeypot=HONEYPOT))
    response.set_cookie(FORM_COOKIE, nonce, max_age=FORM_LIFETIME, path=urls.SUBSCRIBE, httponly=True,
                        samesite="Strict", secure=request.is_secure)
    return response


@bp.route(urls.SUBSCRIBE, methods=["OPTIONS"])
def preflight() -> ResponseReturnValue:
    """CORS preflight: allowed origins may POST JSON."""
    origin = request.headers.get("Origin", "")
    if origin not in _config()["subscribe"]["allowed_origins"]:
        return "", 403
    return "", 204, {**_cors(origin), "Access-Control-Allow-Methods": "POST",
                     "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "86400"}


def _cors(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


@bp.after_request
def _cors_answer(response):
    """Every answer to an allowed origin's signup (errors and 429s too) is readable by its page."""
    origin = request.headers.get("Origin", "")
    if request.method == "POST" and origin in _config()["subscribe"]["allowed_origins"]:
        response.headers.update(_cors(origin))
    return response


@bp.post(urls.SUBSCRIBE, provide_automatic_options=False)
def submit() -> ResponseReturnValue:
    config = _config()
    if not config["subscribe"]["enabled"]:
        abort(404)
    wants_json = request.is_json
    origin = request.headers.get("Origin", "")
    if wants_json and origin and origin != urls.origin(config) and origin not in config["subscribe"]["allowed_origins"]:
        return jsonify(error="this origin may not subscribe people"), 403
    fields = _fields(wants_json)
    if fields is None:
        return _refuse(wants_json, 400, "send a JSON object with an email field")
    email, name = fields.get("email", ""), fields.get("name", "")
    hosted = "form_token" in fields
    if fields.get(HONEYPOT):
        return _too_many(wants_json)
    if hosted:
        verdict = _check_hosted(fields["form_token"])
        if verdict == "expired":
            return _form_page(400, "This form had expired. Please send it again.", email, name)
        if verdict == "too fast":
            return _too_many(wants_json)
    conn = get_db()
    if not signup.client_allowed(conn, config, request.remote_addr or ""):
        return _too_many(wants_json)
    source = ConsentSource.API if wants_json else ConsentSource.FORM
    try:
        notice = signup.sign_up(conn, config, signup.Signup(email, name, source, request.remote_addr or ""))
    except InputError:
        if wants_json:
            return _refuse(True, 400, "that is not a valid email address")
        return _form_page(400, "That does not look like an email address. Please check it.", email, name)
    if notice is not None:
        outbox().submit(notice)
    return _accepted(wants_json, email.strip())


def _fields(wants_json: bool) -> dict[str, str] | None:
    """The submitted fields as strings (missing ones absent); None for JSON that is not an
    object of strings."""
    if not wants_json:
        return {k: v for k, v in request.form.items()}
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


def _check_hosted(token: str) -> str:
    """``ok``, ``too fast`` or ``expired`` (or not ours, or the cookie is missing) for the
    hosted form's token."""
    try:
        nonce, age = read_form_token(_config(), token, FORM_LIFETIME)
    except InputError:
        return "expired"
    if not secrets.compare_digest(nonce, request.cookies.get(FORM_COOKIE, "")):
        return "expired"
    return "too fast" if age < _config()["subscribe"]["min_seconds"] else "ok"


def _accepted(wants_json: bool, email: str):
    """The one answer every accepted signup gets, whatever the address's state."""
    opt_in = _config()["subscribe"]["double_opt_in"]
    message = (f"Almost done: if {email} can receive email, a message is on its way with a link to "
               "confirm your subscription." if opt_in else
               f"Thank you: {email} is subscribed. If it had unsubscribed before, a message is on "
               "its way with a link to confirm.")
    if wants_json:
        return jsonify(ok=True, message=message)
    return page("message.html", title="Check your inbox" if opt_in else "Thank you", message=message)


def _too_many(wants_json: bool):
    if wants_json:
        response = jsonify(error="too many requests; try again later")
        response.status_code = 429
    else:
        response = make_response(page("message.html", 429, title="Too many requests",
                                      message="Please wait a few minutes and try again."))
    response.headers["Retry-After"] = RETRY_AFTER
    response.headers["Cache-Control"] = "no-store"
    return response


def _refuse(wants_json: bool, status: int, message: str):
    if wants_json:
        return jsonify(error=message), status
    return page("message.html", status, title="Not subscribed", message=message)


@bp.errorhandler(413)
def too_large(_exc: RequestEntityTooLarge) -> ResponseReturnValue:
    return _refuse(request.is_json, 413, "that request is too large for a signup")


# --- the confirmation link ------------------------------------------------------------------------


@bp.route(urls.CONFIRM, methods=["GET", "POST"])
def confirm(token: str) -> ResponseReturnValue:
    config = _config()
    conn = get_db()
    try:
        ref = read_subscriber_token(config, "confirm", token)
    except LinkExpired as exc:
        return _expired(conn, exc.ref)
    except InputError:
        return page("message.html", 400, title="Invalid link",
                    message="This confirmation link is not valid. Copy the whole link from the email, "
                    "or sign up again.", action_url=urls.SUBSCRIBE, action_label="Sign up again")
    waiting = signup.awaiting(conn, ref)
    if waiting is None:
        return _used(conn, ref)
    if request.method == "GET":  # only the button: a mail scanner's prefetch confirms nothing
        return page("confirm_subscription.html", email=waiting.email)
    sub, welcome = signup.confirm(conn, config, ref)
    if sub is None:
        return _used(conn, ref)
    if welcome is not None:
        outbox().submit(welcome)
    return page("subscribed.html", email=sub.email, preferences=preferences_link(_config(), sub))


def _used(conn, ref):
    sub = subscribers.named_by(conn, ref)
    if sub is not None and sub.status == SubscriberStatus.ACTIVE:
        return page("subscribed.html", email=sub.email, preferences=preferences_link(_config(), sub), again=True)
    return page("message.html", 410, title="This link has been used",
                message="This confirmation link has already been used. To subscribe, sign up again.",
                action_url=urls.SUBSCRIBE, action_label="Sign up again")


def _expired(conn, ref):
    """An expired link: a button for a new one while the signup still waits, else sign up again."""
    if request.method == "POST" and request.form.get("action") == "resend":
        notice = signup.resend(conn, _config(), ref)
        if notice is not None:
            outbox().submit(notice)
        return page("message.html", title="Check your inbox",
                    message="If your address is still waiting to be confirmed, a new link is on its way.")
    return page("link_expired.html", 410, waiting=signup.awaiting(conn, ref) is not None,
                signup_url=urls.SUBSCRIBE)
