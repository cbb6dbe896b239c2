"""Managing and leaving: the preferences link in every message, the page's actions, the data
download, erase then re-import (the suppression list), the consent record editors see and
export, the notices through the checker, and the migration that made room for all of it."""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import pytest

from newsletter import create_app, delivery, notices, signup, store, subscriber_import, subscribers
from newsletter.check import check_message
from newsletter.mail import MessageTemplate
from newsletter.migrations import MIGRATIONS, script
from newsletter.store import _statements, connect
from newsletter.transport import OutboxTransport

from helpers import add_subscribers, make_issue, sample_rendered


@pytest.fixture
def db(config):
    conn = store.connect(config)
    yield conn
    conn.close()


def preferences_path(raw: bytes) -> str:
    text = raw.replace(b"=\n", b"").replace(b"=\r\n", b"").decode()
    return re.search(r"http://127\.0\.0\.1:5000(/preferences/[\w.-]+)", text).group(1)


def sent_issue(db, config) -> list[bytes]:
    issue = make_issue(db)
    with delivery.SendLock(config, db):
        delivery.send_issue(db, config, issue, transport=lambda: OutboxTransport(config.outbox_path))
    return [p.read_bytes() for p in sorted((config.outbox_path / "new").iterdir())]


def test_every_message_links_its_preferences_page_in_both_parts(db, config, client):
    add_subscribers(db, 1)
    [raw] = sent_issue(db, config)
    import email
    import email.policy
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text, html = (message.get_body((kind,)).get_content() for kind in ("plain", "html"))
    path = preferences_path(raw)
    assert path in text and path in html and "Manage your subscription" in html
    page = client.get(path).get_data(as_text=True)
    assert "user0@example.com" in page and "Download my data" in page
    sample = MessageTemplate(sample_rendered(), config).sample()  # previews and test sends too
    assert b"/preferences/" in sample


def test_preferences_actions(db, config, client):
    add_subscribers(db, 2)
    [raw, _] = sent_issue(db, config)
    path = preferences_path(raw)
    sub = subscribers.named_by(db, subscribers.SubscriberRef(key=path.rsplit("/", 1)[1].split(".")[0]))
    assert client.post(path, data={"action": "name", "name": "New\r\nName"}).status_code == 200
    assert subscribers.get(db, sub.id).name == "New Name"
    page = client.post(path, data={"action": "unsubscribe"}).get_data(as_text=True)
    assert "You are unsubscribed" in page and subscribers.get(db, sub.id).status == "unsubscribed"
    client.post(path, data={"action": "resubscribe"})
    back = subscribers.get(db, sub.id)
    assert back.status == "active" and back.consent_source == "form"  # their own action, recorded
    data = client.post(path, data={"action": "data"})
    assert data.headers["Content-Disposition"].startswith("attachment")
    mine = json.loads(data.get_data())
    assert mine["email"] == sub.email and mine["consent"]["source"] == "form"
    assert [d["state"] for d in mine["deliveries"]] == ["sent"]
    assert client.post(path, data={"action": "bogus"}).status_code == 400
    assert client.get(path[:-3] + "xyz").status_code == 400  # altered


def test_erase_then_reimport_keeps_them_out_and_says_so(db, config, client, runner, tmp_path):
    add_subscribers(db, 2)
    [raw, _] = sent_issue(db, config)
    path = preferences_path(raw)
    who = re.search(rb"To: (?:.*<)?(user\d@example\.com)", raw).group(1).decode()
    refused = client.post(path, data={"action": "erase"})  # the box not ticked: nothing happens
    assert refused.status_code == 400 and subscribers.find(db, who) is not None
    assert client.post(path, data={"action": "erase", "confirm": "yes"}).status_code == 200
    assert subscribers.find(db, who) is None
    assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1  # the other one's
    stored = "\n".join(str(tuple(r)) for t in ("subscribers", "suppressions", "deliveries", "rate_limits")
                       for r in db.execute(f"SELECT * FROM {t}"))
    assert who not in stored and who.split("@")[0] not in stored  # only a hash is left
    assert client.get(path).status_code == 404

    listing = tmp_path / "list.csv"
    listing.write_text(f"email,name\n{who.upper()},Back\nnew@example.com,New\n")
    result = runner.invoke(args=["subscribers", "import", str(listing)])
    assert result.exit_code == 0, result.output
    assert "imported 1 new, 0 already present, 0 rejected" in result.output
    shouted = who.split("@")[0].upper() + "@example.com"  # as the file spells it, domain normalised
    assert f"not imported: 1 address erased at their owner's request (suppression list): {shouted}" \
        in result.output
    assert subscribers.find(db, who) is None
    added = runner.invoke(args=["subscribers", "add", who])
    assert "erased" in added.output and subscribers.find(db, who) is None
    runner.invoke(args=["subscribers", "add", who, "--resubscribe"])  # they asked to come back
    assert subscribers.find(db, who).consent_source == "request"


