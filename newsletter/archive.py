"""The public archive: every sent issue, newest first, as pages and as an Atom feed.

An entry is what went out: the frozen subject, the time sending started, and the lead
article's excerpt as the issue keeps it (the frozen preheader for an issue from before copies
were kept). Entries link to the
issue's web view without any token, so no reader's personal links appear. The Atom feed is
built by ``feedgen`` (RFC 4287: feed id/title/updated/author/self link; entry
id/title/updated/alternate link/summary). ``[archive] public = false`` hides both.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

from . import snapshots, urls
from .config import Config
from .states import IssueState
from .store import Connection, Row, from_db_time

#: Issues per archive page, and in the Atom feed.
PAGE_SIZE = 20
FEED_SIZE = 20


@dataclass(frozen=True)
class Entry:
    """One sent issue as the archive shows it."""

    issue_id: int
    subject: str
    sent_at: datetime
    excerpt: str


@dataclass(frozen=True)
class Page:
    """One page of the archive (``number`` from 1); ``older``: whether another page follows."""

    entries: list[Entry]
    number: int
    older: bool


def page(conn: Connection, config: Config, number: int) -> Page | None:
    """Archive page ``number`` (1 = newest); None when there is no such page (page 1 always is)."""
    if number < 1:
        return None
    entries = _entries(conn, config, PAGE_SIZE + 1, (number - 1) * PAGE_SIZE)
    if not entries and number > 1:
        return None
    return Page(entries[:PAGE_SIZE], number, len(entries) > PAGE_SIZE)


def atom(conn: Connection, config: Config) -> bytes:
    """The Atom feed of the newest :data:`FEED_SIZE` sent issues."""
    entries = _entries(conn, config, FEED_SIZE, 0)
    name = config["newsletter"]["name"]
    feed = FeedGenerator()
    feed.id(urls.archive_url(config))
    feed.title(name)
    feed.author({"name": name})
    feed.link(href=urls.archive_url(config), rel="alternate", type="text/html")
    feed.link(href=urls.archive_feed_url(config), rel="self", type="application/atom+xml")
    feed.language(config["newsletter"]["language"] or "en")
    feed.generator("newsletter")
    if entries:
        feed.updated(entries[0].sent_at)
    for entry in reversed(entries):  # feedgen lists the last added first
        item = feed.add_entry()
        link = urls.webview_url(config, entry.issue_id)
        item.id(link)
        item.title(entry.subject)
        item.link(href=link, rel="alternate", type="text/html")
        item.published(entry.sent_at)
        item.updated(entry.sent_at)
        item.summary(entry.excerpt or entry.subject)
    return feed.atom_str(pretty=True)


def _entries(conn: Connection, config: Config, limit: int, offset: int) -> list[Entry]:
    rows = conn.execute(
        "SELECT id, subject, rendered_subject, rendered_preheader, articles,"
        " COALESCE(started_at, finished_at, created_at) AS sent_at"
        " FROM issues WHERE state = ? ORDER BY sent_at DESC, id DESC LIMIT ? OFFSET ?",
        (IssueState.SENT, limit, offset),
    )
    return [
        Entry(row["id"], row["rendered_subject"] or row["subject"] or f"Issue {row['id']}",
              from_db_time(row["sent_at"]), _lead_excerpt(conn, row))
        for row in rows.fetchall()
    ]


def _lead_excerpt(conn: Connection, row: Row) -> str:
    """The lead article's excerpt as the issue keeps it (:mod:`snapshots`: never the file
    that has its slug today), else the preheader frozen when it was sent."""
    kept = snapshots.load(conn, row["id"])
    excerpt = kept[0].excerpt if kept else ""
    return " ".join((excerpt or row["rendered_preheader"] or "").split())
