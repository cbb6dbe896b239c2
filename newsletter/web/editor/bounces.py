"""Bounces in the editor: the messages the bounce reader kept (not understood), and the
sender-domain checks of ``doctor``."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from ...bounces.apply import kept_count, kept_message, kept_messages
from ...doctor.checks import run_checks
from ...doctor.dns import resolver
from ..db import get_db
from ..numbers import page_number

bp = Blueprint("bounces", __name__)
PAGE = 50
#: how much of a kept message the page shows (the whole stays in the database)
SHOWN_BYTES = 200_000


@bp.get("/bounces")
def index() -> ResponseReturnValue:
    page = page_number(request.args.get("page"))
    conn = get_db()
    total = kept_count(conn)
    return render_template("web/kept.html", rows=kept_messages(conn, limit=PAGE, offset=(page - 1) * PAGE),
                           total=total, page=page, pages=max((total + PAGE - 1) // PAGE, 1))


@bp.get("/bounces/<int:kept_id>")
def show(kept_id: int) -> ResponseReturnValue:
    row = kept_message(get_db(), kept_id)
    if row is None:
        abort(404)
    raw = bytes(row["raw"])
    return render_template("web/kept_message.html", row=row, text=raw[:SHOWN_BYTES].decode("utf-8", "replace"),
                           cut=len(raw) > SHOWN_BYTES, size=len(raw))


@bp.get("/doctor")
def doctor() -> ResponseReturnValue:
    config = current_app.config["NEWSLETTER"]
    findings = run_checks(config, resolver(config["doctor"]["nameserver"]))
    return render_template("web/doctor.html", findings=findings)
