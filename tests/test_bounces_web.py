"""Bounces in the editor: kept messages readable (escaped), the doctor panel, each issue's
bounce and complaint counts, and the dashboard's warning when the rates pass the limits."""
from __future__ import annotations

import re

import pytest

from newsletter import create_app, issues, subscribers
from newsletter.bounces.apply import Rules, apply, signatures
from newsletter.bounces.classify import classify
from newsletter.bounces.events import record_refusal
from newsletter.config import load_config
from newsletter.store import connect, transaction

from dnsserver import dns_server
from helpers import CONTENT, ROOT, add_subscribers

PASSWORD = "pw-for-tests"
FIXTURES = ROOT / "tests" / "fixtures" / "bounces"


@pytest.fixture
def site(tmp_path):
    with dns_server({("example.com", "TXT"): ["v=spf1 -all"]}) as nameserver:
        config = load_config(
            overrides={"database": {"path": str(tmp_path / "instance" / "newsletter.db")},
                       "doctor": {"nameserver": nameserver}},
            environ={"NEWSLETTER_EDITOR_PASSWORD": PASSWORD, "NEWSLETTER_SECRET_KEY": "s" * 32},
        )
        client = create_app({"NEWSLETTER": config, "TESTING": True}).test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
        client.post("/login", data={"password": PASSWORD, "csrf_token": token.group(1)})
        yield client, config, connect(config.database_path)


def test_pages_need_the_login(tmp_path):
    config = load_config(overrides={"database": {"path": str(tmp_path / "nl.db")}},
                         environ={"NEWSLETTER_EDITOR_PASSWORD": PASSWORD})
    client = create_app({"NEWSLETTER": config, "TESTING": True}).test_client()
    for url in ("/bounces", "/bounces/1", "/doctor"):
        assert client.get(url).status_code in (302, 401, 403)


def test_kept_messages_are_listed_and_shown_escaped(site):
    client, config, conn = site
    raw = (FIXTURES / "human_reply.eml").read_bytes().replace(b"Lovely issue", b"<script>alert(1)</script> Lovely")
    apply(conn, classify(raw, signatures(config)), raw, rules=Rules())
    listing = client.get("/bounces").get_data(as_text=True)
    assert "Re: This week: gardens in winter" in listing and "laura@example.org" in listing
    kept_id = re.search(r'href="/bounces/(\d+)"', listing).group(1)
    page = client.get(f"/bounces/{kept_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Lovely" in page and "<script>alert" not in page
    assert client.get("/bounces/999").status_code == 404


def test_the_doctor_panel_shows_each_check(site):
    client, _, _ = site
    page = client.get("/doctor").get_data(as_text=True)
    for rule in ("spf", "dkim", "dmarc", "https", "unsubscribe"):
        assert f"<strong>{rule}</strong>" in page
    assert "_dmarc.example.com. TXT" in page  # what to add, spelled out


def test_issue_page_and_dashboard_show_bounces_and_warn_over_the_limits(site):
    client, _, conn = site
    add_subscribers(conn, 10)
    issue_id = issues.create(conn, CONTENT, ["the-emergency-fund-ladder"])
    with transaction(conn):
        for sub_id in range(1, 11):
            conn.execute("INSERT INTO deliveries (issue_id, subscriber_id, state, message_id, updated_at)"
                         " VALUES (?, ?, 'sent', 'm', 't')", (issue_id, sub_id))
        record_refusal(conn, 3, issue_id, "550 RCPT TO: 5.1.1 no such user")
    assert subscribers.get(conn, 3).status == "bounced"
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert "<b>1</b> bounced (10.00 % of 10 attempted)" in page
    assert "<b>0</b> complained" in page
    assert "hard-bounce rate 10.00% is over 2%" in page
    dashboard = client.get("/").get_data(as_text=True)
    assert "Mailbox providers may start filtering" in dashboard and f"issue {issue_id}: hard-bounce rate" in dashboard
