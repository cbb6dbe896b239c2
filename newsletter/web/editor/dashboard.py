"""The dashboard: articles, issues, active subscribers, signups per day, and whether cron runs
``send-due``, at a glance."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from ... import cron, issues, signup, subscribers
from ...bounces.apply import kept_count
from ...bounces.stats import issue_bounces
from ...digests import waiting_drafts
from ...states import IssueState, SubscriberStatus
from ..db import get_db
from . import status as statuses
from .common import articles_report, config

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    articles, errors = articles_report()
    conn = get_db()
    listed = issues.list_issues(conn)
    rows = statuses.rows(conn, config(), listed[:10], {a.slug for a in articles})
    days = signup.signups_per_day(conn, config().timezone)
    return render_template(
        "web/dashboard.html",
        articles=articles,
        errors=errors,
        rows=rows,
        warnings=[w for row in rows for w in issue_bounces(conn, row.issue.id).warnings()],
        kept=kept_count(conn),
        active=subscribers.count(conn, SubscriberStatus.ACTIVE),
        sent_in=issues.sent_in(conn),
        cron_state=statuses.cron_status(conn, config()),
        scheduled=sum(1 for issue in listed if issue.state == IssueState.SCHEDULED),
        crontab=cron.crontab_line(config()),
        waiting=waiting_drafts(conn),
        pending=subscribers.count(conn, SubscriberStatus.PENDING),
        days=days,
        signups=sum(n for _, n in days),
        peak=max(n for _, n in days),
    )
