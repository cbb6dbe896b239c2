"""The editor app in a real browser (Debian's Chromium through Playwright) against a real
SMTP server on 127.0.0.1: login, the preview's frames, test sends, CSRF, and script safety."""
from __future__ import annotations

import shutil

import pytest

from newsletter import content, create_app
from newsletter.config import load_config

from browser import live_server, log_in
from helpers import SEED
from smtpserver import smtp_server

PASSWORD = "browser-test-password"
EVIL = "<script>alert(1)</script> and <img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on a live server, mailing through an aiosmtpd server: (base URL, recorder, config)."""
    tmp = tmp_path_factory.mktemp("web")
    folder = tmp / "content"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    (folder / "2020-01-01-evil.md").write_text(
        f'---\ntitle: "{EVIL}"\nauthor: "<b onmouseover=alert(1)>Mallory</b>"\n'
        f'quote: "{EVIL}"\n---\n{EVIL}\n\n<iframe src="javascript:alert(1)"></iframe>\n\n'
        "<a href=\"javascript:alert(1)\">click</a> and <svg onload=alert(1)></svg>\n",
        encoding="utf-8",
    )
    with smtp_server() as (port, recorder):
        config = load_config(
            overrides={
                "content": {"dir": str(folder)},
                "database": {"path": str(tmp / "instance" / "newsletter.db")},
                "smtp": {"backend": "smtp", "host": "127.0.0.1", "port": port, "security": "none",
                         "outbox": str(tmp / "instance" / "outbox")},
            },
            environ={"NEWSLETTER_EDITOR_PASSWORD": PASSWORD, "NEWSLETTER_SECRET_KEY": "b" * 32},
        )
        app = create_app({"NEWSLETTER": config})
        with live_server(app) as base:
            yield base, recorder, config


@pytest.fixture
def page(browser, site):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    log_in(page, site[0], PASSWORD)
    yield page
    context.close()


def seed_article():
    return content.load_article(SEED)


def test_login_logout_and_keyboard(browser, site):  # noqa: F811
    base = site[0]
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(f"{base}/subscribers")
    assert page.url.startswith(f"{base}/login?next=")
    page.get_by_label("Editor password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong password."
    page.get_by_label("Editor password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/subscribers")  # back where the editor wanted to go
    assert page.get_by_role("heading", level=1).inner_text() == "Subscribers"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"  # first stop: skip link
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    for path in ("/", "/issues", "/subscribers", "/test-addresses"):  # every page fits a phone
        page.goto(base + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{base}/login")
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login")
    context.close()


def test_preview_of_the_seed(page, site):
    base = site[0]
    article = seed_article()
    page.goto(f"{base}/articles/{article.slug}")
    desktop = page.frame_locator(".frame-desktop iframe").first.locator("body")
    text = desktop.inner_text()
    assert article.title in text
    assert article.quote.text.split()[0] in text and article.quote.text[-20:] in text.replace("\n", " ")
    assert article.author and article.author in text

    phone = page.locator("#panel-email .frame-phone iframe")
    assert phone.evaluate("el => el.clientWidth") == 375
    frame = phone.element_handle().content_frame()
    sizes = frame.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[1] == 375 and sizes[0] <= sizes[1], sizes  # no horizontal scrolling
    assert article.title in frame.inner_text("body")

    # the dark view really is dark: the title is light text there, dark text in the light view
    page.get_by_role("tab", name="Dark mode").click()
    light_frame = page.locator("#panel-email .frame-desktop iframe").element_handle().content_frame()
    dark_frame = page.locator("#panel-dark .frame-desktop iframe").element_handle().content_frame()
    assert _brightness(light_frame, article.title) < 300 < _brightness(dark_frame, article.title)
    page.get_by_role("tab", name="Desktop & phone").click()

    assert page.locator("#panel-text").is_hidden()
    page.get_by_role("tab", name="Plain text").click()
    assert page.locator("#panel-text").is_visible() and page.locator("#panel-email").is_hidden()
    plain = page.locator("#panel-text pre").inner_text()
    assert article.title in plain and "<" not in plain.split(article.title)[0]
    eml = page.request.get(f"{base}/articles/{article.slug}/message.eml").body()
    import email
    import email.policy

    text_part = email.message_from_bytes(eml, policy=email.policy.default).get_body(("plain",)).get_content()
    assert plain.strip().splitlines()[:5] == text_part.strip().splitlines()[:5]


def _brightness(frame, text: str) -> int:
    """R+G+B of the colour of the innermost element whose text is ``text``."""
    rgb = frame.evaluate(
        """text => {
            const all = [...document.querySelectorAll('body *')].filter(e => e.textContent.trim() === text);
            const c = getComputedStyle(all[all.length - 1]).color.match(/[0-9.]+/g).map(Number);
            return c[0] + c[1] + c[2];
        }""",
        text,
    )
    return rgb


def test_test_send_reaches_the_smtp_server_and_needs_csrf(page, site):
    base, recorder, config = site
    slug = seed_article().slug
    page.goto(f"{base}/articles/{slug}")
    page.get_by_label("Add a test address").fill("editor@example.com")
    page.get_by_role("button", name="Add", exact=True).click()
    assert page.get_by_label("editor@example.com").is_checked()
    before = len(recorder.received)
    page.get_by_role("button", name="Send test").click()
    page.get_by_text("Test sent to editor@example.com").wait_for()
    assert len(recorder.received) == before + 1
    got = recorder.received[-1]
    assert got.rcpt_tos == ["editor@example.com"]
    assert got.message["Subject"].startswith("[TEST] ")

    forged = page.request.post(f"{base}/articles/{slug}/test", form={"to": "editor@example.com"})
    assert forged.status == 400
    assert len(recorder.received) == before + 1  # nothing sent


def test_script_in_an_article_never_runs(page, site):
    base = site[0]
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{base}/")
    assert EVIL in page.get_by_role("link", name="alert(1)").first.inner_text()  # shown as text
    page.get_by_role("link", name="alert(1)").first.click()
    page.wait_for_load_state("load")
    assert "/articles/evil" in page.url
    for tab in ("Dark mode", "Plain text", "Raw message", "Desktop & phone"):
        page.get_by_role("tab", name=tab).click()
    frames = [f for f in page.frames if f != page.main_frame]
    assert len(frames) == 4
    for frame in frames:
        assert "<script>alert(1)</script>" in frame.inner_text("body")  # the title, as text
        assert frame.evaluate("() => document.querySelectorAll('script, [onerror], [onload]').length") == 0
    page.locator(".frame-desktop iframe").first.hover()
    page.wait_for_timeout(500)
    assert dialogs == []
