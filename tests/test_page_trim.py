"""A web page cut down before the page extractor reads it: what is dropped, where it is cut."""
from __future__ import annotations

import lxml.html

from newsletter.page_trim import MAX_ATTRIBUTE, MAX_ELEMENTS, MAX_TEXT, trim_page

HEAD = ('<!doctype html><html><head><title>A page</title>'
        '<script type="application/ld+json">{"author": {"name": "Ann Lee"}}</script>'
        '<script>var tracking = 1;</script><style>p { color: red }</style></head><body>')


def texts(page: str) -> list[str]:
    return [p.text_content() for p in lxml.html.fromstring(page).iter("p")]


def test_code_styles_and_embedded_media_go_metadata_and_text_around_them_stay():
    page, cut = trim_page(HEAD + "<p>One <svg><text>icon</text></svg>two</p><video>no video</video>"
                          "<p>Three</p></body></html>")
    assert not cut
    assert "Ann Lee" in page  # JSON-LD: the extractor reads the author there
    assert "tracking" not in page and "color: red" not in page and "icon" not in page and "no video" not in page
    assert texts(page) == ["One two", "Three"]


def test_a_page_is_cut_after_its_first_elements_in_document_order():
    page, cut = trim_page(HEAD + "<div>" + "".join(f"<p>{n}</p>" for n in range(MAX_ELEMENTS + 2000))
                          + "</div><p>After the div</p></body></html>")
    kept = texts(page)
    assert cut and kept[0] == "0" and len(kept) > MAX_ELEMENTS - 10
    assert all(text == str(n) for n, text in enumerate(kept))  # the first ones, in order
    assert "After the div" not in page


def test_elements_in_dropped_code_do_not_count():
    page, cut = trim_page(HEAD + "<svg>" + "<g></g>" * (MAX_ELEMENTS * 2) + "</svg><p>Kept</p></body></html>")
    assert not cut and texts(page) == ["Kept"]


def test_text_past_the_article_limit_is_cut():
    page, cut = trim_page(HEAD + "<p>" + "word " * (MAX_TEXT // 4) + "</p><p>Gone</p></body></html>")
    assert cut and "Gone" not in page
    assert MAX_TEXT - 1000 < len(texts(page)[0]) <= MAX_TEXT


def test_values_too_long_to_be_a_link_or_a_title_are_dropped():
    long = "x" * (MAX_ATTRIBUTE + 1)
    page, cut = trim_page(f'<html><head><title>{long}</title><meta name="description" content="{long}">'
                          f'</head><body><p><a href="/{long}" title="Short">Link</a></p></body></html>')
    root = lxml.html.fromstring(page)
    assert not cut and long not in page
    assert root.find(".//a").attrib == {"title": "Short"} and root.find(".//a").text == "Link"


def test_text_that_is_not_html_is_left_as_it_is():
    assert trim_page(b"") == (b"", False)
