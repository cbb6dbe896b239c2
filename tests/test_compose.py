"""render_issue: the digest HTML (parsed, point by point), the text part, tokens, escaping."""
from __future__ import annotations

import logging
import re
import socket
from datetime import date

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.compose import TOKENS, RenderedIssue, render_issue, shorten, wrap
from newsletter.config import load_config
from newsletter.content import Block, Quote

from helpers import BIO, DISCLAIMER, OBAMA, STANDFIRST, TITLE, inline, lead_article, paragraph, second_article


@pytest.fixture
def full_config(overrides):
    overrides["content"]["full_text"] = True
    return load_config(overrides=overrides, environ={})


def doc(rendered: RenderedIssue):
    return lxml.html.document_fromstring(rendered.html)


def text_of(el) -> str:
    return " ".join(el.text_content().split())


# --- the digest ---------------------------------------------------------------------------------


def test_lead_article_digest(config):
    rendered = render_issue([lead_article()], config, issue_date=date(2025, 12, 5))
    page = doc(rendered)
    link = f"{config.base_url}/read/000_c1508f7e4351951f"
    (h1,) = page.xpath("//h1")
    assert text_of(h1) == TITLE
    assert h1.xpath(".//a/@href") == [link]
    (meta,) = page.find_class("meta")
    assert text_of(meta) == "3 Dec 2025 · 5 min read · Steven Soarez"
    (excerpt,) = page.find_class("excerpt")
    assert text_of(excerpt) == STANDFIRST
    (quote,) = page.find_class("quote")
    assert OBAMA in text_of(quote) and "— Barack Obama" in text_of(quote)
    (button,) = page.find_class("button")
    assert button.get("href") == link and text_of(button) == "Read the full article"
    (author,) = page.find_class("author")
    assert "Steven Soarez" in text_of(author) and BIO in text_of(author)
    (disclaimer,) = page.find_class("disclaimer")
    assert text_of(disclaimer) == DISCLAIMER
    body = text_of(page.body)
    assert "The Newsletter" in body and "5 December 2025" in body
    assert "You are receiving this because you subscribed to The Newsletter" in body
    assert config["newsletter"]["postal_address"] in body
    # the excerpt digest carries no body text
    assert "Sources familiar" not in body and not page.xpath("//h2|//ul|//ol")


def test_article_url_wins_over_the_app_page(config):
    rendered = render_issue([lead_article(url="https://news.example.org/maduro")], config)
    assert doc(rendered).find_class("button")[0].get("href") == "https://news.example.org/maduro"
    assert 'href="https://news.example.org/maduro"' in rendered.html.split("v:roundrect")[1]


def test_app_page_link_quotes_the_slug(config):
    rendered = render_issue([lead_article(slug='odd slug/"x"')], config)
    link = f"{config.base_url}/read/odd%20slug%2F%22x%22"
    assert doc(rendered).find_class("button")[0].get("href") == link and link in rendered.text


def test_optional_parts_left_out(config):
    bare = lead_article(quote=None, disclaimer="", author="", author_bio="", read_time=None)
    page = doc(render_issue([bare], config))
    assert not page.find_class("quote") and not page.find_class("disclaimer")
    assert not page.find_class("author")
    assert text_of(page.find_class("meta")[0]) == "3 Dec 2025"


def test_further_articles_get_title_short_excerpt_and_link(config):
    rendered = render_issue([lead_article(), second_article()], config)
    page = doc(rendered)
    (item,) = page.find_class("item")
    assert text_of(item.xpath(".//h2")[0]) == "How to write a newsletter people read"
    assert set(item.xpath(".//a/@href")) == {"https://example.com/posts/how-to-write?a=1&b=2"}
    excerpt = text_of(item.find_class("item-excerpt")[0])
    assert excerpt.startswith("Short paragraphs") and excerpt.endswith(".")  # cut at sentence end
    assert "never make it" not in excerpt
    assert "https://example.com/posts/how-to-write?a=1&b=2" in rendered.text
    assert "&amp;b=2" in rendered.html


