"""The editor's subscriber list: every page (by number, from either end, or by the pager's
next/previous links) holds the subscribers counting rows in id order gives; a search finds the
addresses starting with the text, in any case, and only them; on both databases."""
from __future__ import annotations

import re

import pytest

from newsletter import store, subscriber_import, subscriber_pages, subscribers
from newsletter.subscriber_pages import Search, prefix_range

from helpers import editor_client

SIZE = 3


@pytest.fixture
def listed(config):
    """A database with penguins and puffins (gaps in the ids: two erased), some unsubscribed."""
    conn = store.connect(config)
    birds = [("Penguin" if n % 3 else "puffin", n) for n in range(60)]
    rows = [(f"{kind}.{n:02}@Example.org", f"{kind.lower()}.{n:02}@example.org", f"Bird {n}") for kind, n in birds]
    subscriber_import.import_rows(conn, [(email, key.lower(), name) for email, key, name in rows])
    for n in (4, 31):
        subscribers.erase(conn, subscribers.find(conn, f"penguin.{n:02}@example.org").id)
    for n in range(0, 60, 7):
        subscribers.unsubscribe(conn, conn.execute("SELECT id FROM subscribers ORDER BY id LIMIT 1 OFFSET ?",
                                                   (n // 2,)).fetchone()[0])
    return conn


def expected(conn, where: str = "1 = 1", args: tuple = ()) -> list[int]:
    return [row[0] for row in conn.execute(f"SELECT id FROM subscribers WHERE {where} ORDER BY id", args)]


def ids(rows) -> list[int]:
    return [row.id for row in rows]


@pytest.mark.parametrize("search, where, args", [
    (Search(), "1 = 1", ()),
    (Search(status="unsubscribed"), "status = ?", ("unsubscribed",)),
    (Search("PENGUIN.1"), "email_key LIKE ?", ("penguin.1%",)),
    (Search("pu", "active"), "email_key LIKE ? AND status = ?", ("pu%", "active")),
])
def test_every_page_by_number_and_by_link_is_the_same(listed, search, where, args):
    conn = listed
    everyone = expected(conn, where, args)
    total = subscriber_pages.matches(conn, search)
    assert total == len(everyone) > SIZE
    pages = -(-total // SIZE)
    by_number = [ids(subscriber_pages.page(conn, search, n, total, size=SIZE)) for n in range(1, pages + 1)]
    assert by_number == [everyone[i:i + SIZE] for i in range(0, total, SIZE)]
    forward = [by_number[0]]
    while len(forward) < pages:  # "Next" continues after the last one shown
        forward.append(ids(subscriber_pages.page(conn, search, len(forward) + 1, total, after=forward[-1][-1],
                                                 size=SIZE)))
    assert forward == by_number
    backward = [by_number[-1]]
    while len(backward) < pages:  # "Previous" ends before the first one shown
        backward.insert(0, ids(subscriber_pages.page(conn, search, pages - len(backward), total,
                                                     before=backward[0][0], size=SIZE)))
    assert backward == by_number


def test_search_matches_the_start_of_the_address_only(listed):
    conn = listed
    assert subscriber_pages.matches(conn, Search("puffin.03@EXAMPLE.ORG")) == 1
    assert subscriber_pages.matches(conn, Search("example.org")) == 0  # not inside the address
    assert subscriber_pages.matches(conn, Search("Bird")) == 0  # nor the name
    assert subscriber_pages.matches(conn, Search("%")) == subscriber_pages.matches(conn, Search("_")) == 0
    assert subscriber_pages.matches(conn, Search("penguin.0")) == 5  # 01, 02, 05, 07, 08 (04 erased)
    subscriber_import.import_rows(conn, [("zoë.ünal@bücher.example", "zoë.ünal@bücher.example", "")])
    assert subscriber_pages.matches(conn, Search("ZOË.Ü")) == 1  # compared by code point on either database


def test_prefix_range_bounds_exactly_the_strings_starting_with_it():
    assert prefix_range("ab") == ("ab", "ac")
    assert prefix_range("a\U0010ffff") == ("a\U0010ffff", "b")
    assert prefix_range("\U0010ffff") == ("\U0010ffff", "")
    assert prefix_range("a\ud7ff") == ("a\ud7ff", "a\ue000")


def test_the_last_page_and_the_pager_links(app, config, listed):
    client = editor_client(app, config)
    total = subscribers.count(listed)
    pages = -(-total // subscriber_pages.PAGE_SIZE)
    assert pages == 2
    first = client.get("/subscribers").get_data(as_text=True)
    assert f"page 1 of {pages}" in first and 'rel="last"' in first
    following = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "after=" in following
    by_link = client.get(following).get_data(as_text=True)
    last = client.get(f"/subscribers?page={pages}").get_data(as_text=True)
    tail = expected(listed)[subscriber_pages.PAGE_SIZE:]
    for page in (by_link, last):
        assert f"page {pages} of {pages}" in page
        shown = re.findall(r'<td data-label="Address">([^<]+)</td>', page)
        assert shown == [subscribers.get(listed, n).email for n in tail]
    previous = re.search(r'rel="prev" href="([^"]+)"', last).group(1).replace("&amp;", "&")
    assert "before=" in previous and "page 1 of 2" in client.get(previous).get_data(as_text=True)
    assert client.get(f"/subscribers?page={pages + 1}").status_code == 404
    assert client.get("/subscribers?page=2&after=x").status_code == 400
