"""`articles import`: web pages and saved .html files as articles; safe, never-overwriting files."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from newsletter import article_file
from newsletter.article_file import NewArticle, slugify
from newsletter.content import load_article, resolve
from newsletter.errors import InputError
from newsletter.extract import extract_page

from httpserver import Page, http_site

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "fixtures" / "feeds" / "article.html"
NOW = datetime(2025, 10, 8, 6, 0, tzinfo=timezone.utc)


def test_extract_page_finds_the_story_and_its_metadata():
    article = extract_page(PAGE.read_bytes(), "https://riverside-post.example/transport/night-buses-return?utm_source=x")
    assert article.title == "How the night buses came back"
    assert (article.author, article.date) == ("Tomasz Wróbel", date(2025, 10, 2))
    assert article.url == "https://riverside-post.example/transport/night-buses-return"  # canonical
    assert article.image == "https://riverside-post.example/media/2025/10/night-bus-1200.jpg"  # og:image, made absolute
    assert article.excerpt.startswith("After four years without them, the city's night buses return")
    text = article_file.html_to_text(article.body_html)
    assert text.startswith("At ten past two on a Tuesday morning")
    assert "Three routes, every thirty minutes" in text and "route map" in text
    for debris in ("cookies", "Subscribe", "Related articles", "About time", "All rights reserved", "Transport At"):
        assert debris not in text


def test_extract_page_without_article_text_is_an_input_error():
    with pytest.raises(InputError, match="no article text"):
        extract_page("<html><body><nav><a href='/'>Home</a></nav></body></html>", "https://x.example/")
    with pytest.raises(InputError, match="empty"):
        extract_page(b"  ", "")


@pytest.fixture
def run(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[content]\ndir = "content"\n[database]\npath = "nl.db"\n[fetch]\nmax_bytes = 200000\n')
    env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg), "NEWSLETTER_NOW": NOW.isoformat()}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    return run


def test_import_a_url_and_a_saved_file(run, tmp_path):
    with http_site() as site:
        site.routes["/transport/night-buses-return"] = Page(PAGE.read_bytes(),
                                                            headers={"Content-Type": "text/html; charset=utf-8"})
        site.routes["/huge"] = Page(b"<p>" + b"x" * 300_000 + b"</p>", headers={"Content-Type": "text/html"})
        first = run("articles", "import", site.url("/transport/night-buses-return"))
        assert (first.returncode, first.stdout, first.stderr) == (0, "how-the-night-buses-came-back\n", "")
        too_big = run("articles", "import", site.url("/huge"))
        assert too_big.returncode == 2 and "over the 200 kB limit" in too_big.stderr
        missing = run("articles", "import", site.url("/nothing-here"))
        assert missing.returncode == 2
        assert missing.stderr == f"error: {site.url('/nothing-here')}: HTTP 404 Not Found\n"
    saved = run("articles", "import", str(PAGE))
    assert (saved.returncode, saved.stdout) == (0, "how-the-night-buses-came-back-2\n")  # never overwrites
    content = tmp_path / "content"
    assert sorted(p.name for p in content.iterdir()) == [
        "2025-10-02-how-the-night-buses-came-back-2.md", "2025-10-02-how-the-night-buses-came-back.md"]
    article = resolve("how-the-night-buses-came-back", content)
    assert article.title == "How the night buses came back" and not article.warnings
    assert article.blocks[0].kind == "image" and article.blocks[0].src.startswith("https://riverside-post.example/")
    assert [b.kind for b in article.blocks].count("heading") == 1  # the headline is the title, not a heading
    assert article.quote and "walking home for four years" in article.quote.text

    not_html = run("articles", "import", str(ROOT / "README.md"))
    assert not_html.returncode == 2 and "not an .html file or an http(s) URL" in not_html.stderr
    listed = run("articles", "--help")
    assert "import" in listed.stdout and listed.returncode == 0


@pytest.mark.parametrize("title, slug", [
    ("../../etc/passwd", "etc-passwd"),
    (".hidden file", "hidden-file"),
    ("C:\\Windows\\system32", "c-windows-system32"),
    ("Ça va? Très bien — merci!", "ca-va-tres-bien-merci"),
    ("日本語のタイトル", "article"),
    ("a" * 80, "a" * 60),
    ("word " * 30, "-".join(["word"] * 12)),
])
def test_slugs_are_safe_file_names(title, slug):
    assert slugify(title) == slug


def test_write_never_overwrites_and_keeps_slugs_unique(tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "2025-01-01-hello.md").write_text("---\ntitle: Mine\n---\nkeep me\n")
    (folder / "hello-2.txt").write_text("Another\n\nText.\n")
    made = article_file.write(folder, NewArticle("Hello", date(2025, 1, 1), body_html="<p>New</p>"), date(2025, 2, 1))
    assert made.name == "2025-01-01-hello-3.md"
    assert (folder / "2025-01-01-hello.md").read_text() == "---\ntitle: Mine\n---\nkeep me\n"
    undated = article_file.write(folder, NewArticle("../x"), date(2025, 2, 1))
    assert undated.parent == folder and undated.name == "2025-02-01-x.md"
    assert load_article(undated).title == "../x"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_body_html_is_one_block_the_reader_keeps_whole():
    html = ("<p>One</p>\n\n\n<pre>a\n\n    b</pre>\n\n<!-- note --><p onclick='x()' class='c'>"
            "<a href='/rel'>Two</a> <img src='data:image/png;base64,AAAA' alt='d'></p>")
    block = article_file.html_block(html, "https://site.example/post/")
    assert "\n\n" not in block and "onclick" not in block and "class" not in block and "note" not in block
    assert 'href="https://site.example/rel"' in block and "data:" not in block
