"""The reference seed article through the parser and the composer: every point of the digest."""
from __future__ import annotations

import re
from email import message_from_bytes, policy

import lxml.html
import pytest

from newsletter.compose import TOKENS, render_issue
from newsletter.content import load_article

from helpers import CONTENT, SEED

TITLE = "Trump Rejects Maduro Amnesty in Tense Phone Call"
OBAMA = "Money is not the only answer, but it makes a difference."


MARKDOWN = """---
title: "Five things we learned: <b>not bold</b>"
date: 2025-11-28
author: Ada Lovelace
excerpt: Short paragraphs, one idea each.
---
Lead with the news. Then cut everything else.
"""


@pytest.fixture
def overrides(overrides, tmp_path):
    """A content folder of its own: the seed, a Markdown article and an unreadable file."""
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    (folder / "2025-11-28-five-things.md").write_text(MARKDOWN, encoding="utf-8")
    overrides["content"]["dir"] = str(folder)
    return overrides


@pytest.fixture(scope="module")
def seed():
    return load_article(SEED)


@pytest.fixture
def rendered(seed, config):
    return render_issue([seed], config)


def words(el) -> str:
    return " ".join(el.text_content().split())


def test_seed_digest_html(rendered, config):
    page = lxml.html.document_fromstring(rendered.html)
    link = f"{config.base_url}/read/000_c1508f7e4351951f"
    (h1,) = page.xpath("//h1")
    assert words(h1) == TITLE and h1.xpath("./a/@href") == [link]
    meta = words(page.find_class("meta")[0])
    assert meta == "3 Dec 2025 · 5 min read · Steven Soarez"
    excerpt = words(page.find_class("excerpt")[0])
    assert excerpt.startswith("President Trump just told Nicolás Maduro on the phone")
    assert excerpt.endswith("What happens if he refuses?")
    quote = words(page.find_class("quote")[0])
    assert OBAMA in quote and "— Barack Obama" in quote
    assert page.find_class("button")[0].get("href") == link
    author = words(page.find_class("author")[0])
    assert "Steven Soarez" in author and "passionately shares his financial expertise" in author
    assert words(page.find_class("disclaimer")[0]).startswith("Financial market analysis from 03/12/2025")
    body = words(page.body)
    for debris in ("Related Articles", "?>", "2 views"):
        assert debris not in body
    assert "?>" not in rendered.html and "Related Articles" not in rendered.text


def test_seed_digest_is_email_safe(rendered):
    html = rendered.html
    page = lxml.html.document_fromstring(html)
    assert page.get("lang") == "en" and page.get("dir") == "ltr"
    assert page.xpath("//meta[@charset='utf-8']") and page.xpath("//meta[@name='viewport']")
    assert page.xpath("//meta[@name='color-scheme']") and page.xpath("//meta[@name='supported-color-schemes']")
    assert all(t.get("role") == "presentation" for t in page.xpath("//table"))
    assert not page.xpath("//script|//form|//iframe|//link")
    for img in page.xpath("//img"):
        assert img.get("alt") is not None and img.get("width") and img.get("src").startswith("http")
    assert len(html.encode()) < 51 * 1024
    (style,) = page.xpath("//head/style")
    assert "@media (max-width: 620px)" in style.text and "@media (prefers-color-scheme: dark)" in style.text
    assert html.count(TOKENS["webview_url"]) == 1 and html.count(TOKENS["unsubscribe_url"]) == 1
    assert page.xpath("//a[@href=$t]", t=TOKENS["unsubscribe_url"])
    assert "<!--[if mso]>" in html and "v:roundrect" in html


def test_seed_text_part(rendered, config):
    text = rendered.text
    lines = text.splitlines()
    for line in lines:
        assert len(line) <= 78 or re.fullmatch(r"(https?://|NLTOK)\S+", line), line
    assert TITLE in lines and "=" * len(TITLE) in lines
    assert "3 Dec 2025 · 5 min read · Steven Soarez" in lines
    assert f"> “{OBAMA}”" in lines and "> — Barack Obama" in lines
    assert f"{config.base_url}/read/000_c1508f7e4351951f" in lines
    assert TOKENS["unsubscribe_url"] in lines
    assert config["newsletter"]["postal_address"] in text


def test_seed_full_text(seed, overrides):
    from newsletter.config import load_config

    overrides["content"]["full_text"] = True
    rendered = render_issue([seed], load_config(overrides=overrides, environ={}))
    page = lxml.html.document_fromstring(rendered.html)
    headings = [words(h) for h in page.xpath("//h2")]
    assert headings[0] == "The Phone Call That Changed Everything" and headings[-1] == "Where We Go From Here"
    assert len(headings) == 9
    assert len(page.xpath("//ul")) == 2
    assert "If he didn’t leave willingly" in words(page.body)
    assert words(page.body).count(OBAMA) == 1
    assert len(rendered.html.encode()) < 51 * 1024
    assert "Where We Go From Here\n=====================" in rendered.text


