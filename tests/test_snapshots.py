"""Each issue keeps its articles as they were when it was made: the mail, the web view and
/read show that copy, scoped to the issue, never whatever file has the slug today. Links
already mailed in the first form (/read/SLUG) keep working."""
from __future__ import annotations

import os
import time
from pathlib import Path

import lxml.html
import pytest

from newsletter import content, create_app, delivery, issues, snapshots, store
from newsletter.config import load_config
from newsletter.errors import InputError

from helpers import CONTENT, SEED, add_subscribers, run, write_config

ARTICLE = "---\ntitle: {title}\nauthor: Ann Author\ndate: 2025-01-02\n---\n{body}\n"


@pytest.fixture
def site(tmp_path, database_url):
    folder = tmp_path / "content"
    folder.mkdir()
    config = load_config(
        overrides={"content": {"dir": str(folder)},
                   "database": {"path": str(tmp_path / "instance" / "newsletter.db"), "url": database_url},
                   "smtp": {"backend": "outbox", "outbox": str(tmp_path / "instance" / "outbox")}},
        environ={"NEWSLETTER_SECRET_KEY": "snap-key"},
    )
    conn = store.connect(config)
    add_subscribers(conn, 2)
    yield config, conn, create_app({"NEWSLETTER": config, "TESTING": True}).test_client()
    conn.close()


def write(path: Path, title: str, body: str) -> Path:
    path.write_text(ARTICLE.format(title=title, body=body), encoding="utf-8")
    return path


def send(conn, config, refs) -> int:
    issue_id = issues.create(conn, config.content_dir, refs)
    report = delivery.send_issue(conn, config, issue_id)
    assert report.sent == 2 and issues.get(conn, issue_id).state == "sent"
    return issue_id


def mailed_link(config, issue_id: int) -> str:
    html = issues.frozen_copy(store.connect(config), issue_id).html
    (link,) = [a.get("href") for a in lxml.html.document_fromstring(html).xpath("//a")
               if "Read the full article" in a.text_content()]
    return link.removeprefix(config.base_url)


def text(response) -> str:
    return " ".join(lxml.html.document_fromstring(response.get_data(as_text=True)).text_content().split())