def test_erased_person_signing_up_again_is_lifted_only_when_they_confirm(app, db, config):
    add_subscribers(db, 1)
    subscribers.erase(db, subscribers.find(db, "user0@example.com").id)
    notice = signup.sign_up(db, config, signup.Signup("user0@example.com"))
    assert notice.kind == signup.CONFIRM and subscribers.find(db, "user0@example.com").status == "pending"
    report = subscriber_import.import_rows(db, [("user0@example.com", "user0@example.com", "")])
    assert report.present == 1 and not report.suppressed  # their pending signup is the row
    ref = subscribers.SubscriberRef(key=notice.subscriber.key, nonce=notice.nonce)
    signup.confirm(db, config, ref)
    subscribers.erase(db, subscribers.find(db, "user0@example.com").id)
    signup.confirm(db, config, ref)  # nothing to confirm any more
    assert subscriber_import.import_rows(db, [("user0@example.com", "user0@example.com", "")]).suppressed == \
        ["user0@example.com"]


@pytest.mark.parametrize("kind", [signup.CONFIRM, signup.ALREADY, signup.WELCOME])
def test_notices_pass_the_checker_and_are_multipart(db, config, kind):
    config["subscribe"]["welcome"] = "passkeys-without-the-jargon"
    config["newsletter"]["base_url"] = "https://news.example.org"
    notice = signup.sign_up(db, config, signup.Signup("ann@example.com", "Ann"))
    sender, rcpt, raw = notices.message(config, signup.Notice(kind, notice.subscriber, notice.nonce))
    assert rcpt == "ann@example.com" and sender == "newsletter@example.com"
    findings = check_message(raw, config=config)
    assert [f for f in findings if f.severity == "error"] == [], findings
    import email
    import email.policy
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    if kind == signup.CONFIRM:
        assert "/subscribe/confirm/" in message.get_body(("plain",)).get_content()


@pytest.fixture
def editor(config):
    """A logged-in editor's client and a function posting forms with their CSRF token."""
    config.secrets["editor_password"] = "pw"
    app = create_app({"NEWSLETTER": config, "TESTING": True})
    client = app.test_client()

    def token(page: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).get_data(as_text=True)).group(1)

    client.post("/login", data={"password": "pw", "csrf_token": token("/login")})
    return client, lambda url, **data: client.post(url, data={**data, "csrf_token": token("/test-addresses")})


def test_editors_filter_by_every_status_see_consent_and_resubscribe_on_request(db, config, editor):
    client, post = editor
    config["subscribe"]["record_ip"] = True
    signup.sign_up(db, config, signup.Signup("form@example.com", source=signup.ConsentSource.FORM,
                                             client="203.0.113.9"))
    subscribers.add(db, "left@example.com")
    subscribers.remove(db, "left@example.com")
    for status in ("pending", "active", "unsubscribed", "bounced", "complained"):
        page = client.get(f"/subscribers?status={status}").get_data(as_text=True)
        assert f'<option value="{status}" selected>' in page
    pending = client.get("/subscribers?status=pending").get_data(as_text=True)
    assert "form@example.com" in pending and "signup form" in pending and "203.0.113.9" in pending
    assert "not confirmed yet" in pending and "left@example.com" not in pending
    everyone = client.get("/subscribers").get_data(as_text=True)
    assert "&lt;form action=&#34;http://127.0.0.1:5000/subscribe&#34; method=&#34;post&#34;&gt;" in everyone
    left = subscribers.find(db, "left@example.com")
    post(f"/subscribers/{left.id}/resubscribe")
    assert subscribers.get(db, left.id).status == "active"
    assert subscribers.get(db, left.id).consent_source == "request"
    dashboard = client.get("/").get_data(as_text=True)
    assert "1 signup from the signup form and API in 30 days" in dashboard
    assert "1 waiting to confirm" in dashboard
    out = io.StringIO()
    subscribers.export_csv(db, out)
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows["form@example.com"]["consent_ip"] == "203.0.113.9"
    assert rows["left@example.com"]["consent_source"] == "request"


