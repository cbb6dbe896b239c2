"""The editor knows what is happening and can fix it from the browser (issue 13), in Debian's
Chromium against the app on a live server, mailing a real SMTP server on 127.0.0.1. One test
per thing an editor sees: cron's last run, a stalled send, states and buttons during "Send
now", real subjects, editing, send times, test copies, public pages, frames and phones,
branding, placeholders and the List-Id."""
from __future__ import annotations

import re
import shutil
import socket
from datetime import datetime, timezone

import lxml.html
import pytest

from newsletter import content, create_app, delivery, issues, schedule, store, subscribers, testers
from newsletter.config import load_config

from browser import live_server, log_in
from helpers import REAL, SEED
from smtpserver import smtp_server

PASSWORD = "editor-browser-password"
SECOND = "---\ntitle: Quiet streets, loud ideas\nauthor: Ann Author\n---\nWhy quiet streets make for loud ideas.\n"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    """(base URL, SMTP recorder, config, database) of the app on a live server, over SQLite
    and over PostgreSQL (where whether a sender is alive is known differently)."""
    url = request.getfixturevalue("postgres").new_database() if request.param == "postgresql" else ""
    tmp = tmp_path_factory.mktemp("editor")
    folder = tmp / "content"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    (folder / "2024-05-01-quiet-streets.md").write_text(SECOND, encoding="utf-8")
    with smtp_server() as (port, recorder):
        config = load_config(
            overrides={
                "newsletter": dict(REAL),
                "content": {"dir": str(folder)},
                "database": {"path": str(tmp / "instance" / "newsletter.db"), "url": url},
                "smtp": {"backend": "smtp", "host": "127.0.0.1", "port": port, "security": "none",
                         "connections": 1, "timeout": 5.0, "outbox": str(tmp / "instance" / "outbox")},
                "schedule": {"timezone": "Europe/Paris"},
            },
            environ={"NEWSLETTER_EDITOR_PASSWORD": PASSWORD, "NEWSLETTER_SECRET_KEY": "e" * 32},
        )
        conn = store.connect(config)
        for n in range(3):
            subscribers.add(conn, f"reader{n}@example.com", f"Reader {n}")
        testers.add(conn, "editor@example.com")
        with live_server(create_app({"NEWSLETTER": config})) as base:
            yield base, recorder, config, conn


@pytest.fixture
def page(browser, site):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20000)
    log_in(page, site[0], PASSWORD)
    yield page
    context.close()


def seed():
    return content.load_article(SEED)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_1_dashboard_and_scheduled_issue_say_whether_cron_runs_send_due(page, site):
    base, _, config, conn = site
    conn.execute("DELETE FROM send_due_runs")
    issue_id = issues.create(conn, config.content_dir, [seed().slug], subject="Cron check",
                             send_at=datetime(2031, 1, 5, 8, 0, tzinfo=timezone.utc))
    page.goto(f"{base}/")
    card = page.locator(".cron-card")
    assert "last run: never" in card.inner_text()
    assert re.search(r"\*/5 \* \* \* \* cd .+ -m newsletter send-due", card.locator("pre").inner_text())
    page.goto(f"{base}/issues/{issue_id}")
    status = page.locator(".status-card").inner_text()
    assert "Sent by cron (send-due); last run: never" in status
    assert "send-due" in page.locator("pre.crontab").inner_text()

    list(schedule.send_due(conn, config, datetime.now(timezone.utc)))  # cron runs it: nothing due
    page.goto(f"{base}/")
    assert "last run: less than a minute ago (idle)" in page.locator(".cron-card").inner_text()
    assert page.locator(".cron-card pre").count() == 0
    page.goto(f"{base}/issues/{issue_id}")
    assert "last run: less than a minute ago" in page.locator(".status-card").inner_text()
    issues.cancel(conn, issue_id)


def test_2_a_stalled_send_says_what_went_wrong_and_what_to_do(page, site):
    base, recorder, config, conn = site
    issue_id = issues.create(conn, config.content_dir, [seed().slug], subject="Stalls")
    port = config["smtp"]["port"]
    config["smtp"]["port"] = closed_port()  # the mail server is down
    try:
        page.goto(f"{base}/issues/{issue_id}/send")
        page.get_by_role("button", name=re.compile("Yes, send")).click()
        page.get_by_role("heading", name="The send has stalled").wait_for(timeout=60000)
        status = page.locator(".status-card").inner_text()
        assert "No sender process is running" in status
        assert "The mail server could not be reached" in status and "Connection refused" in status
        assert "press Send now again" in status
        assert page.locator(".badge").first.inner_text().lower() == "sending"
        assert "no sender process is running" in page.locator(".sender").inner_text()
        assert "exit status 3" in page.locator(".last-send").inner_text()
        assert page.get_by_role("link", name="Send now…").is_visible()  # what the page says to do
    finally:
        config["smtp"]["port"] = port
    before = len(recorder.received)
    page.get_by_role("link", name="Send now…").click()
    page.get_by_role("button", name=re.compile("Yes, send")).click()
    page.locator(".badge-sent").first.wait_for(timeout=60000)
    assert len(recorder.received) == before + 3
    assert page.locator(".status-card").count() == 0


