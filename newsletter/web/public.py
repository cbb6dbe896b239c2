"""Public pages, open without login: one-click unsubscribe (RFC 8058), the web view of an
issue, the archive of sent issues (a page and an Atom feed, unless ``[archive] public`` is
false), the web page of an article that has gone out (``/issues/<id>/read/<slug>``, the
digest's "Read the full article" link for an article without a published ``url``; links of the
first form, ``/read/<slug>``, show the newest issue that went out with that slug), and where a
test copy's links lead (:mod:`newsletter.testcopy`). Articles are the issue's own copy
(:mod:`newsletter.snapshots`), never whatever file has the slug today. The pages share
``public/base.html``: the newsletter's name, no editor chrome; so do errors on public addresses
(:func:`error_page`).

``GET /unsubscribe/<token>`` only shows a confirmation page with a button; ``POST`` (the
button, or a mail client's ``List-Unsubscribe=One-Click``, no cookies) unsubscribes and
answers 200, repeatably. A forged or altered token gets 400 and changes nothing. The app
exempts this blueprint from CSRF checks: its POST is authorised by the signed token alone.
Routes are the patterns of :mod:`newsletter.urls`, which builds the links that reach them.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from .. import archive, content, issues, subscribers, testcopy, urls
from ..compose import TOKENS, article_view, text_direction
from ..config import Config
from ..errors import ContentError, InputError
from ..mail import contact_address
from ..signing import is_test_token, read_subscriber_token, read_test_token, subscriber_signer
from ..states import PUBLISHED, SubscriberStatus
from ..store import Connection
from . import darkmode
from .auth import logged_in
from .db import get_db
from .numbers import page_number

bp = Blueprint("public", __name__)


def _config() -> Config:
    return current_app.config["NEWSLETTER"]


def error_page(status: int, title: str, message: str) -> ResponseReturnValue:
    """An error on a public address (or for a visitor who is not an editor), in the public frame."""
    return page("message.html", status, title=title, message=message)


def page(template: str, status: int = 200, **values: Any) -> ResponseReturnValue:
    """A public page (``templates/public/``): never cached, never sends a Referer onwards."""
    nl = _config()["newsletter"]
    language = nl["language"] or "en"
    html = render_template(f"public/{template}", newsletter=nl["name"], language=language,
                           dir=text_direction(language), **values)
    return html, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def preferences_link(config: Config, sub: subscribers.Subscriber) -> str:
    """The preferences page of a subscriber (for pages that know who it is)."""
    return urls.preferences_url(config, subscriber_signer(config, "preferences")(sub.key))


def _subscriber_of(conn: Connection, token: str) -> subscribers.Subscriber | None:
    """The subscriber an unsubscribe token names, if the token is genuine and they still
    exist; InputError for a forged, altered or malformed token."""
    return subscribers.named_by(conn, read_subscriber_token(_config(), "unsubscribe", token))


@bp.route(urls.UNSUBSCRIBE_HELP)
def unsubscribe_help() -> ResponseReturnValue:
    return page("message.html", title="Unsubscribe",
                message="Use the unsubscribe link at the bottom of any message you received.")


@bp.route(urls.UNSUBSCRIBE, methods=["GET", "POST"])
def unsubscribe(token: str) -> ResponseReturnValue:
    conn = get_db()
    if is_test_token(token):
        return test_link_page(token, "unsubscribe")
    try:
        found = _subscriber_of(conn, token)
    except InputError:
        return page("message.html", 400, title="Invalid link",
                    message="This unsubscribe link is not valid. Copy the whole link from the "
                    "message, or use the link in a more recent message.")
    email = found.email if found is not None else ""
    # their preferences page: resubscribe after a mistaken click, and everything else
    preferences = preferences_link(_config(), found) if found is not None else ""
    done = {"email": email, "preferences": preferences, "contact": contact_address(_config())}
    if request.method == "GET":  # only shows the button; changes nothing
        if found is not None and found.status == SubscriberStatus.UNSUBSCRIBED:
            return page("done.html", **done)
        return page("confirm.html", email=email, preferences=preferences)
    if found is not None:
        subscribers.unsubscribe(conn, found.id)
    return page("done.html", **done)


#: what a test copy's own links say, where a subscriber's would act
_TEST_LINKS = {
    "unsubscribe": "This unsubscribe link is in a test copy, so it unsubscribes no one and changes nothing."
                   " In the copies subscribers get, this link unsubscribes the reader it was sent to.",
    "preferences": "This link is in a test copy, so it opens no one's preferences and changes nothing."
                   " In the copies subscribers get, it opens the reader's own preferences page.",
}


def test_link_page(token: str, link: str) -> ResponseReturnValue:
    """Where a test copy's ``link`` (unsubscribe, preferences) leads: says so, and changes
    nothing (GET or POST)."""
    try:
        read_test_token(_config(), token)
    except InputError:
        return page("message.html", 400, title="Invalid link",
                    message=f"This test copy's {link} link is not valid, or is more than 30 days old.")
    return page("message.html", title="This is a test copy", message=_TEST_LINKS[link])


@bp.route(urls.TEST_VIEW)
def test_view(token: str) -> ResponseReturnValue:
    """The web view of a test copy: the issue or article as it will go out, marked as a test."""
    try:
        copy = testcopy.rendered_for(get_db(), _config(), token)
    except (InputError, ContentError):
        return error_page(404, "Not found", "This test copy's link is not valid, is more than 30 days old, "
                          "or what it showed is gone.")
    config = _config()
    values = {"unsubscribe_url": urls.unsubscribe_url(config, token),
              "preferences_url": urls.preferences_url(config, token), "webview_url": urls.test_view_url(config, token)}
    html, _ = copy.fill({key: values.get(key, "") for key in TOKENS})
    banner = render_template("public/test_banner.html", newsletter=config["newsletter"]["name"])
    return darkmode.inject_body(html, banner), 200, {"Cache-Control": "private, no-store",
                                                      "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


@bp.route(urls.WEBVIEW)
def webview(issue_id: int) -> ResponseReturnValue:
    conn = get_db()
    try:
        issue = issues.get(conn, issue_id)
    except InputError:
        abort(404)
    copy = issues.frozen_copy(conn, issue_id) if issue.state in PUBLISHED else None
    if copy is None:
        abort(404)
    config = _config()
    values = {"unsubscribe_url": urls.unsubscribe_url(config), "preferences_url": urls.unsubscribe_url(config),
              "webview_url": urls.webview_url(config, issue_id)}
    token = request.args.get("t", "")
    try:
        reader = _subscriber_of(conn, token) if token else None
    except InputError:
        reader = None
    if reader is not None:
        values.update(name=reader.name, email=reader.email, unsubscribe_url=urls.unsubscribe_url(config, token),
                      preferences_url=preferences_link(config, reader))
    html, _ = copy.fill({key: values.get(key, "") for key in TOKENS})
    return html, 200, {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


@bp.route(urls.ARCHIVE)
def archive_page() -> ResponseReturnValue:
    """Sent issues, newest first, :data:`archive.PAGE_SIZE` a page (``?page=N``)."""
    config = _config()
    number = page_number(request.args.get("page"))
    found = archive.page(get_db(), config, number) if config["archive"]["public"] else None
    if found is None:
        abort(404)
    html, status, headers = page(
        "archive.html", archive=found, feed_url=urls.archive_feed_url(config),
        webview=lambda issue_id: urls.webview_url(config, issue_id),
        newer=urls.archive_url(config, found.number - 1) if found.number > 1 else "",
        older=urls.archive_url(config, found.number + 1) if found.older else "",
    )
    return html, status, {**headers, "Cache-Control": "public, max-age=300"}


@bp.route(urls.ARCHIVE_FEED)
def archive_feed() -> ResponseReturnValue:
    """The archive as an Atom feed."""
    config = _config()
    if not config["archive"]["public"]:
        abort(404)
    return archive.atom(get_db(), config), 200, {
        "Content-Type": "application/atom+xml; charset=utf-8", "Cache-Control": "public, max-age=300"}


@bp.route(urls.READ_IN_ISSUE)
def read_in_issue(issue_id: int, slug: str) -> ResponseReturnValue:
    """An article as issue ``issue_id`` carries it: public once that issue is sending or sent;
    an editor sees any issue's copy, and so does a test copy of that issue (``?t=TOKEN``)."""
    conn, slug = get_db(), slug.lower()
    found = issues.published_article(conn, _config(), slug, issue_id)
    if found is not None:
        return _article_page(found[1], found[0], unsent=False)
    test = testcopy.opens(_config(), request.args.get("t", ""), "issue", issue_id)
    if not (logged_in() or test):
        abort(404)
    try:
        kept = issues.articles_of(conn, _config(), issues.get(conn, issue_id))
    except (InputError, ContentError):
        abort(404)
    article = next((a for a in kept if a.slug == slug), None)
    if article is None:
        abort(404)
    return _article_page(article, issue_id, unsent=True, test=test)


@bp.route(urls.READ)
def read(slug: str) -> ResponseReturnValue:
    """Links of the first form: the article as the newest issue that went out with it
    carries it. An editor also sees the content folder's article of that slug (slugs only,
    never paths), marked unsent; so does a test copy of that article (``?t=TOKEN``)."""
    slug = slug.lower()
    found = issues.published_article(get_db(), _config(), slug)
    if found is not None:
        return _article_page(found[1], found[0], unsent=False)
    test = testcopy.opens(_config(), request.args.get("t", ""), "article", slug)
    if not (logged_in() or test):
        abort(404)
    try:
        article = content.resolve(slug, _config().content_dir, allow_paths=False)
    except (InputError, ContentError):
        abort(404)
    return _article_page(article, None, unsent=True, test=test)


def _article_page(article: content.Article, issue_id: int | None, *, unsent: bool, test: bool = False):
    """The article's page; ``unsent`` marks an editor's (or, with ``test``, a test copy's) view
    of an article no subscriber can open yet."""
    view = article_view(article, _config(), full_text=True, issue_id=issue_id)
    return page("read.html", a=view, unsent=unsent, test=test and not logged_in())