def test_signups_per_day_counts_public_signups_in_the_zone(db, config):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    late = datetime(2025, 3, 1, 23, 30, tzinfo=timezone.utc)  # 2 March in Tokyo
    signup.sign_up(db, config, signup.Signup("a@example.com"), now=late)
    signup.sign_up(db, config, signup.Signup("b@example.com", source=signup.ConsentSource.API), now=late)
    subscribers.add(db, "editor@example.com", now=late)  # not a public signup
    days = signup.signups_per_day(db, ZoneInfo("Asia/Tokyo"), now=datetime(2025, 3, 5, tzinfo=timezone.utc))
    assert len(days) == 30 and days[-1][0].isoformat() == "2025-03-05"
    assert {d.isoformat(): n for d, n in days if n} == {"2025-03-02": 2}


#: the schema version just before the subscribe migration (the one adding the consent record)
BEFORE = next(n for n in range(len(MIGRATIONS)) if "consent_source" in script(n, "sqlite"))
OLD_ROWS = [
    "INSERT INTO subscribers (email, email_key, subscribed_at) VALUES ('a@x.org', 'a@x.org', 't1')",
    "INSERT INTO subscribers (email, email_key, status, subscribed_at, unsubscribed_at)"
    " VALUES ('b@x.org', 'b@x.org', 'unsubscribed', 't0', 't2')",
    "INSERT INTO issues (articles, created_at) VALUES ('[]', 't')",
    "INSERT INTO deliveries (issue_id, subscriber_id, message_id, updated_at) VALUES (1, 1, 'm', 't')",
]


def _check_migrated(conn, keys: dict) -> None:
    assert dict((r[0], r[1]) for r in conn.execute("SELECT email, key FROM subscribers").fetchall()) == keys
    rows = conn.execute("SELECT email, status, consent_at, consent_source FROM subscribers ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("a@x.org", "active", "t1", None), ("b@x.org", "unsubscribed", "t0", None)]
    assert conn.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1
    conn.execute("INSERT INTO subscribers (email, email_key, status, subscribed_at) "
                 "VALUES ('c@x.org', 'c@x.org', 'pending', 't')")
    assert len(conn.execute("SELECT key FROM subscribers WHERE email = 'c@x.org'").fetchone()[0]) == 24


def test_sqlite_migration_adds_the_consent_record_keeping_rows_keys_deliveries_and_the_trigger(tmp_path):
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    for number in range(BEFORE):
        for statement in _statements(script(number, "sqlite")):
            raw.execute(statement)
    raw.execute(f"PRAGMA user_version = {BEFORE}")
    for statement in OLD_ROWS:
        raw.execute(statement)
    raw.commit()
    keys = dict(raw.execute("SELECT email, key FROM subscribers").fetchall())
    raw.close()
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    _check_migrated(conn, keys)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO subscribers (email, email_key, status, subscribed_at) VALUES ('d', 'd', 'gone', 't')")
    with pytest.raises(sqlite3.IntegrityError):  # the key stays unique
        conn.execute("UPDATE subscribers SET key = ? WHERE email = 'c@x.org'", (keys["a@x.org"],))
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'subscribers'")}
    assert {"subscribers_status", "subscribers_key", "subscribers_key_given"} <= names


def test_postgresql_migration_keeps_rows_and_keys(postgres):
    import psycopg

    from newsletter.config import load_config

    url = postgres.new_database(migrated=False)
    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for number in range(BEFORE):
            raw.execute(script(number, "postgresql"))
        raw.execute("INSERT INTO schema_version VALUES (%s)", (BEFORE,))
        for statement in OLD_ROWS:
            raw.execute(statement)
        keys = dict(raw.execute("SELECT email, key FROM subscribers").fetchall())
    conn = connect(load_config(overrides={"database": {"url": url}}, environ={}))
    assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
    _check_migrated(conn, keys)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO subscribers (email, email_key, status, subscribed_at) VALUES ('d', 'd', 'gone', 't')")