def test_subject_and_preheader(config):
    rendered = render_issue([lead_article()], config)
    assert rendered.subject == TITLE
    assert rendered.preheader.startswith("President Trump just told") and len(rendered.preheader) <= 150
    chosen = render_issue([lead_article()], config, subject="  Weekly:\n the   Maduro call ")
    assert chosen.subject == "Weekly: the Maduro call"
    page = doc(rendered)
    (pre,) = page.find_class("preheader")
    assert "display:none" in pre.get("style").replace(" ", "")
    assert pre.text_content().startswith(rendered.preheader)
    assert pre.text_content().count("\u200c\u00a0") >= 50  # padding keeps body text out of the preview
    assert page.body[0] is pre  # first thing in the body


def test_full_text_renders_whole_articles_email_safe(full_config):
    rendered = render_issue([lead_article(), second_article()], full_config)
    page = doc(rendered)
    card = page.find_class("card")[0]
    assert [text_of(h) for h in card.xpath(".//h2|.//h3")] == [
        "The Phone Call That Changed Everything",
        "Where We Go From Here",
    ]
    assert [text_of(li) for li in card.xpath(".//ul/li")] == ["No more supply flights", "No easy escape routes"]
    assert [text_of(li) for li in card.xpath(".//ol/li")] == ["First", "Second"]
    assert len(card.find_class("rule")) == 1
    (img,) = card.xpath(".//img")
    assert img.get("src") == "https://example.com/ship.jpg" and img.get("alt") == "A warship at sea"
    assert "dropped" not in rendered.html
    assert max(len(line) for line in rendered.html.splitlines()) <= 998  # long paragraphs folded
    # the standfirst opens the body once; the closing quote is shown once (from the body)
    assert text_of(card).count("President Trump just told") == 1
    assert text_of(card).count(OBAMA) == 1
    assert "Sources familiar" in text_of(card) and "Sources familiar" in rendered.text
    assert "The Phone Call That Changed Everything\n======" in rendered.text
    assert "  * No more supply flights" in rendered.text and "  1. First" in rendered.text


# --- email-safe HTML ----------------------------------------------------------------------------


def test_document_shell(config):
    rendered = render_issue([lead_article()], config)
    assert rendered.html.startswith("<!DOCTYPE html>")
    page = doc(rendered)
    assert page.get("lang") == "en" and page.get("dir") == "ltr"
    metas = {(m.get("name") or m.get("http-equiv") or "charset"): m.get("content") or m.get("charset")
             for m in page.xpath("//meta")}
    assert metas["charset"].lower() == "utf-8"
    assert "width=device-width" in metas["viewport"]
    assert metas["color-scheme"] == "light dark" and metas["supported-color-schemes"] == "light dark"
    tables = page.xpath("//table")
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert not page.xpath("//script|//form|//iframe|//link|//object|//embed|//input")
    assert not [a for el in page.iter() for a in el.attrib if a.lower().startswith("on")]
    (container,) = page.find_class("container")
    assert "max-width:600px" in container.get("style").replace(" ", "")


def test_styles_inlined_and_media_rules_kept(config):
    rendered = render_issue([lead_article()], config)
    page = doc(rendered)
    (style,) = page.xpath("//style")
    css = style.text
    assert "@media (max-width: 620px)" in css and "@media (prefers-color-scheme: dark)" in css
    assert "!important" in css and ".button" in css
    assert ".h1" not in css.split("@media")[0]  # plain rules went inline, not kept twice
    h1 = page.xpath("//h1")[0]
    assert "font-size:32px" in h1.get("style").replace(" ", "")
    assert len(rendered.html.encode()) < 51 * 1024
    assert max(len(line) for line in rendered.html.splitlines()) <= 998


def test_outlook_fallbacks_survive_inlining(config):
    html = render_issue([lead_article()], config).html
    link = f"{config.base_url}/read/000_c1508f7e4351951f"
    assert re.search(r'<!--\[if mso\]><table role="presentation" width="600"[^>]*><tr><td><!\[endif\]-->', html)
    assert "<!--[if mso]></td></tr></table><![endif]-->" in html
    vml = re.search(r"<!--\[if mso\]><v:roundrect (.*?)</v:roundrect><!\[endif\]-->", html, re.S)
    assert vml and f'href="{link}"' in vml.group(1) and "Read the full article" in vml.group(1)
    assert re.search(r'<!--\[if !mso\]><!--><a href="' + re.escape(link), html)


