"""The public article page ``/read/<slug>``: the digest's "Read the full article" link for an
article without a published ``url``. Public once an issue carrying it is sending or sent; an
editor sees any article; slugs only (never paths); article text escaped."""
from __future__ import annotations

import shutil

import lxml.html
import pytest

from newsletter import content, create_app, delivery, issues, store, urls
from newsletter.config import load_config

from browser import live_server
from helpers import CONTENT, add_subscribers, editor_client

SLUG = "the-emergency-fund-ladder"  # a sample article with no front-matter url
EVIL = "<script>alert(1)</script>"


@pytest.fixture
def folder(tmp_path):
    """A content folder: the samples plus an article carrying script in title, body and bio."""
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    (folder / "2024-05-05-evil.md").write_text(
        f'---\ntitle: "Evil {EVIL}"\nauthor: "Mallory {EVIL}"\nauthor_bio: "Bio {EVIL}"\n---\n'
        f"Body {EVIL} and <img src=x onerror=alert(2)>\n\n> Quoted {EVIL}\n",
        encoding="utf-8",
    )
    (folder / "2024-05-06-evil-text.txt").write_text(
        f"Plain {EVIL} title\n\nBy: Mallory\n\nWe write about {EVIL} as text, as readers should see it.\n\n"
        "Second paragraph.\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def config(tmp_path, folder):
    return load_config(
        overrides={
            "content": {"dir": str(folder)},
            "database": {"path": str(tmp_path / "instance" / "newsletter.db")},
            "smtp": {"backend": "outbox", "outbox": str(tmp_path / "instance" / "outbox")},
        },
        environ={"NEWSLETTER_SECRET_KEY": "read-test-key"},
    )


@pytest.fixture
def app(config):
    return create_app({"NEWSLETTER": config, "TESTING": True})


@pytest.fixture
def db(config):
    conn = store.connect(config)
    yield conn
    conn.close()


def send(db, config, refs: list[str]) -> int:
    """A real send of a new issue of ``refs`` to two subscribers through the outbox backend."""
    if not db.execute("SELECT count(*) FROM subscribers").fetchone()[0]:
        add_subscribers(db, 2)
    issue_id = issues.create(db, config.content_dir, refs)
    report = delivery.send_issue(db, config, issue_id)
    assert report.sent == 2 and issues.get(db, issue_id).state == "sent"
    return issue_id




def text_of(response) -> str:
    return " ".join(lxml.html.document_fromstring(response.get_data(as_text=True)).text_content().split())


def test_unsent_article_is_404_for_the_public(app, db, config):
    client = app.test_client()
    assert client.get(f"/read/{SLUG}").status_code == 404
    for state in ("draft", "scheduled", "missed", "cancelled"):  # no issue that has gone out
        issue_id = issues.create(db, config.content_dir, [SLUG])
        db.execute("UPDATE issues SET state = ? WHERE id = ?", (state, issue_id))
        response = client.get(f"/read/{SLUG}")
        assert response.status_code == 404, state
        assert "Log in" not in response.get_data(as_text=True)  # not an editor page either


def test_sent_issue_makes_its_articles_public(app, db, config):
    client = app.test_client()
    send(db, config, [SLUG])
    response = client.get(f"/read/{SLUG}")
    assert response.status_code == 200
    page = lxml.html.document_fromstring(response.get_data(as_text=True))
    article = content.resolve(SLUG, config.content_dir, allow_paths=False)
    assert " ".join(page.xpath("//h1")[0].text_content().split()) == article.title
    assert page.xpath("//title")[0].text_content().startswith(article.title)
    body = text_of(response)
    assert "Maya Lindqvist" in page.find_class("author")[0].text_content()
    assert "budgeting coach" in page.find_class("author")[0].text_content()  # the bio
    assert "Rung Three: The Slow Layer" in [h.text_content() for h in page.xpath("//h2")]
    assert "Stagger the terms so that some money becomes available every few months" in body
    assert "— Benjamin Franklin" in page.xpath("//blockquote")[-1].text_content()
    assert "not financial advice" in page.find_class("disclaimer")[0].text_content()
    assert "Editor view" not in body
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert not page.xpath("//script") and " on" not in "".join(  # no inline script or handlers
        " ".join(el.attrib.keys()) for el in page.iter() if isinstance(el.tag, str))
    # an article of the same content folder that was not in the issue stays private
    assert client.get("/read/passkeys-without-the-jargon").status_code == 404


def test_issue_stored_with_a_file_path_counts_by_slug(app, db, config, folder):
    send(db, config, [str((folder / "2025-12-01-passkeys-without-the-jargon.md").resolve())])
    client = app.test_client()
    assert client.get("/read/passkeys-without-the-jargon").status_code == 200
    assert client.get(f"/read/{SLUG}").status_code == 404


def test_sending_issue_is_public_too(app, db, config):
    issue_id = issues.create(db, config.content_dir, [SLUG])
    db.execute("UPDATE issues SET state = 'sending' WHERE id = ?", (issue_id,))
    assert app.test_client().get(f"/read/{SLUG}").status_code == 200


def test_digest_button_leads_to_the_public_page(app, db, config):
    """The link subscribers get works for them without login once the issue is sent."""
    issue_id = send(db, config, [SLUG])
    page = lxml.html.document_fromstring(issues.frozen_copy(db, issue_id).html)
    (button,) = [a for a in page.xpath("//a") if "Read the full article" in a.text_content()]
    href = button.get("href")
    assert href == f"{config.base_url}/issues/{issue_id}/read/{SLUG}"  # the issue's own copy
    response = app.test_client().get(href[len(config.base_url):])
    assert response.status_code == 200 and "Maya Lindqvist" in text_of(response)


def test_odd_slug_link_is_url_encoded(config):
    assert urls.article_url(config, "odd slug/x?", "") == f"{config.base_url}/read/odd%20slug%2Fx%3F"


def test_editor_sees_any_article_before_sending(app, config):
    client = editor_client(app, config)
    response = client.get(f"/read/{SLUG}")
    assert response.status_code == 200
    assert "Maya Lindqvist" in text_of(response) and "Editor view" in text_of(response)
    assert app.test_client().get(f"/read/{SLUG}").status_code == 404  # others still don't


@pytest.mark.parametrize("url", [
    "/read/..%2F..%2Fetc%2Fpasswd", "/read/%2e%2e%2fconfig", "/read/%2e%2e", "/read/..",
    "/read/%2Fetc%2Fpasswd", "/read//etc/passwd", "/read/..%5Csecret", "/read/../README",
    "/read/2025-11-18-the-emergency-fund-ladder.txt", "/read/.hidden", "/read/nothing-here",
])
def test_paths_and_unknown_slugs_are_404_even_for_an_editor(app, db, config, folder, url):
    (folder / ".hidden.md").write_text("---\ntitle: Hidden\n---\nSecret.\n", encoding="utf-8")
    send(db, config, [SLUG])
    for client in (app.test_client(), editor_client(app, config)):
        response = client.get(url)
        assert response.status_code == 404, url
        assert str(folder) not in response.get_data(as_text=True)  # no server path in the page


def test_article_text_is_escaped(app, db, config):
    send(db, config, ["evil", "evil-text"])
    client = app.test_client()
    response = client.get("/read/evil")  # Markdown: raw HTML goes through the allowlist
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "onerror" not in html
    page = lxml.html.document_fromstring(html)
    assert not page.xpath("//script") and not page.xpath("//img[@src='x']")
    assert page.xpath("//h1")[0].text_content() == f"Evil {EVIL}"  # shown as text
    assert page.xpath("//title")[0].text_content().startswith(f"Evil {EVIL}")
    assert f"Mallory {EVIL}" in page.find_class("author")[0].text_content()
    assert f"Bio {EVIL}" in page.find_class("author")[0].text_content()
    assert "Body" in text_of(response) and "Quoted" in text_of(response)

    response = client.get("/read/evil-text")  # plain text: every character is text
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<script>alert(1)</script>" not in html
    page = lxml.html.document_fromstring(html)
    assert not page.xpath("//script")
    assert page.xpath("//h1")[0].text_content() == f"Plain {EVIL} title"
    assert f"We write about {EVIL} as text" in page.find_class("body")[0].text_content()


@pytest.mark.parametrize("width", [1000, 375])
def test_page_fits_the_screen_in_a_browser(browser, app, db, config, width):
    send(db, config, [SLUG, "passkeys-without-the-jargon"])
    with live_server(app) as base:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                   else route.abort())  # only 127.0.0.1: the sample cover image stays unloaded
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        for slug in (SLUG, "passkeys-without-the-jargon"):
            page.goto(f"{base}/read/{slug}")
            assert page.get_by_role("heading", level=1).is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= width, slug
            body_font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.body p')).fontSize)")
            assert body_font >= 16, slug  # readable without zooming
        context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors
