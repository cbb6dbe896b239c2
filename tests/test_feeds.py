"""`feeds pull` against a real HTTP server on 127.0.0.1 serving feeds shaped like real sites'."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from newsletter import feeds
from newsletter.config import load_config
from newsletter.content import load_article, resolve
from newsletter.store import connect

from httpserver import Page, http_site

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "feeds"
NOW = datetime(2025, 10, 8, 6, 0, tzinfo=timezone.utc)
RSS = "application/rss+xml; charset=UTF-8"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def site():
    with http_site() as running:
        yield running


@pytest.fixture
def make(tmp_path):
    """make({"name": url, ...}, **fetch) -> (config, connection) with its own content folder."""
    opened = []

    def make(sources: dict[str, str], timeout: float = 10.0, max_bytes: int = 10_000_000):
        cfg = tmp_path / "config.toml"
        lines = ['[content]\ndir = "content"\n[database]\npath = "nl.db"\n',
                 f'[schedule]\ntimezone = "Europe/London"\n[fetch]\ntimeout = {timeout}\nmax_bytes = {max_bytes}\n']
        lines += [f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n' for name, url in sources.items()]
        cfg.write_text("".join(lines))
        config = load_config(cfg, environ={})
        conn = connect(config.database_path)
        opened.append(conn)
        return config, conn

    yield make
    for conn in opened:
        conn.close()


def pulled(results) -> dict[str, list[str] | str]:
    return {r.feed: r.error or r.slugs for r in results}


def test_wordpress_rss_with_full_content(site, make):
    site.routes["/feed/"] = Page(fixture("wordpress.xml"), headers={"Content-Type": RSS})
    config, conn = make({"garden": site.url("/feed/")})
    results = feeds.pull(conn, config, NOW)
    assert pulled(results) == {"garden": ["leek-moth-again", "dont-panic-tomatoes-the-first-frost"]}
    files = sorted(p.name for p in config.content_dir.iterdir())
    assert files == ["2025-09-30-leek-moth-again.md", "2025-10-07-dont-panic-tomatoes-the-first-frost.md"]

    article = resolve("dont-panic-tomatoes-the-first-frost", config.content_dir)
    assert article.title == "Don’t panic: tomatoes & the first frost"  # entities decoded
    assert (article.author, article.date.isoformat()) == ("Maya Lindqvist", "2025-10-07")
    assert article.url == "https://fieldnotes.example/2025/10/07/tomatoes-first-frost/"
    assert article.excerpt.startswith("The forecast says frost by Thursday.")
    assert "Continue reading" not in article.excerpt and "…" not in article.excerpt
    assert article.tags == ("Vegetables", "Autumn")
    # the full content (content:encoded), relative links made absolute against the item's link
    kinds = [b.kind for b in article.blocks]
    assert kinds[:3] == ["paragraph", "image", "paragraph"] and "heading" in kinds and "list" in kinds
    html = " ".join(b.content.html for b in article.blocks if b.content)
    assert 'href="https://fieldnotes.example/2024/09/ripening-indoors/"' in html
    assert 'href="https://fieldnotes.example/tools/"' in html
    assert "tracking" not in html and "document.write" not in (config.content_dir / files[1]).read_text()
    images = [b.src for b in article.blocks if b.kind == "image"]
    assert images == ["https://fieldnotes.example/wp-content/uploads/2025/10/green-tomatoes.jpg"]
    assert article.image == images[0]  # the first picture of the content stands for the item
    assert article.quote and article.quote.text.startswith("Frost doesn’t kill a plant")
    assert not article.warnings

    moth = resolve("leek-moth-again", config.content_dir)
    assert moth.excerpt == "The mesh went on too late this year."  # "The post … appeared first on" dropped


def test_conditional_get_and_items_pulled_once_even_when_changed(site, make):
    body = {"feed": fixture("wordpress.xml")}

    def conditional(handler):
        if handler.headers.get("If-None-Match") == '"v1"' and body["feed"] == fixture("wordpress.xml"):
            handler.send_response(304)
            handler.send_header("ETag", '"v1"')
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", RSS)
        handler.send_header("ETag", '"v1"' if body["feed"] == fixture("wordpress.xml") else '"v2"')
        handler.send_header("Last-Modified", "Tue, 07 Oct 2025 09:12:44 GMT")
        handler.send_header("Content-Length", str(len(body["feed"])))
        handler.end_headers()
        handler.wfile.write(body["feed"])

    site.routes["/feed/"] = conditional
    config, conn = make({"garden": site.url("/feed/")})
    assert len(feeds.pull(conn, config, NOW)[0].slugs) == 2
    second = feeds.pull(conn, config, NOW)[0]
    assert second.not_modified and second.slugs == []
    assert site.requests[-1][1].get("If-None-Match") == '"v1"'
    assert site.requests[-1][1].get("If-Modified-Since") == "Tue, 07 Oct 2025 09:12:44 GMT"

    # the publisher edits an item (same guid) and adds a new one: only the new one comes in
    changed = fixture("wordpress.xml").replace(b"Leek moth, again", b"Leek moth, again (updated)")
    new_item = (b"<item><title>Garlic goes in</title><link>https://fieldnotes.example/2025/10/08/garlic/</link>"
                b"<guid isPermaLink=\"false\">https://fieldnotes.example/?p=4230</guid>"
                b"<pubDate>Wed, 08 Oct 2025 05:00:00 +0000</pubDate>"
                b"<description>Cloves in by the end of the month.</description></item>")
    body["feed"] = changed.replace(b"\t<item>", new_item + b"\n\t<item>", 1)
    third = feeds.pull(conn, config, NOW)[0]
    assert (third.error, third.slugs) == ("", ["garlic-goes-in"])
    assert sorted(p.name for p in config.content_dir.iterdir())[-1] == "2025-10-08-garlic-goes-in.md"
    assert feeds.pull(conn, config, NOW)[0].slugs == []
    assert load_article(next(config.content_dir.glob("*leek*"))).title == "Leek moth, again"


def test_atom_with_xml_base_and_relative_links(site, make):
    site.routes["/blog/feed.atom"] = Page(fixture("atom.xml"), headers={"Content-Type": "application/atom+xml"})
    config, conn = make({"devlog": site.url("/blog/feed.atom")})
    assert pulled(feeds.pull(conn, config, NOW)) == {"devlog": ["release-2-4", "faster-builds-with-incremental"]}
    builds = resolve("faster-builds-with-incremental", config.content_dir)
    assert builds.title == "Faster builds with --incremental"
    assert builds.url == "https://devlog.example/blog/2025/10/03/faster-builds/"  # relative to xml:base
    assert builds.date.isoformat() == "2025-10-03" and builds.author == "Priya Raman"
    assert builds.excerpt == "Build times fell from 94 s to 11 s. Here’s how."
    assert builds.image == "https://devlog.example/blog/2025/10/03/faster-builds/chart.png"
    html = " ".join(b.content.html for b in builds.blocks if b.content)
    assert 'href="https://devlog.example/blog/docs/cache/"' in html
    assert builds.blocks[0].content.text.startswith("Build times fell from 94 s to 11 s")  # &nbsp; decoded
    release = resolve("release-2-4", config.content_dir)
    assert release.excerpt == "Two new output formats and a quieter log." and release.author == "Sam Okoro"
    assert [b.content.text for b in release.blocks] == ["Two new output formats and a quieter log."]


def test_summaries_only_rss_and_older_formats(site, make, tmp_path):
    site.routes["/local.xml"] = Page(fixture("summaries.xml"), headers={"Content-Type": "text/xml"})
    site.routes["/rss1"] = Page(fixture("rss1.rdf"), headers={"Content-Type": "application/rdf+xml"})
    config, conn = make({"news": site.url("/local.xml"), "journal": site.url("/rss1"),
                         "old": str(FIXTURES / "rss091.xml")})  # a local file works too
    results = pulled(feeds.pull(conn, config, NOW))
    assert results == {
        "news": ["library-opens-late-on-thursdays", "bridge-closure-detours-what-you-need-to-know"],
        "journal": ["on-the-counting-of-pebbles"],
        "old": ["cafe-reopens"],
    }
    bridge = resolve("bridge-closure-detours-what-you-need-to-know", config.content_dir)
    assert bridge.title == "Bridge closure & detours: what you need to know"
    assert bridge.image == "https://img.news.example/240/bridge.jpg"  # media:thumbnail
    assert bridge.excerpt.startswith("The river crossing shuts for 3 weeks")
    library = resolve("library-opens-late-on-thursdays", config.content_dir)
    assert library.excerpt == "Opening hours extended to 21:00 — a trial until December."
    cafe = resolve("cafe-reopens", config.content_dir)
    assert cafe.title == "Café reopens" and cafe.url == "http://oldschool.example/cafe.html"
    assert cafe.date.isoformat() == "2025-10-08"  # no date in the feed: the day it was pulled
    assert resolve("on-the-counting-of-pebbles", config.content_dir).author == "R. Feld"


def test_broken_xml_that_feedparser_still_reads(site, make):
    site.routes["/feed"] = Page(fixture("broken.xml"), headers={"Content-Type": "application/xml"})
    config, conn = make({"handmade": site.url("/feed")})
    assert pulled(feeds.pull(conn, config, NOW)) == {"handmade": ["quiz-results", "fish-chips-night"]}
    fish = resolve("fish-chips-night", config.content_dir)
    assert fish.title == "Fish & chips night" and fish.excerpt.startswith("Friday, 7pm. Bring a friend & an appetite")


def stream_50_mb(sent: dict):
    """A handler streaming a 50 MB feed in chunks (never held whole), counting what got out."""
    def handler(h):
        h.send_response(200)
        h.send_header("Content-Type", RSS)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        head = b'<?xml version="1.0"?><rss version="2.0"><channel>'
        chunk = b"<!-- " + b"x" * 65_000 + b" -->\n"
        sent["bytes"] = 0
        try:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(head), head))
            while sent["bytes"] < 50_000_000:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent["bytes"] += len(chunk)
            h.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        sent["done"] = True
    return handler


def redirect(to: str):
    def handler(h):
        h.send_response(302)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()
    return handler


def test_failing_feeds_are_reported_one_line_each_and_do_not_stop_the_others(site, make):
    sent: dict = {}
    site.routes["/huge"] = stream_50_mb(sent)
    site.routes["/loop-a"] = redirect("/loop-b")
    site.routes["/loop-b"] = redirect(site.url("/loop-a"))
    site.routes["/broken"] = Page(b"<h1>Internal Server Error</h1>", 500)
    site.routes["/page"] = Page(b"<!doctype html><html><body><p>Just a page</p></body></html>",
                                headers={"Content-Type": "text/html"})
    site.routes["/moved"] = redirect("/feed/")
    site.routes["/feed/"] = Page(fixture("wordpress.xml"), headers={"Content-Type": RSS})
    config, conn = make({
        "huge": site.url("/huge"), "loop": site.url("/loop-a"), "broken": site.url("/broken"),
        "page": site.url("/page"), "gone": site.url("/nowhere"), "file": "/no/such/feed.xml",
        "good": site.url("/moved"),
    }, max_bytes=5_000_000)
    results = pulled(feeds.pull(conn, config, NOW))
    assert results["good"] == ["leek-moth-again", "dont-panic-tomatoes-the-first-frost"]
    assert "over the 5 MB limit" in results["huge"]
    assert sent["bytes"] < 25_000_000  # the reader hung up early: the 50 MB were never all read
    assert "redirect loop" in results["loop"] and "/loop-a -> " in results["loop"]
    assert results["broken"] == f"{site.url('/broken')}: HTTP 500 Internal Server Error"
    assert results["gone"] == f"{site.url('/nowhere')}: HTTP 404 Not Found"
    assert "not an RSS or Atom feed" in results["page"]
    assert results["file"] == "/no/such/feed.xml: no such file"
    assert all("\n" not in value for value in results.values() if isinstance(value, str))


def test_a_declared_size_over_the_cap_is_refused_before_reading(site, make):
    site.routes["/big"] = Page(b"x" * 20_000, headers={"Content-Type": RSS})
    config, conn = make({"big": site.url("/big")}, max_bytes=10_000)
    assert pulled(feeds.pull(conn, config, NOW)) == {
        "big": f"{site.url('/big')}: response of 20 kB is over the 10 kB limit"}


def test_a_server_that_stops_talking_times_out(site, make):
    import threading

    release = threading.Event()

    def stall(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b"<rss>")
        h.wfile.flush()
        release.wait(30)

    site.routes["/slow"] = stall
    config, conn = make({"slow": site.url("/slow")}, timeout=1.0)
    try:
        assert pulled(feeds.pull(conn, config, NOW)) == {"slow": f"{site.url('/slow')}: no answer within 1 s"}
    finally:
        release.set()


def test_cli_prints_new_slugs_and_one_error_line_per_failing_feed(site, tmp_path):
    site.routes["/feed/"] = Page(fixture("wordpress.xml"), headers={"Content-Type": RSS})
    cfg = tmp_path / "config.toml"
    cfg.write_text('[content]\ndir = "content"\n[database]\npath = "nl.db"\n'
                   f'[[feeds]]\nname = "garden"\nurl = "{site.url("/feed/")}"\n'
                   f'[[feeds]]\nname = "down"\nurl = "{site.url("/down")}"\n')
    env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg), "NEWSLETTER_NOW": NOW.isoformat()}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    first = run("feeds", "pull")
    assert first.returncode == 1
    assert first.stdout == "leek-moth-again\ndont-panic-tomatoes-the-first-frost\n"
    assert first.stderr == f"error: feed 'down': {site.url('/down')}: HTTP 404 Not Found\n"
    site.routes["/down"] = Page(fixture("rss1.rdf"))
    again = run("feeds", "pull")
    assert (again.returncode, again.stdout, again.stderr) == (0, "on-the-counting-of-pebbles\n", "")
    listed = run("articles")
    assert listed.returncode == 0 and "dont-panic-tomatoes-the-first-frost  2025-10-07" in listed.stdout
    assert "warning" not in listed.stdout


def test_an_odd_declared_size_is_read_as_no_size(site, make):
    """Content-Length: ² is digits to str.isdigit() and not a number to int(): read the body
    under the cap as for a response that declares nothing (issue 10.14's class)."""
    def odd(h):
        body = fixture("wordpress.xml")
        h.send_response(200)
        h.send_header("Content-Type", RSS)
        h.send_header("Content-Length", "²")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body)

    site.routes["/odd"] = odd
    config, conn = make({"odd": site.url("/odd")})
    assert isinstance(pulled(feeds.pull(conn, config, NOW))["odd"], list)
