"""Helpers shared by the editor views."""
from __future__ import annotations

from flask import abort, current_app

from ... import content
from ...config import Config


def config() -> Config:
    return current_app.config["NEWSLETTER"]


def articles_report() -> tuple[list[content.Article], list[str]]:
    """Every article in the content folder (a file is parsed again once it changes: edits show on
    reload), and load errors."""
    return content.load_articles_report(config().content_dir)


def article_by_slug(slug: str) -> content.Article:
    """The article with this slug, or 404. Only slugs of listed articles: never a path."""
    for article in articles_report()[0]:
        if article.slug == slug:
            return article
    abort(404)
