"""The saved list of test addresses (``test_addresses`` table) and its page."""
from __future__ import annotations

import sqlite3

from flask import flash, redirect, render_template, request, url_for

from ... import subscribers
from ...store import now_utc, to_db_time
from ..db import get_db
from ..security import safe_next
from . import bp


def saved(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT email FROM test_addresses ORDER BY email")]


@bp.get("/test-addresses")
def test_addresses():
    return render_template("web/test_addresses.html", addresses=saved(get_db()))


@bp.post("/test-addresses")
def test_address_add():
    try:
        email = subscribers.normalize_email(request.form.get("email", ""))
    except ValueError as exc:
        flash(f"Not added: {exc}", "error")
    else:
        get_db().execute(
            "INSERT INTO test_addresses (email, added_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (email, to_db_time(now_utc())),
        )
        flash(f"Added {email}.", "ok")
    return redirect(safe_next(request.form.get("next"), url_for("editor.test_addresses")))


@bp.post("/test-addresses/remove")
def test_address_remove():
    email = request.form.get("email", "")
    get_db().execute("DELETE FROM test_addresses WHERE email = ?", (email,))
    flash(f"Removed {email}.", "ok")
    return redirect(url_for("editor.test_addresses"))
