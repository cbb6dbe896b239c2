"""Public signup: no enumeration, double opt-in links (expired, reused, forged), the abuse limits
(honeypot, hosted-form timing, per-client 429s across workers, the mail-bomb limit, body size),
JSON and CORS, and what each state of an address does."""
from __future__ import annotations

import email
import email.policy
import re

import pytest
from itsdangerous import TimestampSigner

from newsletter import create_app, signing, store, subscribers
from newsletter.signup import purge_pending
from newsletter.store import now_utc

ORIGIN = "https://publisher.example"


@pytest.fixture
def db(config):
    conn = store.connect(config)
    yield conn
    conn.close()


@pytest.fixture
def post(client):
    """POST a plain form to /subscribe from a client address (another site's form)."""
    def send(email_address, name="", client_address="198.51.100.7", **extra):
        return client.post("/subscribe", data={"email": email_address, "name": name, **extra},
                           environ_base={"REMOTE_ADDR": client_address})
    return send


def mails(app, config) -> list[email.message.EmailMessage]:
    """Every message the app has sent so far (the outbox backend), oldest first."""
    assert app.extensions["newsletter.notices"].drain()
    folder = config.outbox_path / "new"
    paths = sorted(folder.iterdir(), key=lambda p: p.name) if folder.exists() else []
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def confirm_path(message) -> str:
    return re.search(r"http://127\.0\.0\.1:5000(/subscribe/confirm/\S+)", text_of(message)).group(1)


def status(db, address):
    sub = subscribers.find(db, address)
    return sub.status if sub else None


def test_signup_confirm_by_post_only_and_the_link_works_once(app, config, db, post, client):
    answer = post("Reader@Example.com", "Rea Der")
    assert answer.status_code == 200 and "Check your inbox" in answer.get_data(as_text=True)
    assert status(db, "reader@example.com") == "pending"
    [mail] = mails(app, config)
    assert mail["To"] == "Rea Der <Reader@example.com>" and "Confirm" in mail["Subject"]
    path = confirm_path(mail)
    assert path in mail.get_body(("html",)).get_content()
    for _ in range(2):  # a scanner's prefetch: a page with a button, nothing changes
        page = client.get(path)
        assert page.status_code == 200 and "<button" in page.get_data(as_text=True)
    assert status(db, "reader@example.com") == "pending"
    done = client.post(path)
    assert done.status_code == 200 and "You are subscribed" in done.get_data(as_text=True)
    sub = subscribers.find(db, "reader@example.com")
    assert sub.status == "active" and sub.confirmed_at and sub.consent_source == "form"
    assert sub.consent_ip is None  # record_ip is off by default
    again = client.post(path)  # used: it confirms nothing more, and says they are in
    assert "already subscribed" in again.get_data(as_text=True)
    subscribers.unsubscribe(db, sub.id)
    reused = client.post(path)  # an old link cannot bring back someone who left
    assert reused.status_code == 410 and status(db, "reader@example.com") == "unsubscribed"


def test_one_click_unsubscribe_from_a_confirmation_request_ends_the_signup(app, config, db, post, client):
    post("unwanted@example.com")
    [mail] = mails(app, config)
    one_click = mail["List-Unsubscribe"].strip("<>").split("5000", 1)[1]
    assert client.post(one_click, data="List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded").status_code == 200
    assert status(db, "unwanted@example.com") == "unsubscribed"
    assert client.post(confirm_path(mail)).status_code == 410  # the link died with it


def test_forged_and_altered_links_are_refused(app, config, db, post, client):
    post("forge@example.com")
    path = confirm_path(mails(app, config)[0])
    other_key = signing.subscriber_signer(
        type(config)(values=config.values, secrets={"secret_key": "another"}), "confirm")
    key, nonce = path.rsplit("/", 1)[1].split(".")[:2]
    for bad in (path[:-2] + ("AA" if not path.endswith("AA") else "BB"),
                f"/subscribe/confirm/{other_key(key, nonce)}",
                f"/subscribe/confirm/{key}.{nonce}",
                "/subscribe/confirm/garbage"):
        for method in (client.get, client.post):
            assert method(bad).status_code == 400, bad
    unsubscribe_token = signing.subscriber_signer(config, "unsubscribe")(key)  # another purpose's token
    assert client.post(f"/subscribe/confirm/{unsubscribe_token}").status_code == 400
    assert status(db, "forge@example.com") == "pending"


def expired_path(monkeypatch, config, key: str, nonce: str) -> str:
    """A genuine confirmation link made eight days ago."""
    with monkeypatch.context() as m:
        m.setattr(TimestampSigner, "get_timestamp", lambda self: int(now_utc().timestamp()) - 8 * 86400)
        token = signing.subscriber_signer(config, "confirm")(key, nonce)
    return f"/subscribe/confirm/{token}"


