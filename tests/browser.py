"""Browser test harness: Debian's Chromium driven by Playwright, and the app on a live server.

``browser`` (session scope: one Chromium for the whole run) skips only when /usr/bin/chromium
is missing. ``live_server(app)`` serves an app with werkzeug on 127.0.0.1 and a free port.

Run as a script, it takes the README's screenshots of the sample content into docs/:
``python tests/browser.py [DARK_FOLDER]`` (uses a throwaway database, never the real instance/;
with a folder, the public pages in dark mode go there too, to look at).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
#: axe-core, installed by ``npm ci`` (package.json; .ci/run does it)
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    with chromium() as b:
        yield b


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` in a thread on 127.0.0.1:<free port>; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as ``rule: selector, ...`` lines. The
    page's context needs ``bypass_csp=True`` (the app's CSP allows no injected script)."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))",
        WCAG_AA,
    )
    return list(found)


def log_in(page, base: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Editor password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def take_screenshots(out: Path, dark: Path | None = None) -> list[Path]:
    """The README's screenshots of the sample content and the seed, with a few made-up
    subscribers and issues in a throwaway database: the dashboard (cron never ran), the
    preview, a stalled send, the issue editor, a test copy's web view, the public 404 page and
    the public archive, at 1280 px and 375 px; the signup, confirm and preferences pages at
    375 px (also in dark mode into ``dark``, when given)."""
    import shutil
    import tempfile
    from datetime import datetime, timedelta, timezone

    from newsletter import content, create_app, issues, signing, signup, store, subscribers
    from newsletter.config import load_config

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "content"
        shutil.copytree(root / "content", folder, dirs_exist_ok=True)
        shutil.copy(root / "tests" / "samples" / "000_c1508f7e4351951f.txt", folder)
        overrides = {
            "content": {"dir": str(folder)},
            "database": {"path": f"{tmp}/newsletter.db"},
            "smtp": {"outbox": f"{tmp}/outbox"},
            "schedule": {"timezone": "Europe/Paris"},
        }
        environ = {"NEWSLETTER_EDITOR_PASSWORD": "screenshots", "NEWSLETTER_SECRET_KEY": "screenshots"}
        config = load_config(overrides=overrides, environ=environ)
        articles = content.load_articles(config.content_dir)
        conn = store.connect(config)
        for name in ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"]:
            subscribers.add(conn, f"{name.split()[0].lower()}@example.com", name)
        now = datetime.now(timezone.utc)
        daily = [1, 0, 2, 3, 1, 0, 0, 4, 2, 1, 5, 3, 2, 0, 1, 6, 2, 3, 1, 0, 2, 4, 3, 1, 7, 2, 3, 1, 2, 4]
        for day, count in enumerate(daily):
            for n in range(count):  # a month of signups from the form, most confirmed: the chart
                when = now - timedelta(days=29 - day, hours=n)
                notice = signup.sign_up(conn, config, signup.Signup(f"reader{day}.{n}@example.com"), now=when)
                if (day + n) % 5:
                    signup.confirm(conn, config, signing.SubscriberRef(notice.subscriber.key, nonce=notice.nonce),
                                   now=when + timedelta(minutes=5))
        issues.create(conn, config.content_dir, [a.slug for a in articles[:2]], subject="This week's digest",
                      send_at=datetime.now(timezone.utc) + timedelta(days=2))
        draft = issues.create(conn, config.content_dir, [articles[-1].slug, articles[1].slug])
        stalled = _stalled_issue(conn, config, articles[0].slug, overrides, environ)
        _sent_issues(conn, config, articles)
        app = create_app({"NEWSLETTER": config})
        seed = content.load_article(folder / "000_c1508f7e4351951f.txt")
        token = signing.test_token(config, "issue", draft)
        pages = [("dashboard", "/", None), ("issue-stalled", f"/issues/{stalled}", None),
                 ("issue-editor", f"/issues/{draft}", "#edit"), ("test-copy", f"/test/{token}", None),
                 ("public-404", f"/issues/{stalled + 100}/view", None)]
        shots = []
        with chromium() as b, live_server(app) as base:
            desktop = b.new_page(viewport={"width": 1280, "height": 860})
            phone = b.new_page(viewport={"width": 375, "height": 812}, is_mobile=True)
            for page in (desktop, phone):
                log_in(page, base, "screenshots")
            for name, path, anchor in pages:
                for page, suffix in ((desktop, ""), (phone, "-phone")):
                    page.goto(base + path)
                    if anchor:
                        page.locator(anchor).scroll_into_view_if_needed()
                    shots.append(_shot(page, out / f"{name}{suffix}.png"))
            desktop.goto(f"{base}/articles/{seed.slug}")
            shots.append(_shot(desktop, out / "preview-desktop.png"))
            phone.goto(f"{base}/articles/{seed.slug}")
            phone.evaluate("document.querySelector('.facts').scrollIntoView()")
            shots.append(_shot(phone, out / "preview-phone.png"))
            desktop.goto(f"{base}/archive")
            shots.append(_shot(desktop, out / "archive-desktop.png"))
            phone.goto(f"{base}/archive")
            shots.append(_shot(phone, out / "archive-phone.png"))
            for scheme, folder in (("light", out), ("dark", dark)):
                if folder is not None:
                    shots += _subscription_pages(b, base, config, conn, scheme, folder)
        return shots


def _stalled_issue(conn, config, slug: str, overrides: dict, environ: dict) -> int:
    """An issue whose send stopped because the mail server could not be reached: really sent
    to a closed port on this machine, as a ``send`` would."""
    import socket

    from newsletter import delivery, issues
    from newsletter.config import load_config
    from newsletter.errors import TransportError

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    smtp = load_config(overrides={**overrides, "smtp": {**overrides["smtp"], "backend": "smtp",
                                                        "host": "127.0.0.1", "port": port,
                                                        "security": "none", "timeout": 2.0},
                                  "newsletter": {"sender": "The Newsletter <news@example.org>",
                                                 "postal_address": "1 Example Road, Springfield",
                                                 "base_url": "https://news.example.org"}},
                       environ=environ)
    issue_id = issues.create(conn, config.content_dir, [slug], subject="Monday briefing")
    try:
        delivery.send_issue(conn, smtp, issue_id)
    except TransportError:
        pass
    return issue_id


def _sent_issues(conn, config, articles) -> None:
    """One issue per article, sent on past Mondays (rendered and marked sent, no mail), for
    the archive."""
    from datetime import datetime, timedelta, timezone

    from newsletter import issues
    from newsletter.compose import render_issue

    monday = datetime(2025, 12, 1, 7, 0, tzinfo=timezone.utc)
    for n, lead in enumerate(articles):
        issue_id = issues.create(conn, config.content_dir, [lead.slug], subject=lead.title, now=monday)
        issues.freeze(conn, issue_id, render_issue([lead], config, subject=lead.title))
        when = monday - timedelta(days=7 * (len(articles) - n))
        issues.mark_sending(conn, issue_id, when)
        issues.mark_sent(conn, issue_id, when + timedelta(minutes=3))


def _subscription_pages(b, base: str, config, conn, scheme: str, folder: Path) -> list[Path]:
    """The public signup, confirm and preferences pages at 375 px in ``scheme``."""
    from newsletter import signup, subscribers, urls
    from newsletter.signing import subscriber_signer

    config["subscribe"]["description"] = "Money news that fits in a coffee break, every Thursday."
    notice = signup.sign_up(conn, config, signup.Signup(f"{scheme}.reader@example.com", "Rea Der"))
    confirm = urls.confirm_url(config, subscriber_signer(config, "confirm")(notice.subscriber.key, notice.nonce))
    ada = subscribers.find(conn, "ada@example.com")
    preferences = urls.preferences_url(config, subscriber_signer(config, "preferences")(ada.key))
    page = b.new_page(viewport={"width": 375, "height": 740}, is_mobile=True, color_scheme=scheme)
    shots = []
    for name, url in (("signup", f"{base}/subscribe"), ("confirm", confirm), ("preferences", preferences)):
        page.goto(url.replace(config.base_url, base))
        shots.append(_shot(page, folder / f"{name}.png", full_page=name == "preferences"))
    page.close()
    return shots


def _shot(page, path: Path, full_page: bool = False) -> Path:
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)  # let the email frames paint
    page.screenshot(path=str(path), type="png", full_page=full_page)
    return path


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    docs = Path(__file__).resolve().parent.parent / "docs"
    docs.mkdir(exist_ok=True)
    dark = Path(sys.argv[1]) if len(sys.argv) > 1 else None  # a folder for the dark-mode shots
    if dark is not None:
        dark.mkdir(parents=True, exist_ok=True)
    for shot in take_screenshots(docs, dark):
        print(f"{shot} ({shot.stat().st_size // 1024} KB)")
