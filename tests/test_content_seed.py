"""The reference article (tests/samples/000_c1508f7e4351951f.txt) comes out exactly right."""
from __future__ import annotations

from datetime import date

import pytest

from newsletter.content import load_article

from helpers import SEED

HEADINGS = [
    "The Phone Call That Changed Everything",
    "Why Amnesty Was Never Realistic",
    "The Airspace Closure That Shocked the World",
    "Military Buildup in the Caribbean",
    "Who Was Named—And Why It Matters",
    "Echoes of Past Regime Change Operations",
    "What Happens If Maduro Refuses?",
    "The Human Cost Nobody’s Talking About",
    "Where We Go From Here",
]


@pytest.fixture(scope="module")
def seed():
    return load_article(SEED)


def _texts(article) -> list[str]:
    out = []
    for block in article.blocks:
        if block.content is not None:
            out += [block.content.text, block.content.html, block.cite]
        out += [i.text for i in block.items] + [i.html for i in block.items]
    return out


def test_title_date_read_time_slug(seed):
    assert seed.title == "Trump Rejects Maduro Amnesty in Tense Phone Call"
    assert seed.date == date(2025, 12, 3)
    assert seed.read_time == 5
    assert seed.slug == "000_c1508f7e4351951f"
    assert seed.format == "text"


def test_standfirst_is_the_excerpt_and_not_repeated_in_the_body(seed):
    assert seed.excerpt.startswith("President Trump just told Nicolás Maduro on the phone")
    assert seed.excerpt.endswith("What happens if he refuses?")
    first = seed.blocks[0]
    assert first.kind == "paragraph"
    assert first.content.text.startswith("Have you ever wondered")
    assert not any(seed.excerpt[:40] in t for t in _texts(seed))


def test_disclaimer_is_set_and_not_in_the_body(seed):
    assert seed.disclaimer == ("Financial market analysis from 03/12/2025. "
                               "Market conditions may have changed since publication.")
    assert not any("Financial market analysis" in t for t in _texts(seed))


def test_nine_headings_in_order(seed):
    assert [b.content.text for b in seed.blocks if b.kind == "heading"] == HEADINGS


def test_both_bullet_lists(seed):
    lists = [b for b in seed.blocks if b.kind == "list"]
    assert len(lists) == 2
    assert [len(b.items) for b in lists] == [4, 4]
    assert not any(b.ordered for b in lists)
    assert lists[0].items[0].text == "No more supply flights for the regime"
    assert lists[0].items[3].text == "A clear message: you’re boxed in"
    assert lists[1].items[0].text == "The interior minister with close ties to collective militias"
    assert not any("•" in i.text for b in lists for i in b.items)


def test_pull_quote_is_a_quote_block_without_curly_quotes(seed):
    quotes = [b for b in seed.blocks if b.kind == "quote" and not b.cite]
    assert len(quotes) == 1
    assert quotes[0].content.text == ("If he didn’t leave willingly, the United States would consider "
                                      "other options—including the use of force.")
    # it sits right after the paragraph that introduces it
    index = seed.blocks.index(quotes[0])
    assert seed.blocks[index - 1].content.text.startswith("Instead, the message was crystal clear")


def test_closing_quotation_is_the_article_quote(seed):
    assert seed.quote is not None
    assert seed.quote.text == "Money is not the only answer, but it makes a difference."
    assert seed.quote.by == "Barack Obama"
    paragraphs = [b.content.text for b in seed.blocks if b.kind == "paragraph"]
    assert not any("Money is not the only answer" in p for p in paragraphs)
    assert not any("Barack Obama" in p for p in paragraphs)
    last = seed.blocks[-1]
    assert (last.kind, last.cite) == ("quote", "Barack Obama")


def test_author_and_bio(seed):
    assert seed.author == "Steven Soarez"
    assert seed.author_bio.startswith("Steven Soarez passionately shares his financial expertise")
    assert seed.author_bio.endswith("sponsored article inquiries.")
    assert not any("passionately shares" in t for t in _texts(seed))


@pytest.mark.parametrize("debris", ["2 views", "Related Articles", "?>", "Author", "5 min read", "Dec 3, 2025"])
def test_no_page_debris_in_the_body(seed, debris):
    for text in _texts(seed):
        assert text.strip() != debris
        assert debris not in text or debris == "Author" and "Author" not in text.split()


def test_body_runs_from_first_paragraph_to_stay_tuned(seed):
    paragraphs = [b.content.text for b in seed.blocks if b.kind == "paragraph"]
    assert paragraphs[0].startswith("Have you ever wondered")
    assert paragraphs[-1] == "Stay tuned. This story is moving fast, and it’s not over yet."
    assert len(paragraphs) == 30


def test_the_seed_parses_cleanly(seed):
    assert seed.warnings == []
