"""Editor pages through the test client: dashboard, preview, issues, subscribers, test addresses."""
from __future__ import annotations

import io
import re
import shutil
import time
from datetime import datetime, timezone

import pytest

from newsletter import create_app, issues, store, subscriber_import, subscribers
from newsletter.config import load_config
from newsletter.web import darkmode, sending

from helpers import SEED

PASSWORD = "pw-for-tests"


@pytest.fixture
def site(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(SEED, content / SEED.name)
    config = load_config(
        overrides={
            "content": {"dir": str(content)},
            "database": {"path": str(tmp_path / "instance" / "newsletter.db")},
            "smtp": {"outbox": str(tmp_path / "instance" / "outbox")},
            "schedule": {"timezone": "Europe/Paris"},
        },
        environ={"NEWSLETTER_EDITOR_PASSWORD": PASSWORD, "NEWSLETTER_SECRET_KEY": "s" * 32},
    )
    app = create_app({"NEWSLETTER": config, "TESTING": True})
    client = app.test_client()
    client.post("/login", data={"password": PASSWORD, "csrf_token": _token(client.get("/login"))})
    assert client.get("/").status_code == 200
    return app, client, config


def _token(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def post(client, url, data=None, **kw):
    """POST a form with the CSRF token a page of the app carries."""
    data = dict(data or {})
    data["csrf_token"] = _token(client.get("/test-addresses"))
    return client.post(url, data=data, **kw)


def seed_slug(config) -> str:
    from newsletter import content

    return content.load_articles(config.content_dir)[0].slug


def test_dashboard_lists_articles_issues_and_active_subscribers(site):
    app, client, config = site
    conn = store.connect(config)
    for n in range(3):
        subscribers.add(conn, f"reader{n}@example.com")
    subscribers.remove(conn, "reader2@example.com")
    issues.create(conn, config.content_dir, [seed_slug(config)], subject="March digest",
                  send_at=datetime(2031, 3, 1, 8, 0, tzinfo=timezone.utc))
    (config.content_dir / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    page = client.get("/").get_data(as_text=True)
    assert "Trump Rejects Maduro Amnesty in Tense Phone Call" in page
    assert re.search(r'<span class="stat-n">2</span> active subscribers', page)
    assert "March digest" in page and "scheduled" in page
    assert "09:00 CET" in page  # 08:00 UTC shown in Europe/Paris
    assert "pending <b>2</b>" in page
    assert "broken.md" in page  # the file that failed is reported, the rest still listed


def test_preview_reflects_edits_on_reload(site):
    app, client, config = site
    md = config.content_dir / "2024-05-01-fresh-news.md"
    md.write_text("---\ntitle: First title\nauthor: Ann Author\n---\nSome body text here.\n")
    first = client.get("/articles/fresh-news")
    assert first.status_code == 200 and "First title" in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    md.write_text("---\ntitle: Second title\nauthor: Ann Author\n---\nSome body text here.\n")
    again = client.get("/articles/fresh-news").get_data(as_text=True)
    assert "Second title" in again and "First title" not in again


def test_preview_page_parts_and_eml_download(site):
    app, client, config = site
    slug = seed_slug(config)
    page = client.get(f"/articles/{slug}").get_data(as_text=True)
    # light & dark, 2 widths; same origin only so that the page can fit each frame to its email's
    # height: without allow-scripts nothing in the email ever runs
    assert page.count('sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"') == 4
    assert "allow-scripts" not in page
    assert "of Gmail&#39;s 102.0 KB" in page or "of Gmail's 102.0 KB" in page
    assert 'id="panel-text"' in page and 'id="panel-raw"' in page and 'id="panel-checks"' in page
    eml = client.get(f"/articles/{slug}/message.eml")
    assert eml.mimetype == "message/rfc822"
    assert "attachment" in eml.headers["Content-Disposition"]
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in eml.data
    assert b"multipart/alternative" in eml.data


def test_checker_findings_stand_beside_the_email_errors_first(site):
    import lxml.html

    app, client, config = site
    config["newsletter"]["postal_address"] = ""  # an error: CAN-SPAM wants a postal address
    page = lxml.html.document_fromstring(client.get(f"/articles/{seed_slug(config)}").get_data(as_text=True))
    panel = page.get_element_by_id("panel-email")
    box = panel.cssselect("details.frame-findings")[0]
    assert box.get("open") is not None  # errors are shown unfolded
    severities = [li.get("class").split("finding-")[1] for li in box.cssselect("li.finding")]
    assert severities[0] == "error" and sorted(severities, key=lambda s: s != "error") == severities
    assert "postal-address" in box.text_content() and "base-url-https" in box.text_content()
    assert panel.cssselect("iframe.email-frame")  # in the same panel as the email itself


def test_dark_view_turns_dark_rules_on_and_light_rules_off():
    html = (
        "<html><head><style>.a{color:#000}"
        "@media (prefers-color-scheme: dark){.a{color:#fff !important}}"
        "@media screen and (prefers-color-scheme: light){.b{color:red}}"
        "@media (max-width: 600px){.c{width:100%}}</style></head><body></body></html>"
    )
    assert darkmode.has_dark_rules(html) and not darkmode.has_dark_rules("<style>.a{}</style>")
    dark = darkmode.dark_view(html)
    assert "@media all{.a{color:#fff !important}}" in dark
    assert "@media not all{.b{color:red}}" in dark
    assert "@media (max-width: 600px){" in dark
    assert dark.index('<meta name="color-scheme" content="dark">') < dark.index("<style>.a")


def test_create_schedule_and_cancel_an_issue_in_the_configured_zone(site):
    app, client, config = site
    (config.content_dir / "2024-05-02-second.md").write_text("---\ntitle: Second piece\n---\nText.\n")
    seed = seed_slug(config)
    response = post(client, "/issues", {
        "article": [seed, "second"], f"order-{seed}": "2", "order-second": "1",
        "subject": "Spring digest", "send_at": "2031-07-01T09:30",
    })
    assert response.status_code == 302
    issue_id = int(response.headers["Location"].rsplit("/", 1)[1])
    conn = store.connect(config)
    issue = issues.get(conn, issue_id)
    assert issue.articles == ("second", seed)  # the order given, not the listing order
    assert issue.subject == "Spring digest" and issue.state == "scheduled"
    assert issue.send_at == datetime(2031, 7, 1, 7, 30, tzinfo=timezone.utc)  # 09:30 CEST
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert "09:30 CEST" in page and 'value="2031-07-01T09:30"' in page

    post(client, f"/issues/{issue_id}/schedule", {"send_at": "2031-12-24T18:00"})
    assert issues.get(conn, issue_id).send_at == datetime(2031, 12, 24, 17, 0, tzinfo=timezone.utc)
    bad = post(client, f"/issues/{issue_id}/schedule", {"send_at": "2031-03-30T02:30"}, follow_redirects=True)
    assert "does not exist in Europe/Paris" in bad.get_data(as_text=True)  # the DST gap
    post(client, f"/issues/{issue_id}/cancel")
    assert issues.get(conn, issue_id).state == "cancelled"
    assert "Cancel issue" not in client.get(f"/issues/{issue_id}").get_data(as_text=True)


def test_send_now_confirms_the_count_then_sends_in_its_own_process(site):
    app, client, config = site
    conn = store.connect(config)
    for n in range(3):
        subscribers.add(conn, f"reader{n}@example.com")
    issue_id = issues.create(conn, config.content_dir, [seed_slug(config)], subject="Now")
    confirm = client.get(f"/issues/{issue_id}/send").get_data(as_text=True)
    assert re.search(r'<strong class="recipients">3</strong> recipients', confirm)
    assert issues.get(conn, issue_id).state == "draft"  # asking sends nothing

    response = post(client, f"/issues/{issue_id}/send")
    assert response.status_code == 302
    for _ in range(120):  # bounded wait for the child process (outbox backend)
        if issues.get(conn, issue_id).state == "sent":
            break
        time.sleep(0.25)
    assert issues.get(conn, issue_id).state == "sent", sending.log_tail(config, issue_id)
    assert issues.delivery_counts(conn, issues.get(conn, issue_id))["sent"] == 3
    assert len(list((config.outbox_path / "new").iterdir())) == 3
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert "sent <b>3</b>" in page
    assert f"issue {issue_id}: sent 3" in sending.log_tail(config, issue_id)  # the child process sent it


def test_the_send_process_gets_exactly_the_apps_settings(site):
    app, client, config = site
    path = sending.config_file(config)
    assert load_config(path, environ={}).values == config.values
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_send_now_from_an_app_with_overrides_sends_that_apps_issue(tmp_path, monkeypatch):
    """An app made with overrides over a config file: the sending child reads the app's
    settings (its database), not the plain file's."""
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(SEED, content / SEED.name)
    file_db, app_db = tmp_path / "file" / "news.db", tmp_path / "app" / "news.db"
    config_path = tmp_path / "config.toml"
    config_path.write_text(f'[content]\ndir = "{content}"\n[database]\npath = "{file_db}"\n'
                           f'[smtp]\noutbox = "{tmp_path / "file" / "outbox"}"\n')
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(config_path))
    monkeypatch.setenv("NEWSLETTER_EDITOR_PASSWORD", PASSWORD)
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "o" * 32)
    app = create_app({"TESTING": True, "NEWSLETTER_OVERRIDES": {
        "database": {"path": str(app_db)}, "smtp": {"outbox": str(tmp_path / "app" / "outbox")}}})
    config = app.config["NEWSLETTER"]
    assert load_config(sending.config_file(config), environ={}).values == config.values
    for path in (file_db, app_db):  # issue 1 in each database, one subscriber each
        conn = store.connect(path)
        subscribers.add(conn, f"reader@{path.parent.name}.example.com")
        issues.create(conn, config.content_dir, [seed_slug(config)], subject=f"From {path.parent.name}")
        conn.close()
    client = app.test_client()
    client.post("/login", data={"password": PASSWORD, "csrf_token": _token(client.get("/login"))})
    assert post(client, "/issues/1/send").status_code == 302
    conn = store.connect(app_db)
    for _ in range(120):  # bounded wait for the child process (outbox backend)
        if issues.get(conn, 1).state == "sent":
            break
        time.sleep(0.25)
    assert issues.get(conn, 1).state == "sent", sending.log_tail(config, 1)
    assert issues.get(store.connect(file_db), 1).state == "draft"  # the file's database untouched
    assert not (tmp_path / "file" / "outbox" / "new").exists()


def test_subscribers_add_search_paginate_remove(site):
    app, client, config = site
    conn = store.connect(config)
    subscriber_import.import_rows(conn, [(f"user{n:03}@example.com", f"user{n:03}@example.com", f"User {n}")
                                   for n in range(60)])
    post(client, "/subscribers", {"email": "Zed@Example.com", "name": "Zed Zebra"})
    post(client, "/subscribers", {"email": "not an address"})
    page = client.get("/subscribers").get_data(as_text=True)
    assert "page 1 of 2" in page and "user000@example.com" in page and "user055@example.com" not in page
    assert "user055@example.com" in client.get("/subscribers?page=2").get_data(as_text=True)
    assert client.get("/subscribers?page=9").status_code == 404
    found = client.get("/subscribers?q=ZED").get_data(as_text=True)  # the start of the address, any case
    assert "Zed@example.com" in found and "user001" not in found
    assert "1 match" in found
    assert "No subscriber matches" in client.get("/subscribers?q=zebra").get_data(as_text=True)  # not names
    assert "user0" not in client.get("/subscribers?q=%25").get_data(as_text=True)  # % is literal
    zed = subscribers.find(conn, "zed@example.com")
    post(client, f"/subscribers/{zed.id}/remove")
    assert subscribers.get(conn, zed.id).status == "unsubscribed"
    assert subscribers.count(conn, "active") == 60
    assert subscribers.find(conn, "not an address") is None


def test_csv_upload_reports_bad_rows_by_line(site):
    app, client, config = site
    csv = "email,name\nok1@example.com,One\nbroken-address,Two\nok2@example.com,\nok1@example.com,Again\n"
    response = post(client, "/subscribers/import",
                    {"file": (io.BytesIO(csv.encode()), "list.csv")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "list.csv:3:" in page and "list.csv:5: duplicate of line 2" in page
    assert '<span class="stat-n">2</span> new' in page
    assert "newsletter-import-" not in page  # no server paths
    conn = store.connect(config)
    assert subscribers.count(conn, "active") == 2
    again = post(client, "/subscribers/import",
                 {"file": (io.BytesIO(csv.encode()), "list.csv")}, content_type="multipart/form-data")
    assert '<span class="stat-n">0</span> new' in again.get_data(as_text=True)
    no_email = post(client, "/subscribers/import", {"file": (io.BytesIO(b"name\nx\n"), "x.csv")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "no &#39;email&#39; column" in no_email.get_data(as_text=True)


def test_test_addresses_are_saved_and_removed(site):
    app, client, config = site
    post(client, "/test-addresses", {"email": "Editor@Example.com"})
    post(client, "/test-addresses", {"email": "nope"})
    page = client.get("/test-addresses").get_data(as_text=True)
    assert "<span>Editor@example.com</span>" in page and "Not added" in page
    post(client, "/test-addresses/remove", {"email": "Editor@example.com"})
    assert "<span>Editor@example.com</span>" not in client.get("/test-addresses").get_data(as_text=True)


def test_unknown_issue_and_article_are_404(site):
    app, client, config = site
    assert client.get("/issues/999").status_code == 404
    assert client.get("/issues/999/preview").status_code == 404
    assert client.get("/articles/no-such-article").status_code == 404


def test_issue_preview_and_eml_use_the_issue_subject(site):
    app, client, config = site
    conn = store.connect(config)
    issue_id = issues.create(conn, config.content_dir, [seed_slug(config)], subject="Weekly <b>digest</b>")
    post(client, "/test-addresses", {"email": "editor@example.com"})
    page = client.get(f"/issues/{issue_id}/preview").get_data(as_text=True)
    assert 'class="inbox-subject">Weekly &lt;b&gt;digest&lt;/b&gt;</span>' in page
    assert f"/issues/{issue_id}/test" in page
    eml = client.get(f"/issues/{issue_id}/message.eml")
    assert eml.status_code == 200 and b"Subject: Weekly <b>digest</b>" in eml.data