def test_3_during_send_now_badge_and_buttons_agree_and_the_dashboard_shows_when(page, site):
    base, recorder, config, conn = site
    issue_id = issues.create(conn, config.content_dir, [seed().slug], subject="Right now")
    recorder.delay = 0.7  # a slow server keeps the send going while we look
    try:
        page.goto(f"{base}/issues/{issue_id}/send")
        page.get_by_role("button", name=re.compile("Yes, send")).click()
        page.wait_for_url(f"{base}/issues/{issue_id}")
        # whether or not the child has marked it sending yet, the page says it is being sent; the
        # page reloads itself while the send runs, so read one copy of it
        shown = lxml.html.fromstring(page.content())
        assert shown.cssselect("h1 .badge")[0].text_content().lower() == "sending"
        buttons = [e.text_content().strip() for e in shown.cssselect("main a.btn, main button")]
        assert "Send now…" not in buttons and "Save changes" not in buttons
        assert "Cancel issue" in buttons  # sending can be cancelled
        assert not shown.cssselect("#sched, #edit")
        assert "running" in shown.cssselect(".sender")[0].text_content()
        page.locator("h1 .badge-sent").wait_for(timeout=60000)
    finally:
        recorder.delay = 0.0
    # sent: newcomers can still get it, once the sender process has exited (the page reloads
    # itself until then)
    page.get_by_role("link", name="Send now…").wait_for(timeout=30000)
    finished = issues.get(conn, issue_id).finished_at.astimezone(config.timezone)
    page.goto(f"{base}/")
    row = page.locator("tr", has=page.get_by_role("link", name="Right now"))
    assert row.locator(".badge").inner_text().lower() == "sent"
    assert f"sent {finished:%a %-d %b %Y, %H:%M}" in row.inner_text()  # the real send time, not "—"


def test_4_lists_show_the_subject_subscribers_get_and_article_titles(page, site):
    base, _, config, conn = site
    issue_id = issues.create(conn, config.content_dir, [seed().slug, "quiet-streets"])  # no subject of its own
    for path in ("/", "/issues"):
        page.goto(base + path)
        row = page.locator("tr", has=page.locator(f'a[href="/issues/{issue_id}"]'))
        assert row.locator("a.subject").inner_text() == seed().title
        assert "subject from" not in row.inner_text()
        link = row.get_by_role("link", name="Quiet streets, loud ideas")
        assert link.get_attribute("href") == "/articles/quiet-streets"
    page.goto(f"{base}/issues/{issue_id}")
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Issue {issue_id}: {seed().title}")
    page.get_by_role("link", name="Quiet streets, loud ideas").click()
    page.wait_for_url(f"{base}/articles/quiet-streets")
    issues.cancel(conn, issue_id)


def test_5_create_keep_what_was_typed_edit_and_create_from_an_article(page, site):
    base, _, config, conn = site
    page.goto(f"{base}/issues")
    page.get_by_role("checkbox", name="Quiet streets, loud ideas").check()
    page.get_by_label("Subject").fill("Typed subject")
    page.get_by_label("Send at").fill("2020-01-01T09:00")  # long past: refused
    page.get_by_role("button", name="Create issue").click()
    assert "Issue not created" in page.locator(".flash-error").inner_text()
    assert page.get_by_label("Subject").input_value() == "Typed subject"  # nothing lost
    assert page.get_by_label("Send at").input_value() == "2020-01-01T09:00"
    assert page.get_by_role("checkbox", name="Quiet streets, loud ideas").is_checked()
    page.get_by_label("Send at").fill("")
    page.get_by_role("button", name="Create issue").click()
    page.wait_for_url(re.compile(r"/issues/\d+$"))
    issue_id = int(page.url.rsplit("/", 1)[1])
    assert issues.get(conn, issue_id).subject == "Typed subject"

    edit = page.locator("#edit").locator("xpath=..")
    edit.get_by_label("Subject").fill("Edited subject")
    edit.get_by_role("checkbox", name=seed().title).uncheck()
    edit.get_by_role("button", name="Save changes").click()
    page.get_by_text("Saved.").wait_for()
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Issue {issue_id}: Edited subject")
    assert issues.get(conn, issue_id).articles == ("quiet-streets",)

    page.goto(f"{base}/articles/quiet-streets")
    page.get_by_role("button", name="Create an issue from this article").click()
    page.wait_for_url(re.compile(r"/issues/\d+$"))
    created = issues.get(conn, int(page.url.rsplit("/", 1)[1]))
    assert created.articles == ("quiet-streets",) and created.state == "draft"

    sent = issues.create(conn, config.content_dir, [seed().slug], subject="Already out")
    delivery.send_issue(conn, config, sent)
    page.goto(f"{base}/issues")
    row = page.locator("#new").locator("xpath=..").locator("tr", has=page.get_by_role("checkbox", name=seed().title))
    assert re.search(rf"sent in issue [\d, ]*\b{sent}\b", row.inner_text().lower())
    issues.cancel(conn, issue_id)
    issues.cancel(conn, created.id)


