"""Issues: create from chosen articles, schedule, cancel, send now (in its own process), progress."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ... import issues
from ...bounces.stats import issue_bounces
from ...errors import InputError, NewsletterError
from ...schedule import format_when, parse_when
from ...states import CANCELLABLE, SCHEDULABLE, SENDABLE, DeliveryState
from ...store import now_utc
from .. import sending
from ..db import get_db
from ..numbers import form_number
from .common import articles_report, config

bp = Blueprint("issues", __name__)


def issue_or_404(issue_id: int) -> issues.Issue:
    try:
        return issues.get(get_db(), issue_id)
    except InputError:
        abort(404)


@bp.get("/issues")
def index():
    articles, errors = articles_report()
    conn = get_db()
    rows = [(i, issues.delivery_counts(conn, i)) for i in issues.list_issues(conn)]
    return render_template("web/issues.html", articles=articles, rows=rows, zone=config().timezone.key)


@bp.post("/issues")
def create():
    cfg = config()
    known = {a.slug: n for n, a in enumerate(articles_report()[0])}
    chosen = [s for s in request.form.getlist("article") if s in known]
    if not chosen:
        flash("Choose at least one article.", "error")
        return redirect(url_for("issues.index"))

    order = {slug: form_number(request.form.get(f"order-{slug}"), 999) for slug in chosen}
    chosen.sort(key=lambda slug: (order[slug], known[slug]))
    when_text = request.form.get("send_at", "").strip()
    try:
        when = parse_when(when_text, cfg.timezone) if when_text else None
        if when is not None and when.utc < now_utc() - cfg.max_lateness:
            raise InputError("that send time is long past; leave it empty for a draft")
        issue_id = issues.create(
            get_db(), cfg.content_dir, chosen, subject=request.form.get("subject", ""),
            send_at=when.utc if when else None, allow_paths=False,
        )
    except InputError as exc:
        flash(f"Issue not created: {exc}", "error")
        return redirect(url_for("issues.index"))
    flash(f"Issue {issue_id} created" + (f", scheduled for {format_when(when.utc, cfg.timezone)}." if when else " as a draft."), "ok")
    if when and when.note:
        flash(when.note, "ok")
    return redirect(url_for("issues.show", issue_id=issue_id))


@bp.get("/issues/<int:issue_id>")
def show(issue_id: int):
    issue = issue_or_404(issue_id)
    cfg = config()
    counts = issues.delivery_counts(get_db(), issue)
    active = issue.state == "sending" or sending.running(issue_id)
    return render_template(
        "web/issue.html",
        issue=issue,
        counts=counts,
        total=sum(counts.values()),
        refresh=active,
        running=sending.running(issue_id),
        log=sending.log_tail(cfg, issue_id),
        failed=issues.problem_deliveries(get_db(), issue_id, DeliveryState.FAILED),
        bounces=issue_bounces(get_db(), issue_id),
        unknown=issues.problem_deliveries(get_db(), issue_id, DeliveryState.UNKNOWN),
        zone=cfg.timezone.key,
        schedulable=issue.state in SCHEDULABLE,
        refreshable=issue.state in SCHEDULABLE and issue.started_at is None,
        cancellable=issue.state in CANCELLABLE,
        sendable=issue.state in SENDABLE,
    )


@bp.post("/issues/<int:issue_id>/schedule")
def schedule(issue_id: int):
    issue_or_404(issue_id)
    cfg = config()
    try:
        when = parse_when(request.form.get("send_at", ""), cfg.timezone)
        issues.schedule(get_db(), issue_id, when.utc, max_lateness=cfg.max_lateness)
    except InputError as exc:
        flash(f"Not scheduled: {exc}", "error")
    else:
        flash(f"Scheduled for {format_when(when.utc, cfg.timezone)}.", "ok")
        if when.note:
            flash(when.note, "ok")
    return redirect(url_for("issues.show", issue_id=issue_id))


@bp.post("/issues/<int:issue_id>/refresh")
def refresh(issue_id: int):
    issue_or_404(issue_id)
    try:
        issues.refresh_articles(get_db(), config(), issue_id)
    except NewsletterError as exc:
        flash(f"Articles not updated: {exc}", "error")
    else:
        flash("The issue's articles were taken again from their files.", "ok")
    return redirect(url_for("issues.show", issue_id=issue_id))


@bp.post("/issues/<int:issue_id>/cancel")
def cancel(issue_id: int):
    issue_or_404(issue_id)
    try:
        _, changed = issues.cancel(get_db(), issue_id)
    except InputError as exc:
        flash(str(exc), "error")
    else:
        flash("Issue cancelled: nothing more of it will be sent." if changed else "Already cancelled.", "ok")
    return redirect(url_for("issues.show", issue_id=issue_id))


@bp.get("/issues/<int:issue_id>/send")
def send_confirm(issue_id: int):
    issue = issue_or_404(issue_id)
    if issue.state not in SENDABLE:
        flash(f"Issue {issue_id} is {issue.state}: there is nothing to send.", "error")
        return redirect(url_for("issues.show", issue_id=issue_id))
    counts = issues.delivery_counts(get_db(), issue)
    return render_template("web/send_confirm.html", issue=issue, recipients=counts[DeliveryState.PENDING])


@bp.post("/issues/<int:issue_id>/send")
def send(issue_id: int):
    issue = issue_or_404(issue_id)
    if issue.state not in SENDABLE:
        flash(f"Issue {issue_id} is {issue.state}: there is nothing to send.", "error")
    elif sending.running(issue_id):
        flash("This issue is already being sent.", "error")
    else:
        sending.start(config(), issue_id)
        flash("Sending started. This page shows its progress.", "ok")
    return redirect(url_for("issues.show", issue_id=issue_id))
