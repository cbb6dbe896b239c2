"""Issues: create from chosen articles, edit, schedule, cancel, send now (in its own process),
progress. What each page says about an issue comes from :mod:`.status`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ... import cron, issues
from ...bounces.stats import issue_bounces
from ...check.placeholders import placeholder_problems
from ...content import Article
from ...errors import InputError, NewsletterError
from ...schedule import format_when, parse_when
from ...states import SENDABLE, DeliveryState
from ...store import now_utc
from .. import sending
from ..db import get_db
from ..numbers import form_number
from . import status as statuses
from .common import articles_report, config

bp = Blueprint("issues", __name__)


def issue_or_404(issue_id: int) -> issues.Issue:
    try:
        return issues.get(get_db(), issue_id)
    except InputError:
        abort(404)


@dataclass(frozen=True)
class PickRow:
    """One article in an issue form: its reference, title and date, the order shown, ticked."""

    ref: str
    title: str
    date: date | None
    order: str
    chosen: bool


def pick_rows(articles: list[Article], chosen: list[str], orders: dict[str, str],
              extra: list[issues.ArticleRef] = ()) -> list[PickRow]:
    """The rows of an issue form's article picker: the chosen articles first, in their order,
    numbered as typed (else by row), then the rest of the folder; ``extra``: an issue's
    articles outside the content folder."""
    listed = [(a.slug, a.title, a.date) for a in articles] + [(x.ref, x.title or x.ref, None) for x in extra]
    rank = {ref: n for n, ref in enumerate(chosen)}
    listed.sort(key=lambda item: (item[0] not in rank, rank.get(item[0], 0)))
    return [PickRow(ref, title, day, orders.get(ref, str(n)), ref in rank)
            for n, (ref, title, day) in enumerate(listed, 1)]


def _index_page(form: dict | None = None, status_code: int = 200):
    articles, _ = articles_report()
    conn = get_db()
    folder = {a.slug for a in articles}
    chosen = form["chosen"] if form else [a.slug for a in articles[:1]]
    return render_template(
        "web/issues.html", articles=articles, rows=statuses.rows(conn, config(), issues.list_issues(conn), folder),
        zone=config().timezone.key, sent_in=issues.sent_in(conn), form=form or {},
        pick=pick_rows(articles, chosen, form["orders"] if form else {}),
    ), status_code


@bp.get("/issues")
def index() -> ResponseReturnValue:
    return _index_page()


def _chosen_articles(allowed: dict[str, int]) -> list[str]:
    """The articles ticked in the form, in the order given (then the listing order); only
    references in ``allowed`` (reference -> listing position)."""
    chosen = [ref for ref in request.form.getlist("article") if ref in allowed]

    order = {ref: form_number(request.form.get(f"order-{ref}"), 999) for ref in chosen}
    return sorted(chosen, key=lambda ref: (order[ref], allowed[ref]))


def _typed() -> dict:
    """What the editor typed into an issue form, to show it again with an error."""
    return {
        "chosen": request.form.getlist("article"),
        "orders": {key[6:]: value for key, value in request.form.items() if key.startswith("order-")},
        "subject": request.form.get("subject", ""),
        "send_at": request.form.get("send_at", ""),
    }


@bp.post("/issues")
def create() -> ResponseReturnValue:
    cfg = config()
    chosen = _chosen_articles({a.slug: n for n, a in enumerate(articles_report()[0])})
    when_text = request.form.get("send_at", "").strip()
    try:
        if not chosen:
            raise InputError("choose at least one article")
        when = parse_when(when_text, cfg.timezone) if when_text else None
        if when is not None and when.utc < now_utc() - cfg.max_lateness:
            raise InputError("that send time is long past; leave it empty for a draft")
        issue_id = issues.create(
            get_db(), cfg.content_dir, chosen, subject=request.form.get("subject", ""),
            send_at=when.utc if when else None, allow_paths=False,
        )
    except InputError as exc:
        flash(f"Issue not created: {exc}", "error")
        return _index_page(_typed(), 400)
    done = f", scheduled for {format_when(when.utc, cfg.timezone)}." if when else " as a draft."
    flash(f"Issue {issue_id} created{done}", "ok")
    if when and when.note:
        flash(when.note, "ok")
    return redirect(url_for("issues.show", issue_id=issue_id))


def _show_page(issue: issues.Issue, form: dict | None = None, status_code: int = 200):
    cfg = config()
    conn = get_db()
    articles, _ = articles_report()
    found = statuses.status(conn, cfg, issue, {a.slug for a in articles})
    extra = [a for a in found.articles if not a.in_folder]
    chosen, orders = (form["chosen"], form["orders"]) if form else (list(issue.articles), {})
    return render_template(
        "web/issue.html",
        s=found,
        issue=issue,
        articles=articles,
        sent_in=issues.sent_in(conn),
        total=sum(found.counts.values()),
        log=sending.log_tail(cfg, issue.id),
        failed=issues.problem_deliveries(conn, issue.id, DeliveryState.FAILED),
        unknown=issues.problem_deliveries(conn, issue.id, DeliveryState.UNKNOWN),
        bounces=issue_bounces(conn, issue.id),
        zone=cfg.timezone.key,
        crontab=cron.crontab_line(cfg),
        form=form,
        pick=pick_rows(articles, chosen, orders, extra),
    ), status_code


@bp.get("/issues/<int:issue_id>")
def show(issue_id: int) -> ResponseReturnValue:
    return _show_page(issue_or_404(issue_id))


@bp.post("/issues/<int:issue_id>/edit")
def edit(issue_id: int) -> ResponseReturnValue:
    issue = issue_or_404(issue_id)
    listed = [a.slug for a in articles_report()[0]]
    extra = [ref for ref in issue.articles if ref not in listed]  # paths outside the folder stay choosable
    chosen = _chosen_articles({ref: n for n, ref in enumerate(listed + extra)})
    try:
        if not chosen:
            raise InputError("choose at least one article")
        issues.edit(get_db(), config().content_dir, issue_id, chosen, request.form.get("subject", ""),
                    allow_paths=False)
    except InputError as exc:
        flash(f"Not saved: {exc}", "error")
        return _show_page(issue_or_404(issue_id), _typed(), 400)
    flash("Saved.", "ok")
    return redirect(url_for("issues.show", issue_id=issue_id))


@bp.post("/issues/<int:issue_id>/schedule")
def schedule(issue_id: int) -> ResponseReturnValue:
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
def refresh(issue_id: int) -> ResponseReturnValue:
    issue_or_404(issue_id)
    try:
        issues.refresh_articles(get_db(), config(), issue_id)
    except NewsletterError as exc:
        flash(f"Articles not updated: {exc}", "error")
    else:
        flash("The issue's articles were taken again from their files.", "ok")
    return redirect(url_for("issues.show", issue_id=issue_id))


@bp.post("/issues/<int:issue_id>/cancel")
def cancel(issue_id: int) -> ResponseReturnValue:
    issue_or_404(issue_id)
    try:
        _, changed = issues.cancel(get_db(), issue_id)
    except InputError as exc:
        flash(str(exc), "error")
    else:
        flash("Issue cancelled: nothing more of it will be sent." if changed else "Already cancelled.", "ok")
    return redirect(url_for("issues.show", issue_id=issue_id))


def _cannot_send(issue: issues.Issue) -> str:
    """Why "Send now" cannot start now, or "" when it can."""
    if issue.state not in SENDABLE:
        return f"Issue {issue.id} is {issue.state}: there is nothing to send."
    if sending.running(issue.id):
        return "This issue is already being sent."
    problems = placeholder_problems(config())
    if problems:
        return "Not sending: " + "; ".join(problems) + "."
    return ""


@bp.get("/issues/<int:issue_id>/send")
def send_confirm(issue_id: int) -> ResponseReturnValue:
    issue = issue_or_404(issue_id)
    reason = _cannot_send(issue)
    if reason:
        flash(reason, "error")
        return redirect(url_for("issues.show", issue_id=issue_id))
    counts = issues.delivery_counts(get_db(), issue)
    return render_template("web/send_confirm.html", issue=issue, recipients=counts[DeliveryState.PENDING],
                           subject=issues.subject(get_db(), config(), issue))


@bp.post("/issues/<int:issue_id>/send")
def send(issue_id: int) -> ResponseReturnValue:
    issue = issue_or_404(issue_id)
    reason = _cannot_send(issue)
    if reason:
        flash(reason, "error")
    else:
        sending.start(config(), issue_id)
        flash("Sending started. This page shows its progress.", "ok")
    return redirect(url_for("issues.show", issue_id=issue_id))
