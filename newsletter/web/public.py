"""Public pages, open without login: one-click unsubscribe (RFC 8058), the web view of an
issue, and the web page of an article that has gone out (``/read/<slug>``, the digest's
"Read the full article" link for an article without a published ``url``).

``GET /unsubscribe/<token>`` only shows a confirmation page with a button; ``POST`` (the
button, or a mail client's ``List-Unsubscribe=One-Click``, no cookies) unsubscribes and
answers 200, repeatably. A forged or altered token gets 400 and changes nothing. This
blueprint is exempt from CSRF checks: its POST is authorised by the signed token alone.
"""
from __future__ import annotations

import json
from pathlib import PurePath

from flask import Blueprint, Flask, abort, current_app, render_template, request
from markupsafe import Markup

from .. import content, delivery, links, store, subscribers
from ..compose import RTL_LANGUAGES, TOKENS, one_line, short_date
from ..errors import ContentError, InputError
from .auth import logged_in

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
    language = nl["language"] or "en"
    direction = "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"
    html = render_template(f"public/{template}", newsletter=nl["name"], language=language,
                           dir=direction, **values)
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
    conn = _connect()
    try:
        sub = subscribers.get(conn, subscriber_id)
        if sub is None or sub.email.lower() != email.lower():
            sub = None
        if request.method == "GET":  # only shows the button; changes nothing
            if sub is not None and sub.status == "unsubscribed":
                return _page("done.html", email=email)
            return _page("confirm.html", email=email)
        if sub is not None:
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


@bp.route("/read/<slug>")
def read(slug: str):
    """An article as a web page: public once an issue carrying it is sending or sent; an
    editor sees any article. Slugs of the content folder only, never paths; else 404."""
    config = current_app.config["NEWSLETTER"]
    conn = _connect()
    try:
        public = _sent_slugs(conn)
    finally:
        conn.close()
    editor = logged_in()
    if not editor and slug.lower() not in public:
        abort(404)
    try:
        article = content.resolve(slug, config.content_dir, allow_paths=False)
    except (InputError, ContentError):
        abort(404)
    if not editor and article.slug not in public:
        abort(404)
    return _page("read.html", a=article_page(article), unsent=article.slug not in public)


def _sent_slugs(conn) -> set[str]:
    """Slugs of the articles of every issue that is sending or sent (refs: slugs or file paths)."""
    found: set[str] = set()
    for (refs,) in conn.execute("SELECT articles FROM issues WHERE state IN ('sending', 'sent')"):
        for ref in json.loads(refs):
            ref = str(ref).strip()
            path_like = "/" in ref or "\\" in ref
            found.add(content.slug_for(PurePath(ref.replace("\\", "/")).name) if path_like else ref.lower())
    return found


def article_page(article: content.Article) -> dict:
    """What read.html shows: plain strings (autoescaped) and the parser's safe inline HTML as Markup."""
    blocks = []
    for block in article.blocks:
        if block.kind == "image":
            if _absolute(block.src):
                blocks.append({"kind": "image", "src": block.src, "alt": block.alt})
        elif block.kind == "list":
            if block.items:
                blocks.append({"kind": "list", "ordered": block.ordered,
                               "entries": [Markup(item.html) for item in block.items]})
        elif block.kind == "rule":
            blocks.append({"kind": "rule"})
        elif block.content is not None and block.content.text.strip():
            blocks.append({"kind": block.kind, "html": Markup(block.content.html),
                           "level": min(max(block.level, 2), 4), "cite": block.cite})
    opening = next((one_line(b.content.text) for b in article.blocks
                    if b.kind == "paragraph" and b.content), "")
    standfirst = one_line(article.excerpt)
    if standfirst and opening.startswith(standfirst.rstrip("…. ")[:60]):
        standfirst = ""  # the excerpt is the opening itself
    meta = [m for m in (short_date(article.date),
                        f"{article.read_time} min read" if article.read_time else "", article.author) if m]
    return {
        "title": article.title,
        "meta": meta,
        "standfirst": standfirst,
        "image": article.image if _absolute(article.image) else "",
        "image_alt": article.image_alt,
        "blocks": blocks,
        "author": article.author,
        "author_bio": article.author_bio,
        "disclaimer": article.disclaimer,
        "url": article.url if _absolute(article.url) else "",
    }


def _absolute(url: str) -> bool:
    return url.startswith(("https://", "http://"))