def test_compose_command_writes_html_text_and_eml(runner, config, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(args=["compose", "000_c1508f7e4351951f", "--out", str(out)])
    assert result.exit_code == 0, result.output
    paths = [out / f"000_c1508f7e4351951f.{ext}" for ext in ("html", "txt", "eml")]
    assert result.output.split() == [str(p) for p in paths]
    html, text, raw = paths[0].read_text(), paths[1].read_text(), paths[2].read_bytes()
    assert "NLTOK" not in html + text + raw.decode("ascii")
    unsubscribe = re.search(r"^(http://\S+/unsubscribe/\S+)$", text, re.M).group(1)
    assert f'href="{unsubscribe}"' in html
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["To"] == "Sample Subscriber <subscriber@example.com>"
    assert msg["Subject"] == TITLE
    for header in ("From", "Date", "Message-ID", "List-Id"):
        assert msg[header]
    assert msg["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    plain, rich = msg.get_payload()
    assert plain.get_content_type() == "text/plain" and rich.get_content_type() == "text/html"
    assert plain.get_content_charset() == rich.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n") == text
    assert rich.get_content().replace("\r\n", "\n") == html


def test_compose_unknown_slug_is_one_line_error(runner, tmp_path):
    result = runner.invoke(args=["compose", "no-such-article", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "no-such-article" in result.output
    assert not (tmp_path / "out").exists()


def test_compose_writes_one_email_per_article(runner, config, tmp_path):
    result = runner.invoke(args=["compose", str(SEED), "five-things", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(result.output.split()) == 6
    for stem in ("000_c1508f7e4351951f", "five-things"):
        html = (tmp_path / f"{stem}.html").read_text()
        assert (tmp_path / f"{stem}.eml").is_file() and "Also in this issue" not in html


def test_compose_digest_of_several_articles(runner, tmp_path):
    args = ["compose", str(SEED), str(SEED), "--digest", "--out", str(tmp_path), "--subject", "Weekly"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "000_c1508f7e4351951f.html").read_text()
    assert "Also in this issue" in html and "<title>Weekly</title>" in html


def test_articles_lists_slug_date_title_author_and_warnings(runner, config):
    (config.content_dir / "messy.txt").write_text("A title all alone\n\nOne line of text", encoding="utf-8")
    result = runner.invoke(args=["articles"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = [line.split() for line in lines if not line.startswith(" ")]
    assert rows[0][:2] == ["000_c1508f7e4351951f", "2025-12-03"] and lines[0].endswith(f"{TITLE}  by Steven Soarez")
    assert rows[1][:2] == ["five-things", "2025-11-28"]
    assert "Five things we learned: <b>not bold</b>  by Ada Lovelace" in lines[1]
    assert [row[0] for row in rows] == ["000_c1508f7e4351951f", "five-things", "messy"]
    assert all(line.startswith("    warning: ") for line in lines if line.startswith(" "))
    messy = next(i for i, line in enumerate(lines) if line.startswith("messy"))
    assert any(line.startswith("    warning: ") for line in lines[messy:])


def test_articles_reports_unreadable_files(runner, config):
    (config.content_dir / "broken.md").write_bytes(b"\x00\x01\x02binary\xff\xfe")
    result = runner.invoke(args=["articles"])
    assert result.exit_code == 1
    assert any(line.startswith("error: ") and "broken.md" in line for line in result.output.splitlines())
    assert "000_c1508f7e4351951f" in result.output  # the good ones are still listed


def test_help_texts(runner):
    for command in ("articles", "compose"):
        result = runner.invoke(args=[command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
    assert "sample subscriber" in runner.invoke(args=["compose", "--help"]).output


SAMPLES = sorted((SEED.parent / "messy").glob("*.*")) + sorted(CONTENT.glob("*.*"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_composes_in_both_modes(path, overrides):
    from newsletter.config import load_config

    article = load_article(path)
    for full_text in (False, True):
        overrides["content"]["full_text"] = full_text
        rendered = render_issue([article], load_config(overrides=overrides, environ={}))
        page = lxml.html.document_fromstring(rendered.html)
        assert words(page.xpath("//h1")[0]) == " ".join(article.title.split())
        assert rendered.subject and len(rendered.html.encode()) < 51 * 1024
        assert not page.xpath("//script|//form|//iframe|//link")
        for line in rendered.text.splitlines():
            assert len(line) <= 78 or re.fullmatch(r"(https?://|NLTOK)\S+", line), line
