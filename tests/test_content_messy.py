"""Messy real-world articles (tests/samples/messy/): best article plus the right warnings."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from newsletter.content import load_article

MESSY = Path(__file__).resolve().parent / "samples" / "messy"


def load(name: str):
    return load_article(MESSY / name)


def warned(article, *words: str) -> bool:
    """Some warning mentions every one of ``words`` (case-insensitive)."""
    return any(all(w.lower() in message.lower() for w in words) for message in article.warnings)


def body_texts(article) -> list[str]:
    return [b.content.text for b in article.blocks if b.content is not None] + [
        i.text for b in article.blocks for i in b.items]


def test_every_messy_sample_parses_with_a_title_and_an_excerpt():
    names = sorted(p.name for p in MESSY.iterdir())
    assert len(names) >= 10
    for name in names:
        article = load(name)
        assert 5 <= len(article.title) <= 120, name
        assert article.excerpt and len(article.excerpt) <= 300, name
        assert article.blocks, name


def test_menu_run_into_the_title_is_removed_and_reported():
    article = load("menu-run-into-title.txt")
    assert article.title == "Copper Prices Hit a Two-Year High as Mines Stall"
    assert warned(article, "menu", "Home News Markets Opinion")
    assert article.author == "Laura Chen"
    assert article.date == date(2023, 6, 28)
    assert [b.content.text for b in article.blocks if b.kind == "heading"] == ["What Comes Next"]


def test_navigation_lines_before_the_title_and_a_run_in_read_time_and_date():
    article = load("nav-lines-and-medium-byline.txt")
    assert article.title == "Why I Stopped Checking My Portfolio Every Day"
    assert article.author == "Jane Doe"
    assert (article.read_time, article.date) == (4, date(2023, 6, 28))
    assert not any(t in ("Menu", "Search", "Share", "Follow", "Jane Doe") for t in body_texts(article))
    assert article.excerpt.startswith("For three years I opened my brokerage app")
    assert article.warnings == []


def test_byline_run_into_the_date():
    article = load("byline-run-into-date.txt")
    assert article.author == "Sam Okonkwo"
    assert article.date == date(2024, 3, 3)
    assert not any("views" in t for t in body_texts(article))


def test_quote_that_opens_and_never_closes():
    article = load("unclosed-quote.txt")
    assert warned(article, "never closes", "We need more time")
    quote = [b for b in article.blocks if b.kind == "quote"]
    assert quote and quote[0].content.text.startswith("We need more time to look at the flood maps")
    assert article.date == date(2025, 12, 3)  # "3 December 2025"
    assert article.author == "Amara Singh"


def test_text_truncated_mid_sentence():
    article = load("truncated-text.txt")
    assert warned(article, "cut off", "which can make")
    assert article.date == date(2025, 12, 3)  # ISO date line
    assert article.author == "Tomás Rivera"


def test_paywall_marker_ends_the_text_and_is_reported():
    article = load("paywall-truncated.txt")
    assert warned(article, "truncated")
    assert not any("Subscribe" in t or "Continue reading" in t for t in body_texts(article))
    assert article.date == date(2025, 2, 12)
    assert article.author == "Nadia Petrova"


def test_no_author_and_no_date_are_reported():
    article = load("no-author-no-date.txt")
    assert article.title == "Five Small Habits That Make a Budget Stick"
    assert article.date is None and article.author == ""
    assert warned(article, "no date") and warned(article, "no author")
    assert article.excerpt.startswith("Budgets fail for boring reasons")


def test_ambiguous_numeric_date_is_read_day_first_with_a_warning():
    article = load("ambiguous-date.txt")
    assert article.date == date(2024, 4, 3)
    assert warned(article, "03/04/2024", "ambiguous")


def test_template_debris_in_a_copied_page_is_dropped_with_a_warning():
    article = load("template-debris.txt")
    assert article.title == "Why Small Shops Are Going Back to Cash Discounts"
    assert article.date == date(2025, 12, 3)
    assert warned(article, "template code")
    for text in body_texts(article):
        assert "{%" not in text and "{{" not in text and "<?php" not in text
    assert len([b for b in article.blocks if b.kind == "paragraph"]) == 2


def test_raw_html_in_markdown_becomes_safe_blocks():
    article = load("raw-html-headings.md")
    headings = [b for b in article.blocks if b.kind == "heading"]
    assert [h.content.text for h in headings] == ["A Heading Written in HTML"]
    html = " ".join(b.content.html for b in article.blocks if b.content)
    assert "script" not in html and "iframe" not in html and "onclick" not in html
    assert "javascript:" not in html and "boom" not in " ".join(body_texts(article))
    assert '<a href="https://example.org/ok">good one</a>' in html
    assert "bad link" in html  # the text of the unsafe link stays
    images = [b for b in article.blocks if b.kind == "image"]
    assert [(i.src, i.alt) for i in images] == [("https://example.org/photo.jpg", "A photo")]
    assert warned(article, "script") and warned(article, "iframe") and warned(article, "javascript")
    assert warned(article, "images/chart.png", "no url")


def test_horizontal_rules_are_not_front_matter():
    article = load("horizontal-rules.md")
    assert article.format == "markdown"
    assert article.title == "Three Things I Learned Running a Newsletter"
    kinds = [b.kind for b in article.blocks]
    assert kinds.count("rule") >= 2 and kinds.count("heading") == 2
    assert article.excerpt.startswith("The first year of a newsletter")


def test_template_tags_in_markdown_and_yaml_string_date_and_synonyms():
    article = load("template-tags.md")
    assert article.date == date(2024, 3, 5)
    assert article.excerpt == "A post moved from an old blog engine, with its template tags still in it."
    assert article.tags == ("migration", "blogging")
    assert warned(article, "unknown front matter key", "draft")
    assert warned(article, "template code")
    for text in body_texts(article):
        assert "{%" not in text and "{{<" not in text and "php" not in text
    assert len(article.blocks) == 2


def test_toml_front_matter_with_dotted_keys_and_offset_datetime():
    article = load("toml-dotted-keys.md")
    assert article.title == "Late-Night Deploys and Time Zones"
    assert article.date == date(2025, 3, 9)  # the date where it was written (UTC-8), not UTC's 10th
    assert article.author == "Chris Doyle"
    assert article.author_bio.startswith("Chris Doyle runs infrastructure")
    assert article.tags == ("ops", "time zones")
    assert warned(article, "layout")
    # relative images made absolute against the article's url
    assert article.image == "https://blog.example.com/posts/img/clock.png"
    images = [b.src for b in article.blocks if b.kind == "image"]
    assert images == ["https://blog.example.com/posts/img/clock-face.png"]


def test_format_is_chosen_by_content_not_extension():
    txt = load("front-matter-in-a-txt.txt")
    assert txt.format == "markdown" and txt.title == "A Text File With Front Matter"
    assert '<strong>Markdown</strong>' in txt.blocks[0].content.html
    page = load("copied-page-with-md-extension.md")
    assert page.format == "text"
    assert page.title == "Gardening on a Balcony: A Beginner's Guide"
    assert page.read_time == 5 and page.date == date(2024, 4, 2)
    assert page.author == "Lena Fischer"
    assert [len(b.items) for b in page.blocks if b.kind == "list"] == [3]
    assert page.quote is not None and page.quote.text == "A balcony garden is a conversation with the weather."


def test_windows_1252_file_is_read_with_a_warning():
    article = load("windows-1252.txt")
    assert article.title == "Café Prices and the “Latte Index”"
    assert article.date == date(2024, 1, 12)
    assert warned(article, "Windows-1252")
    assert article.excerpt.startswith("A café latte costs more every year — but by how much?")


@pytest.mark.parametrize("name", sorted(p.name for p in MESSY.iterdir()))
def test_warnings_are_short_sentences(name):
    for message in load(name).warnings:
        assert message[:1].isupper() and len(message) <= 160 and "\n" not in message


@pytest.mark.parametrize("name, title, dek", [
    ("title-then-dek-verge.txt", "Apple's new M5 MacBook Pro is fast, quiet, and a little boring",
     "The new laptop doesn't change much, and that's mostly fine."),
    ("title-then-dek-substack.txt", "The Dollar's Quiet Comeback",
     "What a strong greenback means for your portfolio in 2026"),
    ("medium-dek-and-dot-lines.txt", "Why Your Monorepo Builds Are Slow (and How We Cut Ours by 70%)",
     "Caching is not enough: the three changes that actually moved the needle"),
])
def test_a_subtitle_under_the_title_is_the_excerpt_not_the_title(name, title, dek):
    article = load(name)
    assert article.title == title
    assert article.excerpt == dek
    assert dek not in body_texts(article)


def test_medium_header_dot_and_counter_lines_are_metadata_not_body():
    article = load("medium-dek-and-dot-lines.txt")
    assert (article.author, article.read_time, article.date) == ("Dana Kim", 7, date(2023, 6, 28))
    assert body_texts(article)[0].startswith("Our CI pipeline used to take forty minutes")
    assert not any(t.strip("·-– ") == "" or t in ("Listen", "Share") for t in body_texts(article))
    assert article.author_bio == "Staff engineer. Writes about build systems and developer tooling."


def test_a_date_run_into_the_time_and_an_updated_note_is_read():
    article = load("reuters-date-run-into-time.txt")
    assert article.date == date(2025, 12, 4)
    assert article.author == "Francesco Canepa and Balazs Koranyi"
    assert article.title == "Exclusive: ECB policymakers lean towards December pause as inflation cools"


def test_news_header_relative_time_reporter_role_and_photo_credit_are_not_body():
    article = load("bbc-relative-time-role-credit.txt")
    assert article.title == "UK inflation falls to 3.2% as food prices ease"
    assert article.author == "Jane Smith"
    texts = body_texts(article)
    assert texts[0].startswith("UK inflation fell to 3.2%")
    assert not any(t in ("2 hours ago", "Jane Smith", "Business reporter, BBC News", "Getty Images") for t in texts)


def test_wire_story_credits_and_topic_links_end_the_body():
    article = load("reuters-date-run-into-time.txt")
    texts = body_texts(article)
    assert texts[-1].startswith("Markets currently price in")
    assert not any(t.startswith(("Reporting by", "Our Standards", "Suggested Topics")) for t in texts)


def test_stock_quote_widget_lines_are_dropped_and_key_points_become_a_list():
    article = load("motley-fool-quote-widget.txt")
    assert (article.title, article.author, article.date) == (
        "Is PepsiCo Stock a Buy Now?", "Maria Alvarez", date(2025, 12, 3))
    assert [b.content.text for b in article.blocks if b.kind == "heading"] == [
        "Where the Business Stands", "Is the Stock a Buy?"]
    assert article.blocks[0].kind == "list" and [i.text for i in article.blocks[0].items] == [
        "PepsiCo's snack volumes fell for the third quarter in a row.",
        "The company has raised its dividend for 53 consecutive years.",
        "The stock trades below its five-year average valuation."]
    texts = body_texts(article)
    for debris in ("Key Points", "Key Data Points", "NASDAQ: PEP", "PepsiCo", "Market Cap", "Today's Change",
                   "Current Price", "52-Week Range", "Volume", "Dividend Yield"):
        assert not any(t.startswith(debris + ":") or t == debris for t in texts), debris
    assert warned(article, "dropped stock-quote widget lines")
    assert article.blocks[1].kind == "paragraph"  # a ticker in running text stays
    assert article.blocks[1].content.text.startswith("PepsiCo (NASDAQ: PEP) has had a rough 2025.")
    assert article.excerpt.startswith("PepsiCo (NASDAQ: PEP) has had a rough 2025.")
    assert [b.kind for b in article.blocks].count("paragraph") == 5


def test_a_quote_widget_copied_as_label_and_value_lines_is_dropped_but_a_lone_label_heading_stays():
    from newsletter.content import parse_text
    page = ("Why Coca-Cola Keeps Winning\n\nDec 3, 2025\n\n"
            "Coca-Cola sells more drinks every year, and the company keeps finding ways to charge more.\n\n"
            "(NYSE: KO)\nCoca-Cola\nToday's Change\n(-0.45%) -$0.31\nCurrent Price\n$68.40\n"
            "Price as of December 3, 2025, 4:00 p.m. ET\n\n"
            "Volume\n\nTrading volume in the shares doubled after the results, a sign big funds are buying.\n")
    article = parse_text(page, "ko.txt")
    assert [(b.kind, b.content.text[:22]) for b in article.blocks] == [
        ("paragraph", "Coca-Cola sells more d"), ("heading", "Volume"), ("paragraph", "Trading volume in the ")]
    assert warned(article, "stock-quote widget", "NYSE: KO")


def test_images_inside_running_text_keep_their_alt_text_in_place_and_follow_the_paragraph():
    article = load("inline-images.md")
    base = "https://blog.example.com/posts/weekly-chart/img/"
    shape = [(b.kind, b.content.text if b.content else (b.src.removeprefix(base), b.alt)) for b in article.blocks]
    assert shape == [
        ("paragraph", "The old chart tried to show everything at once. Readers told us they skipped it, "
                      "so we started again from a blank page."),
        ("paragraph", "We put the old chart and the new chart side by side and asked ten readers which one "
                      "they could read in five seconds."),
        ("image", ("old.png", "the old chart")),
        ("image", ("new.png", "the new chart")),
        ("image", ("phone.png", "The finished chart on a phone screen")),  # alone: an image block only
        ("paragraph", "Most picked the new one. A small sparkline next to each price did the most work, "
                      "the divider between rows went, and so did the colour key."),
        ("image", ("spark.png", "sparkline")),
        ("image", ("rule.png", "")),
    ]
    assert article.blocks[1].content.html.startswith("We put the old chart and the new chart side by side")
    assert article.warnings == []


def test_inline_image_alt_text_in_lists_headings_links_and_image_only_paragraphs():
    from newsletter.content import parse_text
    text = ("---\ntitle: Images Everywhere\nurl: https://example.org/post/\n---\n\n"
            "Body paragraph with ![one](a.png) and ![two](b.png) and text.\n\n"
            "![left](l.png) ![right](r.png)\n\n"
            "## Results ![badge](badge.svg)\n\n"
            "- a ![tick](t.png) item\n\n"
            "[![logo](logo.png)](https://example.org/home)\n\n"
            "Private-use \ue000marks\ue001 in the source are not alt text.\n")
    article = parse_text(text, "images.md")
    shape = [(b.kind, b.content.text if b.content else [i.text for i in b.items] or b.alt) for b in article.blocks]
    assert shape == [
        ("paragraph", "Body paragraph with one and two and text."), ("image", "one"), ("image", "two"),
        ("image", "left"), ("image", "right"),
        ("heading", "Results"), ("image", "badge"),
        ("list", ["a tick item"]), ("image", "tick"),
        ("paragraph", "https://example.org/home"), ("image", "logo"),
        ("paragraph", "Private-use marks in the source are not alt text."),
    ]
    assert article.blocks[0].content.html == "Body paragraph with one and two and text."
