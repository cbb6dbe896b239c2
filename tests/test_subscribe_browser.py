"""Subscribing in a real browser (Debian's Chromium through Playwright): a plain form on another
origin (a second live server on 127.0.0.1) through confirmation, an issue, the preferences page,
the data download, unsubscribe and resubscribe; and axe-core on every new page, light and dark."""
from __future__ import annotations

import copy
import dataclasses
import email
import email.policy
import json
import re
from wsgiref.util import setup_testing_defaults

import pytest

from newsletter import create_app, delivery, issues, store, subscribers
from newsletter.config import load_config

from browser import axe_violations, live_server, log_in
from helpers import REAL
from smtpserver import smtp_server

PASSWORD = "subscribe-browser-password"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on a live server mailing through aiosmtpd: (base URL, recorder, config)."""
    tmp = tmp_path_factory.mktemp("subscribe")
    with smtp_server() as (port, recorder):
        config = load_config(
            overrides={
                "newsletter": {"sender": REAL["sender"], "postal_address": REAL["postal_address"]},
                "database": {"path": str(tmp / "instance" / "newsletter.db")},
                "smtp": {"backend": "smtp", "host": "127.0.0.1", "port": port, "security": "none",
                         "outbox": str(tmp / "instance" / "outbox")},
                "subscribe": {"min_seconds": 0.0, "description": "Money news that fits in a coffee break."},
            },
            environ={"NEWSLETTER_EDITOR_PASSWORD": PASSWORD, "NEWSLETTER_SECRET_KEY": "c" * 32},
        )
        with live_server(create_app({"NEWSLETTER": config})) as base:
            config["newsletter"]["base_url"] = base  # links in the emails lead to this server
            yield base, recorder, config


@pytest.fixture
def context(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 375, "height": 800}, accept_downloads=True)
    context.set_default_timeout(15000)
    yield context
    context.close()


def publisher_site(snippet: str):
    """Another origin: a page of the publisher's own website with the pasted form."""
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Publisher</title></head>'
            f"<body><h1>The publisher's blog</h1>{snippet}</body></html>").encode()

    def app(environ, start_response):
        setup_testing_defaults(environ)
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page]

    return app


def last_message(recorder, count: int) -> email.message.EmailMessage:
    """The ``count``-th message the server has seen, once it has."""
    assert recorder.wait_for_messages(count), "the message never reached the SMTP server"
    return recorder.received[count - 1].message


def link(message, path: str, base: str = r"http://127\.0\.0\.1:\d+") -> str:
    return re.search(rf"{base}{path}\S+", message.get_body(("plain",)).get_content()).group(0)


def public(config):
    """``config`` with the public ``base_url`` an issue must go out with (never one on this
    machine: see check/placeholders); its links are brought back to the test server as a
    reverse proxy would."""
    found = dataclasses.replace(config, values=copy.deepcopy(config.values))
    found["newsletter"]["base_url"] = REAL["base_url"]
    return found


def test_from_another_sites_form_to_confirmed_reader_and_back(context, site):
    base, recorder, config = site
    db = store.connect(config)
    page = context.new_page()
    log_in(page, base, PASSWORD)
    page.goto(f"{base}/subscribers")
    snippet = page.locator("#snippet").input_value()  # what the editor pastes into their site
    assert f'action="{base}/subscribe"' in snippet

    with live_server(publisher_site(snippet)) as other:
        assert other != base
        visitor = context.browser.new_context(viewport={"width": 375, "height": 800}, accept_downloads=True)
        page = visitor.new_page()
        seen = recorder.data_count
        page.goto(other)
        page.get_by_label("Email address").fill("reader@example.com")
        page.get_by_label("Name (optional)").fill("Rea Der")
        page.get_by_role("button", name=re.compile("Subscribe")).click()
        page.wait_for_url(f"{base}/subscribe")
        assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"

    confirmation = last_message(recorder, seen + 1)
    assert confirmation["To"].addresses[0].addr_spec == "reader@example.com"
    page.goto(link(confirmation, "/subscribe/confirm/"))
    button = page.get_by_role("button", name="Confirm my subscription")
    assert button.is_visible()
    assert subscribers.find(db, "reader@example.com").status == "pending"  # the GET confirmed nothing
    button.click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are subscribed"
    assert subscribers.find(db, "reader@example.com").status == "active"

    issue_id = issues.create(db, config.content_dir, ["passkeys-without-the-jargon"], subject="This week")
    report = delivery.send_issue(db, public(config), issue_id)
    assert report.sent == 1 and report.failed == 0
    newsletter = last_message(recorder, seen + 2)
    assert newsletter["Subject"] == "This week" and newsletter["To"].addresses[0].addr_spec == "reader@example.com"

    page.goto(link(newsletter, "/preferences/", re.escape(REAL["base_url"])).replace(REAL["base_url"], base))
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data (JSON)").click()
    mine = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert mine["email"] == "reader@example.com" and mine["consent"]["source"] == "form"
    assert mine["consent"]["confirmed_at"] and [d["subject"] for d in mine["deliveries"]] == ["This week"]
    page.get_by_role("button", name="Unsubscribe").click()
    assert page.get_by_role("status").inner_text() == "You are unsubscribed. You will get no more issues."
    assert subscribers.find(db, "reader@example.com").status == "unsubscribed"
    page.get_by_role("button", name="Resubscribe").click()
    assert subscribers.find(db, "reader@example.com").status == "active"
    visitor.close()
    db.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_new_pages_pass_axe_at_phone_width(browser, site, scheme):  # noqa: F811
    base, recorder, config = site
    context = browser.new_context(viewport={"width": 375, "height": 800}, bypass_csp=True, color_scheme=scheme)
    context.set_default_timeout(15000)
    page = context.new_page()
    checked = {}
    page.goto(f"{base}/subscribe")
    checked["signup"] = axe_violations(page)
    before = recorder.data_count
    page.get_by_label("Email address").fill(f"axe-{scheme}@example.com")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(f"{base}/subscribe")
    checked["check your inbox"] = axe_violations(page)
    message = last_message(recorder, before + 1)
    assert message["To"].addresses[0].addr_spec == f"axe-{scheme}@example.com"
    page.goto(link(message, "/subscribe/confirm/"))
    checked["confirm"] = axe_violations(page)
    page.get_by_role("button", name="Confirm my subscription").click()
    checked["subscribed"] = axe_violations(page)
    page.get_by_role("link", name="Manage your subscription").click()
    checked["preferences"] = axe_violations(page)
    page.get_by_role("button", name="Erase me").click()  # without the box: the error state
    checked["preferences with an error"] = axe_violations(page)
    page.goto(f"{base}/subscribe/confirm/not-a-token")
    checked["invalid link"] = axe_violations(page)
    context.close()
    assert {name: found for name, found in checked.items() if found} == {}
