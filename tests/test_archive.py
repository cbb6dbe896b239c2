"""The public archive (/archive, /archive.atom) and the dashboard's note on waiting digests."""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta, timezone

import feedparser
import pytest
from lxml import etree

from newsletter import create_app, issues, store, subscribers
from newsletter.compose import render_issue
from newsletter.config import load_config
from newsletter.content import resolve
from newsletter.delivery import send_issue

from helpers import CONTENT

ATOM = "{http://www.w3.org/2005/Atom}"
START = datetime(2025, 1, 6, 8, 0, tzinfo=timezone.utc)
PASSWORD = "pw-for-tests"


@pytest.fixture
def site(tmp_path):
    """An app over a copy of the sample articles, with ``make(n)`` to add sent issues."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)

    def build(public: bool = True):
        config = load_config(
            overrides={
                "newsletter": {"name": "Field Notes", "base_url": "https://news.example.org"},
                "content": {"dir": str(content)},
                "database": {"path": str(tmp_path / "instance" / "newsletter.db")},
                "smtp": {"outbox": str(tmp_path / "instance" / "outbox")},
                "schedule": {"timezone": "Europe/Paris"},
                "archive": {"public": public},
            },
            environ={"NEWSLETTER_SECRET_KEY": "s" * 32, "NEWSLETTER_EDITOR_PASSWORD": PASSWORD},
        )
        return config, create_app({"NEWSLETTER": config, "TESTING": True})

    config, app = build()
    conn = store.connect(config.database_path)
    slugs = ["passkeys-without-the-jargon", "the-emergency-fund-ladder",
             "why-your-newsletter-looks-different-everywhere"]

    def make(n: int, state_from: int = 0) -> list[int]:
        made = []
        for i in range(state_from, state_from + n):
            lead = slugs[i % 3]
            issue_id = issues.create(conn, content, [lead], subject=f"Issue number {i + 1}", now=START)
            rendered = render_issue([resolve(lead, content)], config, subject=f"Issue number {i + 1}")
            issues.freeze(conn, issue_id, rendered)
            sent_at = START + timedelta(days=7 * i)
            issues.mark_sending(conn, issue_id, sent_at)
            issues.mark_sent(conn, issue_id, sent_at + timedelta(minutes=5))
            made.append(issue_id)
        return made

    class Site:
        pass

    Site.config, Site.app, Site.conn, Site.make, Site.build = config, app, conn, make, build
    Site.client = app.test_client()
    yield Site
    conn.close()


def test_archive_lists_sent_issues_newest_first_in_pages(site):
    site.make(23)
    draft = issues.create(site.conn, site.config.content_dir, ["passkeys-without-the-jargon"], subject="Not sent yet")
    cancelled = issues.create(site.conn, site.config.content_dir, ["passkeys-without-the-jargon"],
                              subject="Cancelled one")
    issues.cancel(site.conn, cancelled)

    first = site.client.get("/archive")
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("text/html")
    html = first.get_data(as_text=True)
    subjects = re.findall(r'<h2><a href="([^"]+)">([^<]+)</a></h2>', html)
    assert [s for _, s in subjects] == [f"Issue number {n}" for n in range(23, 3, -1)]  # 20, newest first
    assert [href for href, _ in subjects] == [f"https://news.example.org/issues/{n}/view" for n in range(23, 3, -1)]
    assert "Not sent yet" not in html and "Cancelled one" not in html and draft
    assert '<time datetime="2025-06-09T08:00:00+00:00">9 June 2025</time>' in html  # issue 23, Paris date
    excerpt = resolve("passkeys-without-the-jargon", site.config.content_dir).excerpt
    assert f"<p>{excerpt}</p>" in html.replace("&#39;", "'")  # issue 22's lead article
    assert '<link rel="alternate" type="application/atom+xml" title="Field Notes: all issues"' \
           ' href="https://news.example.org/archive.atom">' in html
    assert 'href="https://news.example.org/archive?page=2" rel="next"' in html and "Newer issues" not in html

    second = site.client.get("/archive?page=2").get_data(as_text=True)
    assert [s for s in re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', second)] == [
        "Issue number 3", "Issue number 2", "Issue number 1"]
    assert 'href="https://news.example.org/archive" rel="prev"' in second and "Older issues" not in second
    for bad in ("/archive?page=3", "/archive?page=0", "/archive?page=-1", "/archive?page=two"):
        assert site.client.get(bad).status_code == 404, bad


def test_empty_archive(site):
    page = site.client.get("/archive")
    assert page.status_code == 200 and "No issue has been sent yet." in page.get_data(as_text=True)
    feed = feedparser.parse(site.client.get("/archive.atom").data)
    assert feed.version == "atom10" and not feed.bozo and feed.entries == []


def test_atom_feed_has_every_required_element(site):
    site.make(23)
    response = site.client.get("/archive.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.data)
    assert feed.version == "atom10" and not feed.bozo
    assert feed.feed.id == "https://news.example.org/archive" and feed.feed.title == "Field Notes"
    assert feed.feed.updated_parsed[:5] == (2025, 6, 9, 8, 0)  # the newest issue
    assert feed.feed.author == "Field Notes"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"alternate": "https://news.example.org/archive", "self": "https://news.example.org/archive.atom"}
    assert [e.title for e in feed.entries] == [f"Issue number {n}" for n in range(23, 3, -1)]
    for entry, n in zip(feed.entries, range(23, 3, -1), strict=True):
        assert entry.id == entry.link == f"https://news.example.org/issues/{n}/view"
        assert entry.updated_parsed and entry.published_parsed and entry.summary
    # and the XML itself: one id, title and updated per feed and per entry (RFC 4287 4.1.1, 4.1.2)
    root = etree.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for element in [root, *root.findall(f"{ATOM}entry")]:
        for name in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{name}")) == 1, (element.tag, name)
    assert root.find(f"{ATOM}author/{ATOM}name").text == "Field Notes"


def test_a_private_archive_is_not_found(site):
    site.make(1)
    _, app = site.build(public=False)
    client = app.test_client()
    assert client.get("/archive").status_code == 404
    assert client.get("/archive.atom").status_code == 404


def test_the_archive_links_to_web_views_without_anyones_personal_links(site):
    issue_id = issues.create(site.conn, site.config.content_dir, ["passkeys-without-the-jargon"], subject="Real send")
    subscribers.add(site.conn, "reader@example.com", name="Rea Der")
    report = send_issue(site.conn, site.config, issue_id)
    assert report.exit_code == 0
    href = re.search(r'<h2><a href="https://news.example.org([^"]+)">Real send</a>',
                     site.client.get("/archive").get_data(as_text=True)).group(1)
    view = site.client.get(href)
    assert view.status_code == 200
    page = view.get_data(as_text=True)
    assert "reader@example.com" not in page and "Rea Der" not in page
    assert "https://news.example.org/unsubscribe/" not in page  # only the page that explains how
    assert "https://news.example.org/unsubscribe" in page


def test_the_dashboard_says_a_digest_draft_is_waiting(site):
    from newsletter.store import to_db_time

    client = site.client
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    client.post("/login", data={"password": PASSWORD, "csrf_token": token})
    assert "is waiting for you" not in client.get("/").get_data(as_text=True)
    issue_id = issues.create(site.conn, site.config.content_dir, ["passkeys-without-the-jargon"],
                             subject="Weekly — 2025-10-06")
    site.conn.execute("INSERT INTO digest_runs (digest, slot, outcome, issue_id, recorded_at) VALUES (?, ?, ?, ?, ?)",
                      ("Weekly", to_db_time(START), "created", issue_id, to_db_time(START)))
    page = client.get("/").get_data(as_text=True)
    assert "Digest “Weekly” is waiting for you:" in page
    assert f'href="/issues/{issue_id}">issue {issue_id}, “Weekly — 2025-10-06”</a>' in page
    issues.schedule(site.conn, issue_id, START + timedelta(days=400))
    assert "is waiting for you" not in client.get("/").get_data(as_text=True)
