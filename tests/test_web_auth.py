"""Editor login and the app's safety nets: closed pages, sessions, CSRF, CSP, redirects, errors."""
from __future__ import annotations

import re
import stat

import pytest
from werkzeug.routing import IntegerConverter

from newsletter import create_app
from newsletter.config import load_config
from newsletter.web.auth import OPEN_BLUEPRINTS, login_link

PASSWORD = "correct horse battery staple"


def make_app(tmp_path, **environ):
    config = load_config(
        overrides={
            "content": {"dir": str(tmp_path / "content")},
            "database": {"path": str(tmp_path / "instance" / "newsletter.db")},
            "smtp": {"outbox": str(tmp_path / "instance" / "outbox")},
        },
        environ=environ,
    )
    (tmp_path / "content").mkdir(exist_ok=True)
    return create_app({"NEWSLETTER": config, "TESTING": True})


@pytest.fixture
def pw_app(tmp_path):
    return make_app(tmp_path, NEWSLETTER_EDITOR_PASSWORD=PASSWORD, NEWSLETTER_SECRET_KEY="k" * 32)


@pytest.fixture
def token_app(tmp_path):
    return make_app(tmp_path)


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(client, password=PASSWORD, next_url=None):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    data = {"password": password, "csrf_token": token}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data)