def test_6_send_times_show_the_zone_and_utc(page, site):
    base, _, config, conn = site
    issue_id = issues.create(conn, config.content_dir, ["quiet-streets"])
    page.goto(f"{base}/issues/{issue_id}")
    assert "Europe/Paris" in page.locator("label[for=send_at]").inner_text()
    page.get_by_label(re.compile("Send at")).fill("2031-07-01T09:30")
    page.get_by_role("button", name="Schedule").click()
    page.get_by_text("Scheduled for").wait_for()
    assert "Tue 1 Jul 2031, 09:30 CEST (07:30 UTC)" in page.locator(".facts-list").inner_text()
    issues.cancel(conn, issue_id)


def test_7_every_link_of_a_test_copy_leads_somewhere_true(browser, page, site):  # noqa: F811
    base, recorder, config, conn = site
    issue_id = issues.create(conn, config.content_dir, ["quiet-streets", seed().slug], subject="Test links")
    page.goto(f"{base}/issues/{issue_id}/preview")
    before = len(recorder.received)
    page.get_by_role("button", name="Send test").click()
    page.get_by_text("Test sent to editor@example.com").wait_for()
    got = recorder.received[before].message
    html = got.get_body(("html",)).get_content()
    here = lambda url: url.replace(config.base_url, base)  # noqa: E731  (base_url is the public name)
    links = {a.text_content().strip(): here(a.get("href")) for a in lxml.html.fromstring(html).iter("a")}
    unsubscribe = here(re.search(r"<([^>]+)>", got["List-Unsubscribe"]).group(1))
    assert "/unsubscribe/test-issue-" in unsubscribe and links["Unsubscribe"] == unsubscribe

    reader = browser.new_context()  # the test copy's reader: not logged in
    tab = reader.new_page()
    tab.goto(links["View in browser"])
    assert "Test copy" in tab.get_by_role("note").inner_text()
    assert "Quiet streets, loud ideas" in tab.content()
    tab.goto(links["Read the full article"])  # no published URL: its page here, before it is sent
    assert tab.get_by_role("heading", level=1).inner_text() == "Quiet streets, loud ideas"
    assert "Test copy: this article has not been sent yet" in tab.locator(".notice").inner_text()
    response = tab.goto(unsubscribe)
    assert response.status == 200
    assert tab.get_by_role("heading", level=1).inner_text() == "This is a test copy"
    one_click = tab.request.post(unsubscribe, form={"List-Unsubscribe": "One-Click"})
    assert one_click.status == 200 and "test copy" in one_click.text()
    assert subscribers.count(conn, "active") == 3  # nobody unsubscribed
    tab.goto(f"{base}/read/quiet-streets?t=test-issue-{issue_id}.forged.sig")
    assert tab.get_by_role("heading", level=1).inner_text() == "Not found"
    reader.close()
    issues.cancel(conn, issue_id)


def test_8_public_pages_have_their_own_frame(browser, site):  # noqa: F811
    base = site[0]
    context = browser.new_context(viewport={"width": 375, "height": 800})
    tab = context.new_page()
    for path in ("/issues/9999/view", "/read/no-such-article", "/no/such/page", "/unsubscribe/not-a-token"):
        tab.goto(base + path)
        assert tab.locator(".site").inner_text().lower() == "the newsletter", path
        text = tab.locator("body").inner_text().lower()
        assert "dashboard" not in text and "editor" not in text, path
        assert tab.get_by_role("navigation").count() == 0, path
    context.close()