def test_images_have_alt_width_and_absolute_src(full_config):
    lead = lead_article(image="https://example.com/hero.jpg", image_alt="Caracas at night")
    page = doc(render_issue([lead], full_config))
    images = page.xpath("//img")
    assert len(images) == 2
    for img in images:
        assert img.get("alt") and img.get("width").isdigit()
        assert img.get("src").startswith("https://")
    assert images[0].get("alt") == "Caracas at night" and images[0].get("width") == "600"


def test_tokens_in_place_once_and_fill(config):
    rendered = render_issue([lead_article(), second_article()], config)
    page = doc(rendered)
    assert page.xpath("//a[text()='View in browser']/@href") == [TOKENS["webview_url"]]
    assert page.xpath("//a[text()='Unsubscribe']/@href") == [TOKENS["unsubscribe_url"]]
    for key in ("webview_url", "unsubscribe_url"):
        assert rendered.html.count(TOKENS[key]) == 1 and rendered.text.count(TOKENS[key]) == 1
    unsubscribe = "https://news.example.com/unsubscribe/abc.DEF-1?x=1&y=2"
    html, text = rendered.fill({"unsubscribe_url": unsubscribe, "webview_url": "https://news.example.com/i/7"})
    assert "NLTOK" not in html and "NLTOK" not in text
    filled = lxml.html.document_fromstring(html)
    assert filled.xpath("//a[text()='Unsubscribe']/@href") == [unsubscribe]
    assert filled.xpath("//a[text()='View in browser']/@href") == ["https://news.example.com/i/7"]
    assert unsubscribe in text.splitlines()


