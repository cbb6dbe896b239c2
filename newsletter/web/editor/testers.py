"""The saved test addresses (:mod:`newsletter.testers`) and their page."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ... import testers
from ..db import get_db
from ..security import safe_next
from .common import config

bp = Blueprint("testers", __name__)


@bp.get("/test-addresses")
def index() -> ResponseReturnValue:
    return render_template("web/test_addresses.html", addresses=testers.saved(get_db()))


@bp.post("/test-addresses")
def add() -> ResponseReturnValue:
    try:
        email = testers.add(get_db(), request.form.get("email", ""),
                            special_use=config()["newsletter"]["special_use_domains"])
    except ValueError as exc:
        flash(f"Not added: {exc}", "error")
    else:
        flash(f"Added {email}.", "ok")
    return redirect(safe_next(request.form.get("next"), url_for("testers.index")))


@bp.post("/test-addresses/remove")
def remove() -> ResponseReturnValue:
    email = request.form.get("email", "")
    testers.remove(get_db(), email)
    flash(f"Removed {email}.", "ok")
    return redirect(url_for("testers.index"))