def test_an_expired_link_offers_a_new_one_and_the_signup_is_purged_later(app, config, db, post, client,
                                                                           monkeypatch):
    post("late@example.com")
    first = confirm_path(mails(app, config)[0])
    key, nonce = first.rsplit("/", 1)[1].split(".")[:2]
    old = expired_path(monkeypatch, config, key, nonce)
    page = client.get(old)
    assert page.status_code == 410 and "Send me a new link" in page.get_data(as_text=True)
    assert client.post(old).status_code == 410 and status(db, "late@example.com") == "pending"
    assert client.post(old, data={"action": "resend"}).status_code == 200
    second = mails(app, config)[1]
    assert client.post(confirm_path(second)).status_code == 200
    assert status(db, "late@example.com") == "active"

    post("never@example.com")
    later = now_utc() + config.confirm_expiry + config.confirm_expiry / 100
    assert purge_pending(db, config.confirm_expiry, later) == 1
    assert status(db, "never@example.com") is None and status(db, "late@example.com") == "active"
    gone = client.get(expired_path(monkeypatch, config, "0" * 24, "0" * 16))
    assert gone.status_code == 410 and "Sign up again" in gone.get_data(as_text=True)


def set_state(db, address: str, state: str | None) -> None:
    if state is None:
        return
    subscribers.add(db, address)
    db.execute("UPDATE subscribers SET status = ? WHERE email_key = ?", (state, address.lower()))


STATES = [None, "pending", "active", "unsubscribed", "bounced", "complained"]


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_the_answer_is_byte_identical_whatever_the_address_state(app, db, as_json):
    answers = []
    for n, state in enumerate(STATES):
        address = f"who{n}@example.com"
        set_state(db, address, state)
        client = app.test_client()
        body = {"email": "someone@example.com", "name": "X"}
        db.execute("DELETE FROM subscribers WHERE email_key = 'someone@example.com'")
        set_state(db, "someone@example.com", state)
        response = (client.post("/subscribe", json=body) if as_json
                    else client.post("/subscribe", data=body))
        headers = {k: v for k, v in response.headers.items() if k != "Date"}
        answers.append((response.status_code, headers, response.get_data()))
    assert all(a == answers[0] for a in answers), [a[0] for a in answers]
    assert answers[0][0] == 200 and b"someone@example.com" in answers[0][2]


def test_what_each_state_gets(app, config, db, post):
    config["subscribe"].update(mails_per_day=10, signups_per_hour=0)
    for state in STATES:
        set_state(db, f"{state}@example.com", state)
    for state in STATES:
        assert post(f"{state}@example.com", "Stranger").status_code == 200
        assert post(f"{state}@example.com", "Stranger").status_code == 200  # twice
    sent = {}
    for mail in mails(app, config):
        sent.setdefault(mail["To"].addresses[0].addr_spec, []).append(mail["Subject"])
    assert [s[:7] for s in sent["None@example.com"]] == ["Confirm", "Confirm"]
    assert [s[:7] for s in sent["pending@example.com"]] == ["Confirm", "Confirm"]
    assert sent["active@example.com"] == ["You are already subscribed to The Newsletter"]  # once a day
    assert [s[:7] for s in sent["unsubscribed@example.com"]] == ["Confirm", "Confirm"]  # a fresh opt-in
    assert "bounced@example.com" not in sent and "complained@example.com" not in sent
    assert subscribers.count(db) == 6  # no duplicate
    assert subscribers.find(db, "active@example.com").name == ""  # a stranger renames nobody
    bounced = subscribers.find(db, "bounced@example.com")
    assert bounced.status == "bounced" and bounced.consent_source == "form"  # editors see the attempt
    assert status(db, "unsubscribed@example.com") == "unsubscribed"  # until its owner confirms
    links = [confirm_path(m) for m in mails(app, config) if m["To"].addresses[0].addr_spec == "pending@example.com"]
    assert len({p.rsplit("/", 1)[1].split(".")[1] for p in links}) == 1  # one nonce: both links work


def test_the_mail_bomb_limit_holds_whoever_asks(app, config, db, post):
    config["subscribe"].update(mails_per_day=2, signups_per_hour=0)
    answers = {post("victim@example.com", client_address=f"203.0.113.{n}").get_data() for n in range(6)}
    assert len(answers) == 1  # the limit is never visible in the answer
    assert len(mails(app, config)) == 2


