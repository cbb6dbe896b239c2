"""Numbers from outside (URL parts, query strings, form fields, command arguments) that do not fit
a database id are "not found" or "bad request", never a server error or a traceback."""
from __future__ import annotations

import re

import pytest

from newsletter import create_app, issues, store
from newsletter.config import load_config

from helpers import CONTENT, run, write_config

PASSWORD = "numbers-test-password"
HUGE = "99999999999999999999"


@pytest.fixture
def client(tmp_path):
    config = load_config(
        overrides={"content": {"dir": str(CONTENT)},
                   "database": {"path": str(tmp_path / "instance" / "newsletter.db")},
                   "smtp": {"outbox": str(tmp_path / "instance" / "outbox")}},
        environ={"NEWSLETTER_EDITOR_PASSWORD": PASSWORD, "NEWSLETTER_SECRET_KEY": "n" * 32},
    )
    app = create_app({"NEWSLETTER": config, "TESTING": False})
    client = app.test_client()
    token = _csrf(client.get("/login"))
    assert client.post("/login", data={"password": PASSWORD, "csrf_token": token}).status_code == 302
    conn = store.connect(config.database_path)
    issues.create(conn, config.content_dir, ["the-emergency-fund-ladder"])
    conn.close()
    return client


def _csrf(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("url", [
    f"/issues/{HUGE}/view", f"/issues/{HUGE}", f"/issues/{HUGE}/preview", f"/issues/{HUGE}/send",
    f"/issues/{HUGE}/message.eml", f"/subscribers?page={HUGE}", "/issues/²", "/issues/١",
    f"/subscribers?page={2**63 - 1}", f"/bounces?page={HUGE}", f"/bounces?page={2**63 - 1}", "/bounces?page=²",
    f"/bounces/{HUGE}", f"/archive?page={HUGE}", f"/archive?page={2**63 - 1}", "/archive?page=²",
])
def test_huge_or_odd_numbers_in_urls_are_not_found(client, url):
    assert client.get(url).status_code in (400, 404)


@pytest.mark.parametrize("url", [f"/issues/{HUGE}/cancel", f"/issues/{HUGE}/schedule",
                                 f"/subscribers/{HUGE}/remove"])
def test_huge_numbers_in_posted_urls_are_not_found(client, url):
    token = _csrf(client.get("/subscribers"))
    assert client.post(url, data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("order", ["²", "x", HUGE + HUGE, "-1"])
def test_odd_order_numbers_in_the_new_issue_form_are_a_bad_request(client, order):
    token = _csrf(client.get("/issues"))
    response = client.post("/issues", data={"csrf_token": token, "article": "the-emergency-fund-ladder",
                                            "order-the-emergency-fund-ladder": order})
    assert response.status_code == 400


def test_an_odd_font_weight_is_not_bold_and_no_crash():
    from newsletter.check import check_html

    html = '<!doctype html><html lang="en"><body><p style="font-weight: ²">x</p></body></html>'
    assert isinstance(check_html(html), list)


def test_subscriber_page_that_is_not_a_number_is_not_found(client):
    assert client.get("/subscribers?page=²").status_code == 404
    assert client.get("/subscribers?page=").status_code == 200  # empty: the first page


@pytest.mark.parametrize("args", [
    ("issue", "show", HUGE), ("issue", "cancel", HUGE), ("issue", "schedule", HUGE, "--at", "2031-01-01T08:00"),
    ("send", HUGE), ("send-test", HUGE, "--to", "a@example.com"),
])
def test_huge_issue_ids_on_the_command_line_are_one_line_errors(tmp_path, args):
    result = run(write_config(tmp_path), *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and f"issue {HUGE}: no such issue" in result.output


@pytest.mark.parametrize("command", ["serve", "login-link"])
def test_a_port_out_of_range_is_a_usage_error(tmp_path, command):
    result = run(write_config(tmp_path), command, "--port", HUGE)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--port" in result.output
