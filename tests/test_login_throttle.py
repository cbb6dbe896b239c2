"""Failed editor logins are throttled per client address and overall, in the database, so the
limit holds across every process serving the app: past it even the right password is refused
with "try again in N s" (429, Retry-After), and once the window has passed it works again."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from http.cookiejar import CookieJar

import pytest

from newsletter import create_app, store
from newsletter.config import load_config
from newsletter.login_throttle import OVERALL, PER_CLIENT, WINDOW

from helpers import ROOT

PASSWORD = "the right password"


@pytest.fixture
def config(tmp_path, database_url):
    return load_config(
        overrides={"database": {"path": str(tmp_path / "instance" / "newsletter.db"), "url": database_url},
                   "content": {"dir": str(tmp_path)}},
        environ={"NEWSLETTER_EDITOR_PASSWORD": PASSWORD, "NEWSLETTER_SECRET_KEY": "t" * 32},
    )


@pytest.fixture
def app(config):
    return create_app({"NEWSLETTER": config, "TESTING": True})


def attempt(app, password: str, address: str = "192.0.2.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"password": password, "csrf_token": token})


def wait_of(response) -> int:
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    seconds = int(re.search(r"Try again in (\d+) s", text).group(1))
    assert response.headers["Retry-After"] == str(seconds)
    return seconds


def age_failures(config, by: timedelta) -> None:
    """Move every recorded failure ``by`` into the past (as if that much time went by)."""
    conn = store.connect(config)
    for client, failed_at in conn.execute("SELECT client, failed_at FROM login_failures").fetchall():
        moved = store.to_db_time(store.from_db_time(failed_at) - by)
        conn.execute("UPDATE login_failures SET failed_at = ? WHERE client = ? AND failed_at = ?",
                     (moved, client, failed_at))
    conn.close()


def test_the_right_password_is_refused_after_too_many_failures_then_works(app, config):
    for _ in range(PER_CLIENT):
        assert attempt(app, "guess").status_code == 401
    locked = attempt(app, PASSWORD)
    assert 0 < wait_of(locked) <= WINDOW.total_seconds()
    assert "Too many failed logins" in locked.get_data(as_text=True)
    age_failures(config, WINDOW / 2)
    assert attempt(app, PASSWORD).status_code == 429  # still inside the window
    age_failures(config, WINDOW / 2 + timedelta(seconds=1))
    assert attempt(app, PASSWORD).status_code == 302  # the lock-out window has passed


def test_one_address_locked_leaves_the_others_free(app):
    for _ in range(PER_CLIENT):
        attempt(app, "guess", "192.0.2.1")
    assert attempt(app, PASSWORD, "192.0.2.1").status_code == 429
    assert attempt(app, PASSWORD, "198.51.100.7").status_code == 302


def test_a_success_clears_that_address_count(app):
    for _ in range(PER_CLIENT - 1):
        attempt(app, "guess")
    assert attempt(app, PASSWORD).status_code == 302
    for _ in range(PER_CLIENT - 1):
        assert attempt(app, "guess").status_code == 401
    assert attempt(app, PASSWORD).status_code == 302


def test_one_ipv6_network_counts_as_one_client(app):
    for n in range(PER_CLIENT):
        attempt(app, "guess", f"2001:db8:1:2::{n + 1:x}")
    assert attempt(app, PASSWORD, "2001:db8:1:2:ffff::9").status_code == 429
    assert attempt(app, PASSWORD, "2001:db8:1:3::1").status_code == 302


def test_many_addresses_together_are_throttled_overall(app):
    addresses = [f"203.0.113.{n}" for n in range(OVERALL // (PER_CLIENT - 1) + 1)]
    for address in addresses:  # each stays just under its own limit
        for _ in range(PER_CLIENT - 1):
            attempt(app, "guess", address)
    assert wait_of(attempt(app, PASSWORD, "198.51.100.99")) > 0  # a fresh address is refused too


def test_guesses_in_parallel_get_no_more_tries(app):
    """32 threads guessing at once from one address: no more than PER_CLIENT guesses are ever
    checked, and the right password is refused after them."""
    results: list[int] = []
    lock = threading.Lock()

    def guesser():
        for _ in range(6):
            status = attempt(app, "guess").status_code
            with lock:
                results.append(status)

    threads = [threading.Thread(target=guesser) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 32 * 6
    assert results.count(401) == PER_CLIENT and results.count(429) == len(results) - PER_CLIENT
    assert attempt(app, PASSWORD).status_code == 429


def test_the_limit_holds_across_processes(app, config, tmp_path):
    """Failures at a server in another process count here too (the table is shared)."""
    config_path = tmp_path / "config.toml"
    config_path.write_text(f'[database]\npath = "{config.database_path}"\nurl = "{config.database_url}"\n'
                           f'[content]\ndir = "{tmp_path}"\n')
    env = {"PATH": "/usr/bin:/bin", "NEWSLETTER_EDITOR_PASSWORD": PASSWORD,
           "NEWSLETTER_SECRET_KEY": "t" * 32, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "newsletter", "--config", str(config_path),
                               "serve", "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              text=True, env=env)
    try:
        base = None
        for line in server.stderr:  # werkzeug says where it listens
            found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                base = found.group(1)
                break
        assert base, "the server did not start"
        for _ in range(PER_CLIENT):  # 127.0.0.1 fails there ...
            assert _post_login(base, "guess") == 401
        assert attempt(app, PASSWORD, "127.0.0.1").status_code == 429  # ... and is locked here
    finally:
        server.terminate()
        server.wait(10)


def _post_login(base: str, password: str) -> int:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(f"{base}/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"password": password, "csrf_token": token}).encode()
    try:
        return opener.open(f"{base}/login", data=data, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code