def editor_requests(app):
    """(method, url) for every editor route in the URL map, parameters filled in."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.split(".")[0] in OPEN_BLUEPRINTS:
            continue
        args = {name: 1 if isinstance(conv, IntegerConverter) else "some-slug"
                for name, conv in rule._converters.items()}
        url = rule.build(args, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


@pytest.mark.parametrize("mode", ["password", "token"])
def test_no_editor_route_answers_without_login(mode, pw_app, token_app):
    app = pw_app if mode == "password" else token_app
    client = app.test_client()
    seen = list(editor_requests(app))
    assert len(seen) >= 15  # the map really was enumerated
    for method, url in seen:
        response = client.open(url, method=method, data={})
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login?next="), (method, url)
            page = client.get(response.headers["Location"]).get_data(as_text=True)
        else:
            assert response.status_code == 401, (method, url, response.status_code)
            page = response.get_data(as_text=True)
        assert "<h1>Log in</h1>" in page, (method, url)
        assert "Dashboard" not in page and "Subscribers</a>" not in page, (method, url)


def test_password_login_and_logout_ends_the_session(pw_app):
    client = pw_app.test_client()
    assert log_in(client, "wrong").status_code == 401
    assert client.get("/").status_code == 302
    response = log_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and "<h1>Dashboard</h1>" in page.get_data(as_text=True)
    cookie = client.get_cookie("newsletter_session")
    assert cookie.http_only and cookie.same_site == "Lax"

    token = csrf_token(page.get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    # replaying the old cookie does not bring the session back
    client.set_cookie("newsletter_session", cookie.value)
    assert client.get("/").status_code == 302


def test_logout_needs_the_csrf_token(pw_app):
    client = pw_app.test_client()
    log_in(client)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_one_time_login_link_works_once(token_app, capsys):
    client = token_app.test_client()
    login = client.get("/login").get_data(as_text=True)
    assert "one-time login link" in login and 'type="password"' not in login
    assert client.post("/login", data={"password": ""}).status_code in (400, 401)  # no password at all
    assert client.get("/").status_code == 302

    link = login_link(token_app.config["NEWSLETTER"], "127.0.0.1", 5000)
    path = link.removeprefix("http://127.0.0.1:5000")
    response = client.get(path + "&next=/subscribers")
    assert response.status_code == 302 and response.headers["Location"] == "/subscribers"
    assert client.get("/").status_code == 200

    other = token_app.test_client()
    assert other.get(path).status_code == 403  # used up
    assert other.get("/").status_code == 302
    assert other.get("/login?token=made-up").status_code == 403


def test_serve_prints_a_login_link_that_logs_in(token_app):
    from newsletter.web.auth import announce

    config = token_app.config["NEWSLETTER"]
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        announce(config, "0.0.0.0", 8123)
    link = re.search(r"http://127\.0\.0\.1:8123(/login\?token=\S+)", out.getvalue()).group(1)
    client = token_app.test_client()
    assert client.get(link).status_code == 302
    assert client.get("/").status_code == 200


def test_flask_run_prints_a_login_link_for_its_own_port(tmp_path):
    """`flask --app newsletter run -p PORT` prints the one-time link as `serve` does, with that
    port. The port is held by this test, so the server stops right after starting up."""
    import os
    import socket
    import subprocess
    import sys

    from helpers import ROOT

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSLETTER_", "FLASK_"))}
        env.update(PYTHONPATH=str(ROOT), NEWSLETTER_SECRET_KEY="k")
        proc = subprocess.run([sys.executable, "-m", "flask", "--app", "newsletter", "run", "-p", str(port)],
                              capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert f" * Editor login (one-time link, valid 24 hours): http://127.0.0.1:{port}/login?token=" in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
     "http:/evil.example", " //evil.example"],
)
def test_next_never_leaves_the_site(pw_app, target):
    client = pw_app.test_client()
    response = log_in(client, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_keeps_a_local_path(pw_app):
    response = log_in(pw_app.test_client(), next_url="/subscribers?q=a")
    assert response.headers["Location"] == "/subscribers?q=a"


def test_session_key_generated_once_owner_only(token_app, tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert make_app(tmp_path).secret_key == token_app.secret_key


def test_every_page_has_a_content_security_policy(pw_app):
    client = pw_app.test_client()
    for url in ("/login", "/no-such-page", "/static/app.css"):
        csp = client.get(url).headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp


def test_csrf_token_required_on_forms(pw_app):
    client = pw_app.test_client()
    log_in(client)
    response = client.post("/subscribers", data={"email": "a@example.com"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert "a@example.com" not in client.get("/subscribers").get_data(as_text=True)


def test_404_and_500_pages_in_the_apps_look_without_traceback(tmp_path):
    app = make_app(tmp_path, NEWSLETTER_EDITOR_PASSWORD=PASSWORD, NEWSLETTER_SECRET_KEY="k" * 32)
    app.testing = False

    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    app.add_url_rule("/boom", "boom", boom)
    client = app.test_client()
    log_in(client)
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and 'class="topbar"' in missing.get_data(as_text=True)
    broken = client.get("/boom")
    body = broken.get_data(as_text=True)
    assert broken.status_code == 500 and 'class="topbar"' in body
    assert "Traceback" not in body and "secret internals" not in body


@pytest.mark.parametrize(
    "url",
    ["/articles/..%2F..%2Fetc%2Fpasswd", "/articles/%2e%2e%2fconfig", "/articles/%2e%2e",
     "/articles/..", "/articles/%2Fetc%2Fpasswd", "/articles//etc/passwd", "/articles/..%5Csecret",
     "/articles/../message.eml"],
)
def test_slugs_that_try_to_escape_get_404(pw_app, tmp_path, url):
    (tmp_path / "secret.md").write_text("---\ntitle: Secret\n---\nsecret body\n")
    client = pw_app.test_client()
    log_in(client)
    response = client.get(url)
    assert response.status_code == 404
    assert "secret body" not in response.get_data(as_text=True)


def test_session_cookie_is_secure_when_the_site_is_https(tmp_path):
    config = load_config(
        overrides={"newsletter": {"base_url": "https://news.example.org"},
                   "database": {"path": str(tmp_path / "instance" / "newsletter.db")}},
        environ={"NEWSLETTER_EDITOR_PASSWORD": PASSWORD, "NEWSLETTER_SECRET_KEY": "k" * 32},
    )
    client = create_app({"NEWSLETTER": config, "TESTING": True}).test_client()
    page = client.get("/login", base_url="https://news.example.org")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post("/login", data={"password": PASSWORD, "csrf_token": token},
                           base_url="https://news.example.org",
                           headers={"Referer": "https://news.example.org/login"})
    assert response.status_code == 302
    assert all("; Secure" in value for value in response.headers.getlist("Set-Cookie"))
    assert client.get("/", base_url="https://news.example.org").status_code == 200


def test_plain_http_site_keeps_its_cookie_usable(pw_app):
    client = pw_app.test_client()
    response = log_in(client)
    assert "; Secure" not in response.headers["Set-Cookie"]  # http://127.0.0.1:5000: no https to need


def test_login_links_stop_working_once_a_password_is_set(tmp_path):
    without = make_app(tmp_path, NEWSLETTER_SECRET_KEY="k" * 32)
    link = login_link(without.config["NEWSLETTER"], "127.0.0.1", 5000)
    path = link.removeprefix("http://127.0.0.1:5000")
    with_password = make_app(tmp_path, NEWSLETTER_SECRET_KEY="k" * 32, NEWSLETTER_EDITOR_PASSWORD=PASSWORD)
    client = with_password.test_client()
    response = client.get(path)
    assert response.status_code == 403 and "password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in
    # and the link is not kept for later either (e.g. when the password is unset again)
    assert without.test_client().get(path).status_code == 403