def test_per_client_limit_is_429_and_holds_across_workers(config, db):
    config["subscribe"].update(signups_per_hour=3)
    workers = [create_app({"NEWSLETTER": config, "TESTING": True}) for _ in range(2)]
    codes = []
    for n in range(5):
        client = workers[n % 2].test_client()
        response = client.post("/subscribe", data={"email": f"p{n}@example.com"},
                               environ_base={"REMOTE_ADDR": "192.0.2.1"})
        codes.append(response.status_code)
    assert codes == [200, 200, 200, 429, 429]
    assert response.headers["Retry-After"] and "Traceback" not in response.get_data(as_text=True)
    other = workers[0].test_client().post("/subscribe", data={"email": "q@example.com"},
                                          environ_base={"REMOTE_ADDR": "192.0.2.2"})
    assert other.status_code == 200
    assert subscribers.count(db) == 4


def test_honeypot_and_oversized_bodies_are_refused(app, db, post, client):
    assert post("bot@example.com", website="http://spam.example").status_code == 429
    assert client.post("/subscribe", data={"email": "big@example.com", "name": "x" * 5000}).status_code == 413
    assert client.post("/subscribe", json={"email": "big@example.com", "name": "x" * 5000}).status_code == 413
    assert subscribers.count(db) == 0


def test_the_hosted_form_needs_its_own_cookie_and_some_time(app, config, db, client):
    page = client.get("/subscribe")
    html = page.get_data(as_text=True)
    assert "SameSite=Strict" in page.headers["Set-Cookie"] and 'name="website"' in html
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    config["subscribe"]["min_seconds"] = 3600.0
    assert client.post("/subscribe", data={"email": "fast@example.com", "form_token": token}).status_code == 429
    config["subscribe"]["min_seconds"] = 0.0
    stranger = app.test_client()  # the token without the page's cookie: another site replaying it
    refused = stranger.post("/subscribe", data={"email": "csrf@example.com", "form_token": token})
    assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
    assert client.post("/subscribe", data={"email": "fine@example.com", "form_token": token}).status_code == 200
    assert [status(db, a) for a in ("fast@example.com", "csrf@example.com", "fine@example.com")] == \
        [None, None, "pending"]
    bad = client.post("/subscribe", data={"email": "not-an-address", "form_token": token})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.get_data(as_text=True)


def test_json_and_cors(app, config, db, client):
    config["subscribe"]["allowed_origins"] = [ORIGIN]
    pre = client.options("/subscribe", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "content-type" in pre.headers["Access-Control-Allow-Headers"].lower()
    evil = client.options("/subscribe", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "Access-Control-Allow-Origin" not in evil.headers

    ok = client.post("/subscribe", json={"email": "api@example.com", "name": "Api"}, headers={"Origin": ORIGIN})
    assert ok.status_code == 200 and ok.json["ok"] is True and ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert subscribers.find(db, "api@example.com").consent_source == "api"
    denied = client.post("/subscribe", json={"email": "x@example.com"}, headers={"Origin": "https://evil.example"})
    assert denied.status_code == 403 and status(db, "x@example.com") is None
    server = client.post("/subscribe", json={"email": "server@example.com"})  # no Origin: not a browser
    assert server.status_code == 200 and "Access-Control-Allow-Origin" not in server.headers
    assert client.post("/subscribe", json=["a@example.com"]).status_code == 400
    assert client.post("/subscribe", json={"email": 5}).status_code == 400
    bad = client.post("/subscribe", json={"email": "nope"})
    assert bad.status_code == 400 and "error" in bad.json
    config["subscribe"]["signups_per_hour"] = 1
    limited = client.post("/subscribe", json={"email": "more@example.com"}, headers={"Origin": ORIGIN})
    assert limited.status_code == 429 and limited.json == {"error": "too many requests; try again later"}
    assert limited.headers["Access-Control-Allow-Origin"] == ORIGIN  # the page can read why


def test_without_double_opt_in_a_signup_is_active_and_welcomed(app, config, db, post):
    config["subscribe"].update(double_opt_in=False, welcome="passkeys-without-the-jargon")
    assert post("now@example.com").status_code == 200
    assert status(db, "now@example.com") == "active"
    [welcome] = mails(app, config)
    assert welcome["Subject"] == "Passkeys, Without the Jargon"
    assert welcome["List-Unsubscribe"] and "/preferences/" in text_of(welcome)
    set_state(db, "left@example.com", "unsubscribed")
    post("left@example.com")  # only the owner brings back an address that left
    assert status(db, "left@example.com") == "unsubscribed" and "Confirm" in mails(app, config)[-1]["Subject"]


def test_signup_can_be_turned_off(app, config, client):
    config["subscribe"]["enabled"] = False
    assert client.get("/subscribe").status_code == 404
    assert client.post("/subscribe", data={"email": "a@example.com"}).status_code == 404
