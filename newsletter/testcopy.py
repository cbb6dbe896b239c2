"""Test copies: an issue or an article as it will go out, whose links all lead somewhere true.

A test copy carries a test token (:func:`signing.test_token`) where a subscriber's copy carries
theirs: its "View in browser" link opens the copy's web view (:func:`rendered_for`), its
article links open the articles' pages before they are published (:func:`opens`: an issue's
own copy of each, or the article of a single-article copy), and its unsubscribe and
preferences links open pages that say it is a test and change nothing.
"""
from __future__ import annotations

from . import issues, signing
from .compose import RenderedIssue, render_issue
from .config import Config
from .content import Article, resolve
from .errors import InputError
from .store import Connection


def of_issue(conn: Connection, config: Config, issue: issues.Issue) -> tuple[RenderedIssue, str]:
    """(the copy, its test token) of an issue: what was sent once it is frozen, else what its
    subscribers would get at its send time."""
    token = signing.test_token(config, "issue", issue.id)
    frozen = issues.frozen_copy(conn, issue.id)
    if frozen is not None:
        return frozen, token
    return issues.render_afresh(conn, config, issue, issue.send_at, read_token=token), token


def of_article(config: Config, article: Article) -> tuple[RenderedIssue, str]:
    """(the copy, its test token) of a single article."""
    token = signing.test_token(config, "article", article.slug)
    return render_issue([article], config, read_token=token), token


def rendered_for(conn: Connection, config: Config, token: str) -> RenderedIssue:
    """The copy a test token names; InputError when the token or what it names is gone."""
    named = signing.read_test_token(config, token)
    if named.kind == "issue":
        issue = issues.get(conn, int(named.ref)) if named.ref.isascii() and named.ref.isdigit() else None
        if issue is None:
            raise InputError("test link: no such issue")
        return of_issue(conn, config, issue)[0]
    return of_article(config, resolve(named.ref, config.content_dir, allow_paths=False))[0]


def opens(config: Config, token: str, kind: str, ref: str | int) -> bool:
    """Whether ``token`` is a genuine test copy's of issue ``ref`` (``kind`` "issue") or of
    article ``ref`` (``kind`` "article"): its links may open that issue's articles, or that
    article, before they go out."""
    if not token:
        return False
    try:
        named = signing.read_test_token(config, token)
    except InputError:
        return False
    return named == signing.TestCopy(kind, str(ref))