def test_render_never_touches_the_network(config, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access during render")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    lead = lead_article(image="https://example.com/hero.jpg", url="https://example.com/a")
    assert render_issue([lead], config).html


def test_cssutils_does_not_flood_the_log(config, caplog):
    caplog.set_level(logging.DEBUG)
    render_issue([lead_article()], config)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [r for r in caplog.records if "cssutils" in r.name.lower()]


def test_render_once_fill_many(config):
    rendered = render_issue([lead_article()], config)
    first = rendered.fill({"unsubscribe_url": "https://x.example/u/1", "webview_url": "https://x.example/w"})
    second = rendered.fill({"unsubscribe_url": "https://x.example/u/2", "webview_url": "https://x.example/w"})
    assert first[0].replace("/u/1", "/u/2") == second[0]
    assert "NLTOK" in rendered.html  # the rendered issue itself is untouched


# --- plain text ---------------------------------------------------------------------------------


def assert_text_lines_fit(text: str) -> None:
    for line in text.splitlines():
        if len(line) > 78:
            assert " " not in line.strip() and re.match(r"(https?://|NLTOK)", line.strip()), line


def test_text_part(config):
    rendered = render_issue([lead_article(), second_article()], config, issue_date=date(2025, 12, 5))
    text = rendered.text
    lines = text.splitlines()
    assert_text_lines_fit(text)
    assert f"{TITLE}\n{'=' * len(TITLE)}" in text
    assert "3 Dec 2025 · 5 min read · Steven Soarez" in lines
    assert " ".join(text.split()).count(STANDFIRST) == 1
    assert f"> “{OBAMA}”" in lines and "> — Barack Obama" in lines
    assert f"{config.base_url}/read/000_c1508f7e4351951f" in lines  # link written out
    assert "https://example.com/posts/how-to-write?a=1&b=2" in lines
    assert TOKENS["unsubscribe_url"] in lines and TOKENS["webview_url"] in lines
    assert config["newsletter"]["postal_address"] in text
    assert DISCLAIMER in " ".join(text.split()) and "About the author: Steven Soarez" in lines
    assert "<" not in text  # no HTML in the text part


def test_text_part_full_text_wraps_long_paragraphs(full_config):
    text = render_issue([lead_article()], full_config).text
    assert_text_lines_fit(text)
    assert "> “If he didn’t leave willingly" in text


def test_wrap_keeps_urls_whole_and_splits_other_long_words():
    url = "https://example.com/" + "a" * 100
    out = wrap(f"see {url} and {'x' * 200} end")
    assert url in out.splitlines()
    assert all(len(line) <= 78 for line in out.splitlines() if line != url)
    assert "x" * 200 in out.replace("\n", "").replace(" ", "")


def test_shorten_cuts_at_sentence_end_or_word():
    text = "One. Two three four five six seven. Eight nine ten eleven"
    assert shorten(text, 40) == "One. Two three four five six seven."
    assert shorten("word " * 50, 30).endswith("…") and len(shorten("word " * 50, 30)) <= 30


# --- escaping -----------------------------------------------------------------------------------

EVIL = '<script>alert(1)</script> "><img src=x onerror=alert(2)> {{ 7*7 }} {% if 1 %}X{% endif %}'


def test_article_text_is_inert_in_html_and_text(full_config):
    evil_inline = inline(EVIL)
    article = lead_article(
        title=EVIL,
        author=EVIL,
        author_bio=EVIL,
        excerpt=EVIL,
        disclaimer=EVIL,
        quote=Quote(EVIL, EVIL),
        url='https://example.com/"><script>alert(3)</script>',
        image="https://example.com/x.jpg",
        image_alt=EVIL,
        blocks=[
            Block("paragraph", content=evil_inline),
            Block("heading", content=evil_inline),
            Block("list", items=(evil_inline,)),
            Block("quote", content=evil_inline, cite=EVIL),
            Block("image", src="https://example.com/y.jpg", alt=EVIL),
        ],
    )
    for config_used, subject in ((full_config, EVIL), (full_config, None)):
        rendered = render_issue([article, second_article(title=EVIL, excerpt=EVIL)], config_used, subject=subject)
        page = doc(rendered)
        assert not page.xpath("//script")
        assert not [a for el in page.iter() for a in el.attrib if a.lower().startswith("on")]
        assert not [img for img in page.xpath("//img") if img.get("src") == "x"]
        for part in (rendered.html, rendered.text, rendered.subject, rendered.preheader):
            assert "49" not in part
        assert "{{ 7*7 }}" in rendered.text and "{{ 7*7 }}" in text_of(page.body)
        assert "<script>alert(1)</script>" in rendered.text  # plain text shows it as text
        assert rendered.subject == " ".join(EVIL.split()) or subject is None


def test_header_fields_from_config_are_escaped(overrides):
    overrides["newsletter"] = {"name": "<b>Bold</b> & Co", "postal_address": "<i>1 St</i>"}
    config = load_config(overrides=overrides, environ={})
    rendered = render_issue([lead_article()], config)
    body = text_of(doc(rendered).body)
    assert "<b>Bold</b> & Co" in body and "<i>1 St</i>" in body
    assert not doc(rendered).xpath("//body//b|//body//i")


# --- any text at all ----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(min_size=1), body=st.text(), by=st.text())
def test_any_article_text_renders_safely(config, title, body, by):
    article = lead_article(
        title=title, excerpt=body, author=by, author_bio=body, quote=Quote(body, by), disclaimer=by,
        blocks=[paragraph(body)],
    )
    rendered = render_issue([article, second_article(title=by or "x", excerpt=body)], config)
    page = doc(rendered)
    assert not page.xpath("//script") and len(page.xpath("//h1")) == 1
    assert_text_lines_fit(rendered.text)
    assert not re.search(r"[\x00-\x1f\x7f\x85\u2028\u2029]", rendered.subject + rendered.preheader)


def test_full_text_does_not_repeat_opening_paragraphs_taken_as_the_excerpt(full_config, tmp_path):
    """A page with no standfirst: its excerpt is cut from the opening paragraphs, which the
    whole text shows anyway, so the email must not print them twice."""
    from newsletter.content import load_article

    first = "UK inflation fell to 3.2% in the year to November, official figures show."
    second = "The fall was driven by lower food and fuel prices, the statistics office said."
    path = tmp_path / "inflation.txt"
    path.write_text(f"UK inflation falls as food prices ease\n\n{first}\n\n{second}\n\n"
                    "What it means for rates\n\nEconomists expect a cut next week.\n")
    article = load_article(path)
    assert article.excerpt.startswith(first)
    rendered = render_issue([article], full_config)
    assert rendered.text.count("UK inflation fell to 3.2%") == 1
    shown = [p for p in doc(rendered).iter("p") if text_of(p).startswith("UK inflation fell to 3.2%")]
    assert len(shown) == 1  # (the hidden preheader aside)
