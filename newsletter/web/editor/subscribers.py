"""Subscribers: search by text and status, pages, the consent record, add, remove (unsubscribe),
resubscribe on request, CSV upload and download, and the signup form snippet for a website."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from werkzeug.utils import secure_filename

from ... import subscriber_import, subscriber_pages, suppression, tallies, urls
from ... import subscribers as subscriber_list
from ...errors import InputError
from ...states import RESUBSCRIBABLE, ConsentSource, SubscriberStatus
from ...store import now_utc
from ...subscriber_pages import PAGE_SIZE, Search
from ..db import get_db
from ..numbers import form_number, page_number
from .common import config

bp = Blueprint("subscribers", __name__)

#: rejected rows an import's report page lists (the rest are counted)
REJECTIONS_SHOWN = 1000
OUTCOMES = {
    "added": "Added {email}.",
    "exists": "{email} is already subscribed.",
    "unsubscribed": "{email} unsubscribed earlier and stays unsubscribed.",
    "resubscribed": "{email} is subscribed again.",
    "suppressed": "{email} was erased at their own request and is not added. If they asked to come back, "
                  "use Resubscribe on this page's Add form.",
}


@bp.get("/subscribers")
def index() -> ResponseReturnValue:
    search = Search(request.args.get("q", "").strip()[:200], request.args.get("status", ""))
    if search.status not in set(SubscriberStatus):
        search = Search(search.query)
    number = page_number(request.args.get("page"))
    conn = get_db()
    total = subscriber_pages.matches(conn, search)
    pages = max(1, -(-total // PAGE_SIZE))
    if number > pages:
        abort(404)
    rows = subscriber_pages.page(conn, search, number, total, after=_cursor("after"), before=_cursor("before"))
    counts = tallies.subscriber_counts(conn)
    return render_template(
        "web/subscribers.html",
        rows=rows,
        total=total,
        page=number,
        pages=pages,
        query=search.query,
        status=search.status,
        statuses=list(SubscriberStatus),
        resubscribable=RESUBSCRIBABLE,
        active=counts[SubscriberStatus.ACTIVE],
        everyone=sum(counts.values()),
        erased=suppression.count(conn),
        snippet=render_template("public/snippet.html", action=urls.subscribe_url(config()),
                                newsletter=config()["newsletter"]["name"]),
        signup_page=urls.subscribe_url(config()),
    )


def _cursor(name: str) -> int | None:
    """``?after=ID`` / ``?before=ID`` of the pager's links: where the next or previous page starts."""
    value = request.args.get(name)
    return form_number(value, 0) if value and value.strip() else None


@bp.get("/subscribers/export.csv")
def export() -> ResponseReturnValue:
    """Every subscriber as CSV (the columns of ``subscribers export``), streamed: the response
    is written a batch of subscribers at a time, whatever the size of the list."""
    def chunks() -> Iterator[str]:  # the database is opened as the response is written (the view's is closed by then)
        yield from subscriber_list.export_chunks(get_db())

    stamp = now_utc().strftime("%Y-%m-%d")
    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="subscribers-{stamp}.csv"'},
    )


@bp.post("/subscribers")
def add() -> ResponseReturnValue:
    email = request.form.get("email", "")
    try:
        sub, outcome = subscriber_list.add(get_db(), email, request.form.get("name", ""),
                                           resubscribe=request.form.get("resubscribe") == "yes",
                                           special_use=config()["newsletter"]["special_use_domains"])
    except InputError as exc:
        flash(f"Not added: {exc}", "error")
    else:
        flash(OUTCOMES[outcome].format(email=sub.email if sub else email.strip()),
              "error" if outcome in ("unsubscribed", "suppressed") else "ok")
    return redirect(url_for("subscribers.index"))


@bp.post("/subscribers/<int:subscriber_id>/resubscribe")
def resubscribe(subscriber_id: int) -> ResponseReturnValue:
    """They asked to come back: active again, consent recorded as ``request``."""
    conn = get_db()
    sub = subscriber_list.get(conn, subscriber_id)
    if sub is None:
        abort(404)
    changed = subscriber_list.resubscribe(conn, subscriber_id, ConsentSource.REQUEST)
    flash(f"{sub.email} is subscribed again, at their request." if changed
          else f"{sub.email} is {sub.status}: nothing to do.", "ok")
    return redirect(url_for("subscribers.index", q=request.form.get("q") or None))


@bp.post("/subscribers/<int:subscriber_id>/remove")
def remove(subscriber_id: int) -> ResponseReturnValue:
    conn = get_db()
    sub = subscriber_list.get(conn, subscriber_id)
    if sub is None:
        abort(404)
    changed = subscriber_list.unsubscribe(conn, subscriber_id)
    flash(f"Unsubscribed {sub.email}." if changed else f"{sub.email} was already unsubscribed.", "ok")
    return redirect(url_for("subscribers.index", q=request.form.get("q") or None))


@bp.post("/subscribers/import")
def import_csv() -> ResponseReturnValue:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV file to upload.", "error")
        return redirect(url_for("subscribers.index"))
    with tempfile.TemporaryDirectory(prefix="newsletter-import-") as folder:
        path = Path(folder) / (secure_filename(upload.filename) or "upload.csv")
        upload.save(path)
        rejected: list[str] = []

        def keep(line: str) -> None:
            if len(rejected) < REJECTIONS_SHOWN:
                rejected.append(_strip(line, folder))

        try:
            report = subscriber_import.import_csv(get_db(), path, on_reject=keep,
                                                  special_use=config()["newsletter"]["special_use_domains"])
        except InputError as exc:
            flash(f"Nothing imported: {_strip(str(exc), folder)}", "error")
            return redirect(url_for("subscribers.index"))
    return render_template("web/import_report.html", report=report, rejected=rejected, name=path.name)


def _strip(message: str, folder: str) -> str:
    """A message about the uploaded copy, naming the file as the editor knows it."""
    return message.replace(folder + "/", "")
