"""Saved web pages (.html) as articles, and what copied pages put before their headline."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from newsletter.content import load_article, load_articles_report, parse_text, resolve
from newsletter.errors import ContentError

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "fixtures" / "feeds" / "article.html"


def test_a_saved_page_in_the_content_folder_is_an_article(tmp_path):
    shutil.copy(PAGE, tmp_path / "night-buses.html")
    (tmp_path / "menu-only.htm").write_text("<!doctype html><html><body><nav><a href='/'>Home</a></nav></body></html>")
    found, errors = load_articles_report(tmp_path)
    assert [a.slug for a in found] == ["night-buses"]
    assert errors == [f"{tmp_path / 'menu-only.htm'}: no article text found in the page"]
    article = resolve("night-buses", tmp_path)
    assert (article.format, article.title, article.author) == ("html", "How the night buses came back", "Tomasz Wróbel")
    assert article.date.isoformat() == "2025-10-02"
    assert article.url == "https://riverside-post.example/transport/night-buses-return"
    assert article.image == "https://riverside-post.example/media/2025/10/night-bus-1200.jpg"
    assert article.excerpt.startswith("After four years without them")
    text = " ".join(b.content.text for b in article.blocks if b.content)
    assert text.startswith("At ten past two") and "cookies" not in text and "Related articles" not in text
    assert not article.warnings


def test_html_is_chosen_by_content_too():
    page = PAGE.read_text()
    article = parse_text(page, "saved-page.txt")
    assert article.format == "html" and article.title == "How the night buses came back"


@pytest.mark.parametrize("text, title, excerpt_starts", [
    # menu words run together, a site banner, a section label, a date line, then the headline
    ("Skip to main content\nHomeNewsSportBusinessCultureTravel\nTHE RIVERSIDE POST\nTransport\n"
     "Thursday 2 October 2025\nHow the night buses came back after four years\n"
     "At ten past two on a Tuesday morning, the N4 pulled out of the central station with eleven passengers.\n",
     "How the night buses came back after four years", "At ten past two"),
    # a live-blog label and a date line with a time before the headline, a one-line dek after it
    ("LIVE\nBreaking News\n2 October 2025, 09:14 BST\nBridge closes for three weeks\n"
     "Buses divert via Mill Road from Monday.\n",
     "Bridge closes for three weeks", "Buses divert via Mill Road"),
    # "Section | Subsection" and a menu above a headline with its byline under it
    ("Menu\nSearch\nOpinion | Cities\nWhy every town needs a night bus\nBy Jane Doe\nOct 2, 2025\n"
     "Night workers keep hospitals, hotels and bakeries running. They deserve a way home.\n",
     "Why every town needs a night bus", "Night workers keep"),
    # a short real title with a byline under it stays the title
    ("Safe Title\nBy: Ann Example\nDec 3, 2025\n\nA first paragraph that says something.\n",
     "Safe Title", "A first paragraph"),
])
def test_the_title_is_the_headline_not_the_page_furniture_above_it(text, title, excerpt_starts):
    article = parse_text(text, "page.txt")
    assert article.title == title
    assert article.date is not None and article.date.isoformat() in ("2025-10-02", "2025-12-03")
    assert article.excerpt.startswith(excerpt_starts)


def test_an_article_without_an_excerpt_gets_a_warning():
    article = parse_text("---\ntitle: Only a picture\n---\n\n![A chart](https://example.com/c.png)\n", "pic.md")
    assert article.excerpt == ""
    assert "No excerpt: no standfirst or opening paragraph to show under the title." in article.warnings
    assert not any("No excerpt" in w for w in load_article(ROOT / "content" /
                   "2025-12-01-passkeys-without-the-jargon.md").warnings)


def test_an_html_file_too_big_is_refused(tmp_path):
    big = tmp_path / "big.html"
    big.write_bytes(b"<html><body><p>" + b"word " * 2_100_000 + b"</p></body></html>")
    with pytest.raises(ContentError, match="over the 10 MB article size limit"):
        load_article(big)