def test_9_preview_frames_fit_the_email_and_pages_fit_a_phone(browser, page, site):  # noqa: F811
    base = site[0]
    page.goto(f"{base}/articles/{seed().slug}")
    for selector in ("#panel-email .frame-desktop iframe", "#panel-email .frame-phone iframe"):
        frame = page.locator(selector)
        page.wait_for_function("f => f.clientHeight >= f.contentDocument.documentElement.scrollHeight - 1",
                               arg=frame.element_handle())
        footer = frame.element_handle().content_frame().get_by_role("link", name="Unsubscribe").bounding_box()
        box = frame.bounding_box()  # both in the page's coordinates: the footer is inside the frame
        assert box["y"] < footer["y"] and footer["y"] + footer["height"] <= box["y"] + box["height"] + 1
    context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True)
    phone = context.new_page()
    log_in(phone, base, PASSWORD)
    issue_id = issues.create(site[3], site[2].content_dir, [seed().slug, "quiet-streets"])
    for n in range(120):  # three pages of subscribers: the pager shows First, Previous, Next and Last
        subscribers.add(site[3], f"pager{n}@example.com")
    for path in ("/", "/issues", f"/issues/{issue_id}", "/subscribers", "/subscribers?page=2", "/test-addresses"):
        phone.goto(base + path)
        for link in phone.locator("nav[aria-label=Main] a").all():
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (path, link.inner_text())
        assert phone.evaluate("[...document.querySelectorAll('.table-wrap')]"
                              ".every(w => w.scrollWidth <= w.clientWidth)"), path
        # on a phone the page widens to fit what overflows (innerWidth too): compare with the screen
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375, path
        assert phone.evaluate("window.innerWidth") == 375, path
    context.close()


def test_10_branding_logo_accent_footer_and_template_overrides(page, site, tmp_path):
    base, _, config, _ = site
    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "digest.txt").write_text("OUR OWN TEXT PART for {{ name }}\n{{ tokens.unsubscribe_url }}\n"
                                          "{{ postal_address }}\n")
    saved = dict(config["branding"])
    config["branding"].update(logo_url="https://example.org/logo.png", logo_width=180, logo_alt="Quiet Co.",
                              accent_color="#ffcc00", footer_text="Sent with care by Quiet Co.",
                              templates=str(overrides))
    try:
        page.goto(f"{base}/articles/quiet-streets")
        frame = page.frame_locator("#panel-email .frame-desktop iframe").first
        logo = frame.get_by_role("img", name="Quiet Co.")
        assert logo.get_attribute("src") == "https://example.org/logo.png" and logo.get_attribute("width") == "180"
        assert frame.get_by_text("Sent with care by Quiet Co.").is_visible()
        button = frame.get_by_role("link", name="Read the full article")
        assert button.evaluate("a => getComputedStyle(a).backgroundColor") == "rgb(255, 204, 0)"
        findings = page.locator("#panel-checks").inner_text()
        assert findings.count("accent-contrast") == 1 and "on white" in findings  # yellow: fine on dark
        page.get_by_role("tab", name="Plain text").click()
        assert page.locator("#panel-text pre").inner_text().startswith("OUR OWN TEXT PART for")
    finally:
        config["branding"].clear()
        config["branding"].update(saved)


def test_11_placeholders_are_refused_before_anything_goes_out(page, site):
    base, recorder, config, conn = site
    issue_id = issues.create(conn, config.content_dir, ["quiet-streets"], subject="Placeholders")
    saved = dict(config["newsletter"])
    config["newsletter"].update(sender="The Newsletter <newsletter@example.com>",
                                postal_address="123 Example Street, Springfield, USA",
                                base_url="http://127.0.0.1:5000")
    try:
        page.goto(f"{base}/issues/{issue_id}/preview")
        errors = [li.inner_text() for li in page.locator("#panel-checks li.finding-error").all()]
        assert sum("placeholder" in e for e in errors) == 3
        before = len(recorder.received)
        page.goto(f"{base}/issues/{issue_id}")
        page.get_by_role("link", name="Send now…").click()
        flash = page.locator(".flash-error").inner_text()
        assert flash.startswith("Not sending: newsletter.sender is still the built-in newsletter@example.com")
        assert page.url == f"{base}/issues/{issue_id}"
        assert issues.get(conn, issue_id).state == "draft" and len(recorder.received) == before
    finally:
        config["newsletter"].clear()
        config["newsletter"].update(saved)
    issues.cancel(conn, issue_id)


def test_12_list_id_stays_when_the_sender_changes(page, site):
    base, _, config, _ = site
    page.goto(f"{base}/articles/quiet-streets")
    page.get_by_role("tab", name="Raw message").click()
    assert "List-Id: The Newsletter <the-newsletter.news.example.org>" in page.locator("#panel-raw pre").inner_text()
    saved = config["newsletter"]["sender"]
    config["newsletter"]["sender"] = "Someone Else <other@example.net>"
    try:
        page.reload()
        page.get_by_role("tab", name="Raw message").click()
        raw = page.locator("#panel-raw pre").inner_text()
        assert "other@example.net" in raw and "List-Id: The Newsletter <the-newsletter.news.example.org>" in raw
    finally:
        config["newsletter"]["sender"] = saved
