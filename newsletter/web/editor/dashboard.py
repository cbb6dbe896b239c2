"""The dashboard: articles, issues and the number of active subscribers, at a glance."""
from __future__ import annotations

from flask import Blueprint, render_template

from ... import issues, subscribers
from ...digests import waiting_drafts
from ...bounces.apply import kept_count
from ...bounces.stats import issue_bounces
from ...states import SubscriberStatus
from ..db import get_db
from .common import articles_report

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():
    articles, errors = articles_report()
    conn = get_db()
    rows = [(i, issues.delivery_counts(conn, i)) for i in issues.list_issues(conn)[:10]]
    return render_template(
        "web/dashboard.html",
        warnings=[w for issue, _ in rows for w in issue_bounces(conn, issue.id).warnings()],
        kept=kept_count(conn),
        articles=articles,
        errors=errors,
        rows=rows,
        active=subscribers.count(conn, SubscriberStatus.ACTIVE),
        waiting=waiting_drafts(conn),
    )