def test_an_article_from_outside_the_content_folder_stays_readable(site, tmp_path):
    config, conn, client = site
    (tmp_path / "drafts").mkdir()
    elsewhere = write(tmp_path / "drafts" / "2025-01-02-outside.md", "From elsewhere",
                      "Written outside the content folder.")
    issue_id = send(conn, config, [str(elsewhere)])
    link = mailed_link(config, issue_id)
    assert link == f"/issues/{issue_id}/read/outside"
    elsewhere.unlink()  # moved away, or deleted: nothing changes for subscribers
    for url in (link, "/read/outside"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Written outside the content folder." in text(response)


def test_edits_after_the_issue_was_made_change_nothing_subscribers_see(site):
    config, conn, client = site
    path = write(config.content_dir / "news.md", "Original title", "Original words.")
    issue_id = issues.create(conn, config.content_dir, ["news"])
    write(path, "Edited title", "Edited words.")  # between making the issue and sending it
    delivery.send_issue(conn, config, issue_id)
    outbox = b"".join(p.read_bytes() for p in (config.outbox_path / "new").iterdir())
    assert b"Original title" in outbox and b"Edited title" not in outbox
    write(path, "Edited again", "Edited again.")
    for url in (f"/issues/{issue_id}/read/news", "/read/news", f"/issues/{issue_id}/view"):
        page = text(client.get(url))
        assert "Original title" in page and "Edited" not in page, url


def test_a_later_draft_with_the_same_slug_is_not_public(site):
    config, conn, client = site
    path = write(config.content_dir / "2025-01-02-update.md", "What went out", "Public words.")
    sent = send(conn, config, ["update"])
    path.unlink()
    write(config.content_dir / "2025-03-04-update.md", "Secret draft", "Not for anyone yet.")
    draft = issues.create(conn, config.content_dir, ["update"])
    for url in ("/read/update", f"/issues/{sent}/read/update"):
        page = text(client.get(url))
        assert "Public words." in page and "Secret draft" not in page, url
    assert client.get(f"/issues/{draft}/read/update").status_code == 404  # the draft's issue: not out
    assert client.get("/issues/999/read/update").status_code == 404


def test_the_public_archive_shows_the_kept_excerpt(site):
    config, conn, client = site
    path = write(config.content_dir / "2025-01-02-arch.md", "Archived", "Public words only.")
    send(conn, config, ["arch"])
    path.unlink()
    write(config.content_dir / "2025-03-04-arch.md", "Secret", "Secret words, not out yet.")
    for url in ("/archive", "/archive.atom"):
        body = client.get(url).get_data(as_text=True)
        assert "Public words only." in body and "Secret words" not in body, url


def test_the_newest_issue_that_went_out_answers_links_of_the_first_form(site):
    config, conn, client = site
    path = write(config.content_dir / "weekly.md", "First week", "One.")
    first = send(conn, config, ["weekly"])
    write(path, "Second week", "Two.")
    second = send(conn, config, ["weekly"])
    assert "Second week" in text(client.get("/read/weekly"))
    assert "First week" in text(client.get(f"/issues/{first}/read/weekly"))
    assert "Second week" in text(client.get(f"/issues/{second}/read/weekly"))


def test_refresh_takes_edits_until_the_issue_goes_out(site):
    config, conn, client = site
    path = write(config.content_dir / "fix.md", "With a tpyo", "Text.")
    issue_id = issues.create(conn, config.content_dir, ["fix"])
    write(path, "Without a typo", "Text.")
    assert issues.rendered(conn, config, issues.get(conn, issue_id)).subject == "With a tpyo"
    issues.refresh_articles(conn, config, issue_id)
    assert issues.rendered(conn, config, issues.get(conn, issue_id)).subject == "Without a typo"
    delivery.send_issue(conn, config, issue_id)
    with pytest.raises(InputError, match="can no longer change"):
        issues.refresh_articles(conn, config, issue_id)


def test_refresh_on_the_command_line(tmp_path):
    path = write_config(tmp_path, backend="outbox")
    folder = tmp_path / "content"
    folder.mkdir()
    path.write_text(path.read_text() + f'[content]\ndir = "{folder}"\n')
    article = write(folder / "cli.md", "Before", "Text.")
    assert run(path, "issue", "create", "cli").exit_code == 0
    write(article, "After", "Text.")
    result = run(path, "issue", "refresh", "1")
    assert result.exit_code == 0 and "issue 1: articles taken again from cli" in result.output
    assert "\tAfter\t" in run(path, "issue", "list").output  # the subject: the refreshed lead title
    config = load_config(path, environ={})
    conn = store.connect(config.database_path)
    assert snapshots.load(conn, 1)[0].title == "After"


def test_an_issue_from_before_copies_were_kept_gets_one_from_an_unchanged_file(site):
    config, conn, client = site
    path = write(config.content_dir / "old.md", "Old issue", "Sent before the upgrade.")
    issue_id = send(conn, config, ["old"])
    conn.execute("DELETE FROM issue_articles")  # as a database from before the upgrade
    assert client.get("/read/old").status_code == 200  # the file is as it was when it went out
    assert snapshots.load(conn, issue_id)  # and is kept from now on
    conn.execute("DELETE FROM issue_articles")
    later = time.time() + 60
    os.utime(path, (later, later))  # edited after the issue went out: not what was mailed
    assert client.get("/read/old").status_code == 404


@pytest.mark.parametrize("path", sorted(CONTENT.iterdir()) + [SEED], ids=lambda p: p.name)
def test_a_kept_copy_is_the_article_itself(path):
    article = content.load_article(path)
    assert snapshots.from_json(snapshots.to_json(article)) == article.__class__(
        **{**article.__dict__, "path": None})
