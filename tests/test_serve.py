"""`serve`: a production server (gunicorn) with several worker processes sharing what must be
shared, forwarded headers trusted only when configured, a clean stop on SIGTERM."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from http.cookiejar import CookieJar

import pytest

from helpers import ROOT

PASSWORD = "serve-test-password"


@contextmanager
def served(tmp_path, database_url: str, *, proxies: int = 0, password: str = PASSWORD):
    """`python -m newsletter serve --port 0 --workers 2` in its own process; yields its base URL."""
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "news.db"}"\nurl = "{database_url}"\n'
                      f'[server]\ntrusted_proxies = {proxies}\n')
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "NEWSLETTER_SECRET_KEY": "k" * 32}
    if password:
        env["NEWSLETTER_EDITOR_PASSWORD"] = password
    server = subprocess.Popen([sys.executable, "-m", "newsletter", "--config", str(config), "serve",
                               "--port", "0", "--workers", "2", "--threads", "2"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = None
        for line in server.stderr:  # bounded by the server's output: it says where it listens
            found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                base = found.group(1)
                break
        assert base, "the server did not start"
        yield base, server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)


def login(base: str, password: str, forwarded_for: str = "") -> tuple[int, dict]:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = opener.open(urllib.request.Request(f"{base}/login", headers=headers), timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"password": password, "csrf_token": token}).encode()
    try:
        response = opener.open(urllib.request.Request(f"{base}/login", data=data, headers=headers), timeout=10)
        return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_a_production_server_whose_workers_share_the_login_throttle(tmp_path, database_url):
    with served(tmp_path, database_url) as (base, server):
        with urllib.request.urlopen(f"{base}/login", timeout=10) as response:
            assert response.headers["Server"] == "gunicorn"
        # the requests land on either worker: the count is in the database, so it holds
        results = [login(base, "wrong")[0] for _ in range(5)]
        assert results == [401] * 5
        assert login(base, PASSWORD)[0] == 429
        # a forged X-Forwarded-For changes nothing without a trusted proxy
        assert login(base, PASSWORD, forwarded_for="203.0.113.7")[0] == 429
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    assert "development server" not in server.stderr.read()


def test_forwarded_headers_are_trusted_only_from_a_configured_proxy(tmp_path, database_url):
    with served(tmp_path, database_url, proxies=1) as (base, _):
        for _ in range(5):
            assert login(base, "wrong", forwarded_for="203.0.113.7")[0] == 401
        assert login(base, PASSWORD, forwarded_for="203.0.113.7")[0] == 429  # that client is locked out
        status, headers = login(base, PASSWORD, forwarded_for="198.51.100.2")  # another one is not
        assert status == 200 or status == 302 or "newsletter_session" in headers.get("Set-Cookie", "")


def test_a_login_link_from_the_command_line_works_on_any_worker(tmp_path, database_url):
    with served(tmp_path, database_url, password="") as (base, _):
        config = tmp_path / "config.toml"
        made = subprocess.run([sys.executable, "-m", "newsletter", "--config", str(config), "login-link",
                               "--port", base.rsplit(":", 1)[1]], cwd=tmp_path, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "NEWSLETTER_SECRET_KEY": "k" * 32},
                              timeout=60)
        link = made.stdout.strip()
        assert link.startswith(f"{base}/login?token=")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with opener.open(link, timeout=10) as response:  # redirected to the dashboard, logged in
            assert response.url == f"{base}/" and "Dashboard" in response.read().decode()


@pytest.mark.parametrize("option", ["--workers", "--threads"])
def test_worker_counts_are_bounded(option):
    proc = subprocess.run([sys.executable, "-m", "newsletter", "serve", option, "0"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and option in proc.stderr
