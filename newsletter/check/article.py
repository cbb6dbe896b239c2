"""The article check: compose an article as a sample subscriber gets it, and check that."""
from __future__ import annotations

import re
from pathlib import Path

from .. import compose, content, mail
from ..config import Config
from ..content import Article
from .branding import check_accent
from .findings import Finding, report
from .message import check_message
from .placeholders import check_placeholders

_LOCAL_URL = re.compile(r"https?://(?:localhost|127\.0\.0\.1|\[::1\])(?::\d+)?(?:/|$)", re.I)


def check_article(article_or_slug: Article | str | Path, config: Config) -> list[Finding]:
    """Findings for the message an article (or its slug or path) composes to, for a sample
    subscriber, plus the config's ``base_url`` check."""
    article = article_or_slug
    if isinstance(article_or_slug, (str, Path)):
        article = content.resolve(str(article_or_slug), config.content_dir)
    rendered = compose.render_issue([article], config)
    return check_composed(mail.sample_message(rendered, config), config)


def check_composed(raw: bytes, config: Config) -> list[Finding]:
    """Findings for a message the app composed (``raw``), plus the config's own checks:
    ``base_url``, the accent colour, and placeholders that must not go out."""
    return report(check_message(raw, config=config) + check_base_url(config)
                  + check_accent(config) + check_placeholders(config))


def check_base_url(config: Config) -> list[Finding]:
    """A warning when links in the email are not https (gentler on this machine)."""
    url = config.base_url
    if url.lower().startswith("https://"):
        return []
    dev = _LOCAL_URL.match(url)
    return [Finding("warning", "base-url-https",
                    f"base_url is {url}: unsubscribe and web-view links are not https"
                    + (" (fine for development on this machine, not for sending)." if dev
                       else "; Gmail and Yahoo expect https links, and readers see 'not secure'."))]
