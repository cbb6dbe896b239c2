"""Browser test harness: Debian's Chromium driven by Playwright, and the app on a live server.

``browser`` (session scope: one Chromium for the whole run) skips only when /usr/bin/chromium
is missing. ``live_server(app)`` serves an app with werkzeug on 127.0.0.1 and a free port.

Run as a script, it takes the README's screenshots of the sample content into docs/:
``python tests/browser.py`` (uses a throwaway database, never the real instance/).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
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


def log_in(page, base: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Editor password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def take_screenshots(out: Path) -> list[Path]:
    """Dashboard, preview and public archive (desktop and phone widths) of the sample content
    and the seed, with a few made-up subscribers and issues in a throwaway database."""
    import shutil
    import tempfile
    from datetime import datetime, timedelta, timezone

    from newsletter import content, create_app, issues, store, subscribers
    from newsletter.config import load_config

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "content"
        shutil.copytree(root / "content", folder, dirs_exist_ok=True)
        shutil.copy(root / "tests" / "samples" / "000_c1508f7e4351951f.txt", folder)
        config = load_config(
            overrides={
                "content": {"dir": str(folder)},
                "database": {"path": f"{tmp}/newsletter.db"},
                "smtp": {"outbox": f"{tmp}/outbox"},
            },
            environ={"NEWSLETTER_EDITOR_PASSWORD": "screenshots", "NEWSLETTER_SECRET_KEY": "screenshots"},
        )
        articles = content.load_articles(config.content_dir)
        conn = store.connect(config)
        for n, name in enumerate(["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"]):
            subscribers.add(conn, f"{name.split()[0].lower()}@example.com", name)
        issues.create(conn, config.content_dir, [a.slug for a in articles[:2]], subject="This week's digest",
                      send_at=datetime.now(timezone.utc) + timedelta(days=2))
        issues.create(conn, config.content_dir, [articles[-1].slug])
        _sent_issues(conn, config, articles)
        app = create_app({"NEWSLETTER": config})
        shots = []
        with chromium() as b, live_server(app) as base:
            desktop = b.new_page(viewport={"width": 1280, "height": 860})
            log_in(desktop, base, "screenshots")
            shots.append(_shot(desktop, out / "dashboard.png"))
            seed = content.load_article(folder / "000_c1508f7e4351951f.txt")
            desktop.goto(f"{base}/articles/{seed.slug}")
            shots.append(_shot(desktop, out / "preview-desktop.png"))
            phone = b.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            log_in(phone, base, "screenshots")
            phone.goto(f"{base}/articles/{seed.slug}")
            phone.evaluate("document.querySelector('.facts').scrollIntoView()")
            shots.append(_shot(phone, out / "preview-phone.png"))
            desktop.goto(f"{base}/archive")
            shots.append(_shot(desktop, out / "archive-desktop.png"))
            narrow = b.new_page(viewport={"width": 375, "height": 812}, is_mobile=True)
            narrow.goto(f"{base}/archive")
            shots.append(_shot(narrow, out / "archive-phone.png"))
        return shots


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


def _shot(page, path: Path) -> Path:
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)  # let the email frames paint
    page.screenshot(path=str(path), type="png")
    return path


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    docs = Path(__file__).resolve().parent.parent / "docs"
    docs.mkdir(exist_ok=True)
    for shot in take_screenshots(docs):
        print(f"{shot} ({shot.stat().st_size // 1024} KB)")
