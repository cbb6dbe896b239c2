"""The digest as a reader's browser shows it: Chromium at desktop and phone widths, light and dark."""
from __future__ import annotations

from newsletter.compose import render_issue

from helpers import lead_article, second_article


def open_digest(browser, html: str, width: int, scheme: str = "light"):
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page.route("**/*", lambda route: route.abort())  # an email never fetches anything here
    page.set_content(html)
    return page


def box(page, selector: str) -> dict:
    return page.eval_on_selector(
        selector, "e => { const r = e.getBoundingClientRect(); return {x: r.x, w: r.width, h: r.height}; }")


def style(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")


def test_desktop_and_phone_layout(browser, config):
    html, _ = render_issue([lead_article(), second_article()], config).fill({})
    desktop = open_digest(browser, html, 800)
    assert box(desktop, ".container")["w"] == 600
    assert style(desktop, ".h1", "fontSize") == "32px"
    assert box(desktop, ".preheader")["h"] == 0  # hidden
    assert desktop.is_visible("text=Read the full article") and desktop.is_visible("text=Unsubscribe")
    desktop.close()

    phone = open_digest(browser, html, 375)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    assert box(phone, ".container")["w"] == 375
    assert style(phone, ".h1", "fontSize") == "26px"
    button, card = box(phone, "a.button"), box(phone, ".card")
    assert button["w"] == card["w"] - 40  # full-width tap target inside the 20 px padding
    assert button["h"] >= 44
    phone.close()


def test_dark_scheme(browser, config):
    html, _ = render_issue([lead_article()], config).fill({})
    light = open_digest(browser, html, 600, "light")
    assert style(light, ".card", "backgroundColor") == "rgb(255, 255, 255)"
    light.close()
    dark = open_digest(browser, html, 600, "dark")
    assert style(dark, "body", "backgroundColor") == "rgb(17, 24, 39)"
    assert style(dark, ".card", "backgroundColor") == "rgb(31, 41, 55)"
    assert style(dark, ".h1 a", "color") == "rgb(249, 250, 251)"
    assert style(dark, ".excerpt", "color") == "rgb(229, 231, 235)"
    dark.close()
