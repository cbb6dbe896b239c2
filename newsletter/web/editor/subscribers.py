"""Subscribers: search, pages, add, remove (unsubscribe), CSV upload."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.utils import secure_filename

from ... import subscribers as subs
from ...errors import InputError
from ..db import get_db
from . import bp

PAGE_SIZE = 50
OUTCOMES = {
    "added": "Added {email}.",
    "exists": "{email} is already subscribed.",
    "unsubscribed": "{email} unsubscribed earlier and stays unsubscribed.",
    "resubscribed": "{email} is subscribed again.",
}


@bp.get("/subscribers")
def subscribers():
    query = request.args.get("q", "").strip()[:200]
    status = request.args.get("status", "")
    if status not in subs.STATUSES:
        status = ""
    page = max(1, request.args.get("page", 1, type=int))
    conn = get_db()
    rows, total = subs.search(conn, query, status or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        abort(404)
    return render_template(
        "web/subscribers.html",
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        query=query,
        status=status,
        active=subs.count(conn, "active"),
        everyone=subs.count(conn),
    )


@bp.post("/subscribers")
def subscriber_add():
    try:
        sub, outcome = subs.add(get_db(), request.form.get("email", ""), request.form.get("name", ""))
    except InputError as exc:
        flash(f"Not added: {exc}", "error")
    else:
        flash(OUTCOMES[outcome].format(email=sub.email), "error" if outcome == "unsubscribed" else "ok")
    return redirect(url_for("editor.subscribers"))


@bp.post("/subscribers/<int:subscriber_id>/remove")
def subscriber_remove(subscriber_id: int):
    conn = get_db()
    sub = subs.get(conn, subscriber_id)
    if sub is None:
        abort(404)
    changed = subs.unsubscribe(conn, subscriber_id)
    flash(f"Unsubscribed {sub.email}." if changed else f"{sub.email} was already unsubscribed.", "ok")
    return redirect(url_for("editor.subscribers", q=request.form.get("q") or None))


@bp.post("/subscribers/import")
def subscriber_import():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV file to upload.", "error")
        return redirect(url_for("editor.subscribers"))
    with tempfile.TemporaryDirectory(prefix="newsletter-import-") as folder:
        path = Path(folder) / (secure_filename(upload.filename) or "upload.csv")
        upload.save(path)
        try:
            report = subs.import_csv(get_db(), path)
        except InputError as exc:
            flash(f"Nothing imported: {_strip(str(exc), folder)}", "error")
            return redirect(url_for("editor.subscribers"))
    rejected = [_strip(line, folder) for line in report.rejected]
    return render_template("web/import_report.html", report=report, rejected=rejected, name=path.name)


def _strip(message: str, folder: str) -> str:
    """A message about the uploaded copy, naming the file as the editor knows it."""
    return message.replace(folder + "/", "")
