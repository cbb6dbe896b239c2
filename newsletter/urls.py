"""Every public URL of the app: its route pattern and the absolute link built on ``base_url``.

The web blueprints register these same patterns, so a link written into an email and the view
that answers it cannot drift apart. Editor pages are not here: they are never mailed, and
Flask's ``url_for`` builds them.
"""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

from .config import Config

UNSUBSCRIBE_HELP = "/unsubscribe"
UNSUBSCRIBE = "/unsubscribe/<token>"
WEBVIEW = "/issues/<int:issue_id>/view"
READ_IN_ISSUE = "/issues/<int:issue_id>/read/<slug>"
#: the first form of article links, without the issue; links already mailed keep working
READ = "/read/<slug>"
ARCHIVE = "/archive"
ARCHIVE_FEED = "/archive.atom"
TEST_VIEW = "/test/<token>"

SUBSCRIBE = "/subscribe"
CONFIRM = "/subscribe/confirm/<token>"
PREFERENCES = "/preferences/<token>"

_PLACEHOLDER = re.compile(r"<(?:[a-z]+:)?(\w+)>")


def _link(config: Config, pattern: str, **values: object) -> str:
    """``pattern`` with its ``<placeholders>`` filled (URL-quoted), on ``base_url``."""
    parts = _parts(pattern)
    return config.base_url + "".join(
        quote(str(values[part]), safe="") if i % 2 else part for i, part in enumerate(parts)
    )


@lru_cache(maxsize=None)
def _parts(pattern: str) -> list[str]:
    """``pattern`` cut at its placeholders: text, placeholder name, text, ... (every message
    carries several links: cut each pattern once)."""
    return _PLACEHOLDER.split(pattern)


def unsubscribe_url(config: Config, token: str | None = None) -> str:
    """One subscriber's unsubscribe link; with no token, the page that explains how."""
    if token is None:
        return _link(config, UNSUBSCRIBE_HELP)
    return _link(config, UNSUBSCRIBE, token=token)


def subscribe_url(config: Config) -> str:
    """The hosted signup page, and where signup forms on other sites post."""
    return _link(config, SUBSCRIBE)


def confirm_url(config: Config, token: str) -> str:
    """A confirmation link (double opt-in): its page has the button that confirms."""
    return _link(config, CONFIRM, token=token)


def preferences_url(config: Config, token: str) -> str:
    """One subscriber's preferences page (name, unsubscribe, resubscribe, their data, erase)."""
    return _link(config, PREFERENCES, token=token)


def origin(config: Config) -> str:
    """``scheme://host[:port]`` of ``base_url``: the app's own origin."""
    scheme, _, rest = config.base_url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def webview_url(config: Config, issue_id: int | None, token: str | None = None) -> str:
    """The public web view of an issue; ``token`` (an unsubscribe token) personalises it.

    With no issue (a preview or a test copy) there is no web view yet: the site's front page.
    """
    if issue_id is None:
        return f"{config.base_url}/"
    url = _link(config, WEBVIEW, issue_id=issue_id)
    return f"{url}?t={quote(token, safe='')}" if token else url


def test_view_url(config: Config, token: str) -> str:
    """The web view of a test copy (an issue or an article before it is sent)."""
    return _link(config, TEST_VIEW, token=token)


def read_url(config: Config, slug: str, issue_id: int | None = None, token: str | None = None) -> str:
    """The public page of an article as issue ``issue_id`` carries it; with no issue (an
    article previewed on its own), the page of its slug. A test copy's ``token`` opens it
    before it goes out."""
    if issue_id is None:
        url = _link(config, READ, slug=slug)
    else:
        url = _link(config, READ_IN_ISSUE, issue_id=issue_id, slug=slug)
    return f"{url}?t={quote(token, safe='')}" if token else url


def archive_url(config: Config, page: int = 1) -> str:
    """The public list of sent issues (page 1 is the newest)."""
    url = _link(config, ARCHIVE)
    return f"{url}?page={page}" if page > 1 else url


def archive_feed_url(config: Config) -> str:
    """The Atom feed of the archive."""
    return _link(config, ARCHIVE_FEED)


def is_absolute(url: str) -> bool:
    """An http(s) URL a reader's browser can open from anywhere (not a relative path)."""
    return url.startswith(("https://", "http://"))


def article_url(config: Config, slug: str, published: str, issue_id: int | None = None,
                token: str | None = None) -> str:
    """Where "Read the full article" goes: the article's published URL, else its page here
    (see :func:`read_url`)."""
    return published if is_absolute(published) else read_url(config, slug, issue_id, token)
