"""The preferences page: a subscriber's own signed link (every email's footer), no login.

``GET`` shows the page and changes nothing. Its forms ``POST`` back one ``action``: ``name``
(change it), ``unsubscribe``, ``resubscribe`` (their own action: consent recorded as ``form``),
``data`` (everything stored about them, as a JSON download) and ``erase`` (only with the
confirmation box ticked: the row and its history deleted, the address kept as a hash on the
suppression list). The signed token is the authority, as for unsubscribe links; the app exempts
this blueprint from its session CSRF check. A test copy's link says it is one and changes nothing.
"""
from __future__ import annotations

import json

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from .. import subscribers, urls
from ..config import Config
from ..errors import InputError
from ..mail import contact_address
from ..signing import is_test_token, read_subscriber_token
from ..states import RESUBSCRIBABLE, ConsentSource, SubscriberStatus
from .db import get_db
from .public import page, test_link_page

bp = Blueprint("preferences", __name__)

MAX_BODY = 4096
DONE = {
    "name": "Your name is saved.",
    "unsubscribe": "You are unsubscribed. You will get no more issues.",
    "resubscribe": "You are subscribed again. Welcome back.",
}


def _config() -> Config:
    return current_app.config["NEWSLETTER"]


@bp.route(urls.PREFERENCES, methods=["GET", "POST"])
def preferences(token: str) -> ResponseReturnValue:
    request.max_content_length = MAX_BODY
    if is_test_token(token):  # a test copy's link: nobody's preferences
        return test_link_page(token, "preferences")
    conn = get_db()
    try:
        sub = subscribers.named_by(conn, read_subscriber_token(_config(), "preferences", token))
    except InputError:
        return page("message.html", 400, title="Invalid link",
                    message="This link is not valid. Copy the whole link from the email, or use the "
                    "link in a more recent one.")
    if sub is None:
        return page("message.html", 404, title="Not on the list",
                    message="This address is no longer on our list: nothing is stored about it.")
    if request.method == "GET":
        return _page(sub)
    action = request.form.get("action", "")
    if action == "data":
        return _download(conn, sub)
    if action == "erase":
        if request.form.get("confirm") != "yes":
            return _page(sub, 400, error="Tick the box to confirm that everything about you should be erased.")
        subscribers.erase(conn, sub.id)
        return page("message.html", title="Your data is erased",
                    message=f"Everything we stored about you is deleted. To make sure no list import adds "
                    f"you back, we keep only a one-way hash of your address. {_config()['newsletter']['name']} "
                    "will not write to you again.")
    if action == "name":
        subscribers.rename(conn, sub.id, request.form.get("name", ""))
    elif action == "unsubscribe":
        subscribers.unsubscribe(conn, sub.id)
    elif action == "resubscribe" and sub.status in RESUBSCRIBABLE:
        subscribers.resubscribe(conn, sub.id, ConsentSource.FORM)
    elif action not in DONE:
        return _page(sub, 400, error="Choose one of the buttons on this page.")
    return _page(subscribers.get(conn, sub.id), done=DONE.get(action, ""))


def _page(sub: subscribers.Subscriber, status: int = 200, *, done: str = "", error: str = ""):
    config = _config()
    return page("preferences.html", status, sub=sub, done=done, error=error, action="",
                active=sub.status == SubscriberStatus.ACTIVE, can_resubscribe=sub.status in RESUBSCRIBABLE,
                contact=contact_address(config))


def _download(conn, sub: subscribers.Subscriber):
    body = json.dumps(subscribers.personal_data(conn, sub), indent=2, ensure_ascii=False)
    return body, 200, {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Disposition": 'attachment; filename="my-newsletter-data.json"',
        "Cache-Control": "no-store",
    }
