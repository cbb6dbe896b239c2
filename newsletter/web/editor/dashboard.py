"""The dashboard: articles, issues, the number of active subscribers and signups per day, at a glance."""
from __future__ import annotations

from flask import Blueprint, render_template

from ... import issues, signup, subscribers
from ...digests import waiting_drafts
from ...bounces.apply import kept_count
from ...bounces.stats import issue_bounces
from ...states import SubscriberStatus
from ..db import get_db
from .common import articles_report, config

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    articles, errors = articles_report()
    conn = get_db()
    rows = [(i, issues.delivery_counts(conn, i)) for i in issues.list_issues(conn)[:10]]
    days = signup.signups_per_day(conn, config().timezone)
    return render_template(
        "web/dashboard.html",
        warnings=[w for issue, _ in rows for w in issue_bounces(conn, issue.id).warnings()],
        kept=kept_count(conn),
        articles=articles,
        errors=errors,
        rows=rows,
        active=subscribers.count(conn, SubscriberStatus.ACTIVE),
        waiting=waiting_drafts(conn),
        pending=subscribers.count(conn, SubscriberStatus.PENDING),
        days=days,
        signups=sum(n for _, n in days),
        peak=max(n for _, n in days),
    )
