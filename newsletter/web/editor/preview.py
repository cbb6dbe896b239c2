"""Preview pages (an article or an issue as subscribers get it), .eml downloads, test sends."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ... import compose, delivery, issues, testcopy, testers
from ...check import GMAIL_CLIP
from ...errors import NewsletterError
from ...states import shown_state
from .. import preview as previews
from .. import sending
from ..db import get_db
from .common import article_by_slug, config
from .issues import issue_or_404

bp = Blueprint("preview", __name__)


def _issue_copy(issue_id: int) -> compose.RenderedIssue:
    """What the issue's subscribers get (dated for its send time, as the sender renders it)."""
    issue = issue_or_404(issue_id)
    return issues.rendered(get_db(), config(), issue, now=issue.send_at)


def _render_article(slug: str):
    article = article_by_slug(slug)
    return article, compose.render_issue([article], config())


@bp.get("/articles/<slug>")
def article(slug: str) -> ResponseReturnValue:
    article, rendered = _render_article(slug)
    return _page(
        previews.build(config(), rendered),
        heading=article.title,
        slug=slug,
        sent_in=issues.sent_in(get_db()).get(slug, []),
        warnings=article.warnings,
        eml_url=url_for("preview.article_eml", slug=slug),
        test_url=url_for("preview.article_test", slug=slug),
        eml_name=f"{slug}.eml",
    )


@bp.get("/articles/<slug>/message.eml")
def article_eml(slug: str) -> ResponseReturnValue:
    _, rendered = _render_article(slug)
    return _eml(previews.build(config(), rendered).raw, f"{slug}.eml")


@bp.post("/articles/<slug>/test")
def article_test(slug: str) -> ResponseReturnValue:
    rendered, token = testcopy.of_article(config(), article_by_slug(slug))
    return _test_send(rendered, token, url_for("preview.article", slug=slug))


@bp.get("/issues/<int:issue_id>/preview")
def issue(issue_id: int) -> ResponseReturnValue:
    item = issue_or_404(issue_id)
    return _page(
        previews.build(config(), _issue_copy(issue_id), issue_id),
        heading=f"Issue {issue_id}: {issues.subject(get_db(), config(), item)}",
        issue=item,
        shown=shown_state(item.state, sending.running(issue_id)),
        warnings=[],
        eml_url=url_for("preview.issue_eml", issue_id=issue_id),
        test_url=url_for("preview.issue_test", issue_id=issue_id),
        eml_name=f"issue-{issue_id}.eml",
    )


@bp.get("/issues/<int:issue_id>/message.eml")
def issue_eml(issue_id: int) -> ResponseReturnValue:
    return _eml(previews.build(config(), _issue_copy(issue_id), issue_id).raw, f"issue-{issue_id}.eml")


@bp.post("/issues/<int:issue_id>/test")
def issue_test(issue_id: int) -> ResponseReturnValue:
    rendered, token = testcopy.of_issue(get_db(), config(), issue_or_404(issue_id))
    return _test_send(rendered, token, url_for("preview.issue", issue_id=issue_id))


def _page(preview: previews.Preview, **context):
    response = Response(
        render_template(
            "web/preview.html",
            p=preview,
            clip_limit=GMAIL_CLIP,
            addresses=testers.saved(get_db()),
            **context,
        )
    )
    response.headers["Cache-Control"] = "no-store"  # the article file may change any moment
    return response


def _eml(raw: bytes, name: str) -> Response:
    return Response(
        raw,
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _test_send(rendered: compose.RenderedIssue, token: str, back: str):
    chosen = testers.chosen(get_db(), request.form.getlist("to"))
    if not chosen:
        flash("Choose at least one test address.", "error")
        return redirect(back)
    try:
        results = delivery.send_test(config(), rendered, chosen, test_token=token)
    except NewsletterError as exc:
        flash(f"Test not sent: {exc}", "error")
        return redirect(back)
    sent = [address for address, error in results if error is None]
    if sent:
        flash(f"Test sent to {', '.join(sent)} with [TEST] in the subject.", "ok")
    for address, error in results:
        if error is not None:
            flash(f"Test to {address} failed: {error}", "error")
    return redirect(back)
