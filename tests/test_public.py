"""Public routes: RFC 8058 one-click unsubscribe and the web view of a sent issue."""
from __future__ import annotations

import re

import pytest

from newsletter import signing, store, subscribers, urls
from newsletter.compose import TOKENS

from helpers import add_subscribers, make_issue


@pytest.fixture
def db(config):
    conn = store.connect(config)
    yield conn
    conn.close()


@pytest.fixture
def reader(db, config):
    add_subscribers(db, 3)
    sub = subscribers.find(db, "user1@example.com")
    return sub, urls.unsubscribe_url(config, signing.subscriber_signer(config, "unsubscribe")(sub.key))


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def status_of(db, sub_id):
    return db.execute("SELECT status, unsubscribed_at FROM subscribers WHERE id = ?", (sub_id,)).fetchone()


def test_get_shows_confirmation_and_changes_nothing(client, db, reader):
    sub, url = reader
    response = client.get(path_of(url))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'method="post"' in page and "user1@example.com" in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert status_of(db, sub.id)["status"] == "active"


def test_one_click_post_without_cookies_unsubscribes_200_repeatable(app, db, reader):
    sub, url = reader
    assert app.config.get("WTF_CSRF_ENABLED", True)  # CSRF is on app-wide; this route is exempt
    for _ in range(2):
        client = app.test_client(use_cookies=False)
        response = client.post(path_of(url), data="List-Unsubscribe=One-Click",
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200
        assert "Location" not in response.headers
        assert "Set-Cookie" not in response.headers
        row = status_of(db, sub.id)
        assert row["status"] == "unsubscribed" and row["unsubscribed_at"]
    others = db.execute("SELECT count(*) FROM subscribers WHERE status = 'active'").fetchone()[0]
    assert others == 2


def test_confirmation_button_posts_the_same_form(client, db, reader):
    sub, url = reader
    response = client.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "unsubscribed" in response.get_data(as_text=True)
    assert status_of(db, sub.id)["status"] == "unsubscribed"


def test_get_after_unsubscribing_says_so_and_offers_resubscribe_and_a_contact(client, db, reader):
    sub, url = reader
    client.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    page = client.get(path_of(url)).get_data(as_text=True)
    assert "You are unsubscribed" in page and ">Unsubscribe</button>" not in page
    assert 'mailto:newsletter@example.com' in page  # who to contact: the sender (no reply-to set)
    resubscribe = re.search(r'<form method="post" action="http://127.0.0.1:5000(/preferences/[^"]+)">\s*'
                            r'<input type="hidden" name="action" value="resubscribe">', page)
    assert resubscribe and status_of(db, sub.id)["status"] == "unsubscribed"
    assert client.post(resubscribe.group(1), data={"action": "resubscribe"}).status_code == 200
    assert status_of(db, sub.id)["status"] == "active"  # a mistaken click undone


@pytest.mark.parametrize("tamper", ["flip", "other-key", "garbage", "swap-subscriber"])
def test_forged_or_altered_token_gets_400_and_changes_nothing(client, db, reader, overrides, tamper):
    from newsletter.config import load_config

    sub, url = reader
    token = url.rsplit("/", 1)[1]
    if tamper == "flip":
        token = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    elif tamper == "other-key":
        token = signing.subscriber_signer(load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "x"}),
                                          "unsubscribe")(sub.key)
    elif tamper == "garbage":
        token = "not-a-token"
    else:  # someone else's key with this signature
        other = subscribers.find(db, "user2@example.com")
        token = other.key + "." + token.split(".")[1]
    for method in (client.get, client.post):
        response = method(f"/unsubscribe/{token}", data="List-Unsubscribe=One-Click",
                          content_type="application/x-www-form-urlencoded")
        assert response.status_code == 400
    assert db.execute("SELECT count(*) FROM subscribers WHERE status = 'active'").fetchone()[0] == 3


def test_web_view_only_for_sent_issues_with_tokens_filled(client, db, config, reader):
    sub, url = reader
    issue_id = make_issue(db)
    assert client.get(f"/issues/{issue_id}/view").status_code == 404  # a draft is not public
    assert client.get("/issues/999/view").status_code == 404
    db.execute("UPDATE issues SET state = 'sent' WHERE id = ?", (issue_id,))
    generic = client.get(f"/issues/{issue_id}/view")
    assert generic.status_code == 200
    page = generic.get_data(as_text=True)
    assert "Quiet streets, loud ideas" in page
    assert not any(token in page for token in TOKENS.values())
    assert url not in page
    token = url.rsplit("/", 1)[1]
    personal = client.get(f"/issues/{issue_id}/view?t={token}").get_data(as_text=True)
    assert url in personal
    forged = client.get(f"/issues/{issue_id}/view?t={token[:-2]}xx")
    assert forged.status_code == 200 and url not in forged.get_data(as_text=True)


def test_mailed_links_name_no_address_and_old_links_still_unsubscribe(app, db, config):
    """Unsubscribe and web-view links carry a random key and a signature, nothing a proxy or an
    access log could read an address from; a link of the first format ([id, "address"] in
    base64) mailed before keys existed still unsubscribes its subscriber."""
    import base64

    from itsdangerous import URLSafeSerializer

    from newsletter import delivery
    from newsletter.transport import OutboxTransport

    add_subscribers(db, 2)
    issue = make_issue(db)
    with delivery.SendLock(config, db):
        delivery.send_issue(db, config, issue, transport=lambda: OutboxTransport(config.outbox_path))
    for path in (config.outbox_path / "new").iterdir():
        raw = path.read_bytes()
        links = re.findall(rb"https://[^\s\"<>]+|http://[^\s\"<>]+", raw.replace(b"=\n", b""))
        for link in links:
            for part in link.decode().replace("?", "/").replace(".", "/").split("/"):
                padded = part + "=" * (-len(part) % 4)
                try:
                    decoded = base64.urlsafe_b64decode(padded)
                except ValueError:
                    continue
                assert b"@example.com" not in decoded, link
            assert b"user" not in link, link

    sub = subscribers.find(db, "user0@example.com")
    old = URLSafeSerializer([config.secret("secret_key")], salt="newsletter.unsubscribe").dumps([sub.id, sub.email])
    client = app.test_client()
    assert client.post(f"/unsubscribe/{old}", data="List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded").status_code == 200
    assert subscribers.get(db, sub.id).status == "unsubscribed"
