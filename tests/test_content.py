"""Loading articles: errors, front matter, folders and slugs, excerpt and quote rules, safety."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.content import (
    MAX_BYTES,
    ContentError,
    cut_excerpt,
    load_article,
    load_articles,
    load_articles_report,
    parse_text,
    resolve,
)
from newsletter.errors import InputError

from helpers import CONTENT, SEED

MD = "---\ntitle: Hello There\ndate: 2025-01-02\nauthor: Ann Example\n---\n\n"


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --- files that cannot be articles ------------------------------------------------------------

@pytest.mark.parametrize("name, data, expected", [
    ("empty.md", b"", "empty file"),
    ("blank.txt", b"  \n\n\t\n", "empty file"),
    ("binary.txt", b"GIF89a\x00\x01\x02title\n", "binary"),
    ("latin.txt", b"Title\n\n\x81\x8d\x8f\x90\x9d broken bytes\n", "not UTF-8"),
    ("debris.txt", b"Related Articles\n?>\n", "no title"),
])
def test_unreadable_files_give_one_line_errors_naming_the_file(tmp_path, name, data, expected):
    path = write(tmp_path, name, data)
    with pytest.raises(ContentError) as info:
        load_article(path)
    message = str(info.value)
    assert message.startswith(str(path) + ":") and expected in message and "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(ContentError, match=r"nope\.md: no such file"):
        load_article(tmp_path / "nope.md")


def test_size_limit(tmp_path):
    path = write(tmp_path, "huge.txt", "Big Title\n\n" + "word " * (MAX_BYTES // 5 + 10))
    with pytest.raises(ContentError, match="over the 1 MB article size limit"):
        load_article(path)


def test_utf8_bom_is_fine(tmp_path):
    article = load_article(write(tmp_path, "bom.md", "\ufeff" + MD + "Body text."))
    assert article.title == "Hello There" and not article.warnings


# --- front matter -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, line, words", [
    ("---\ntitle: Ok\ndate: [2025\nauthor: x\n---\nbody\n", 4, "YAML"),
    ("---\ntitle: Ok\n  bad: indent: here\n---\nbody\n", 3, "YAML"),
    ("+++\ntitle = \"Ok\"\nauthor = \n+++\nbody\n", 3, "TOML"),
    ("+++\ntitle = \"Ok\"\n\n\ndate = 2025-13-45\n+++\nbody\n", 5, "TOML"),
    ("---\ntitle: Ok\n\tdate: 2025\n---\nbody\n", 3, "YAML"),
    ("+++\ntitle = \"never closed\"\nbody\n", 1, "never closed"),
    ("\n---\ntitle: Ok\ntags: [a\n---\nbody\n", 4, "YAML"),
])
def test_front_matter_errors_name_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, "x.md", text)
    with pytest.raises(ContentError) as info:
        load_article(path)
    assert str(info.value).startswith(f"{path}:{line}: front matter: ")
    assert words in str(info.value) and "\n" not in str(info.value)


def test_yaml_front_matter_fields_and_synonyms():
    article = parse_text(
        "---\ntitle: Ship It\ndate: 2024-05-06T10:00:00+09:00\nauthor:\n  name: Mia Wong\n  bio: Writes.\n"
        "description: The short version.\ntags: a, b, a\nquote: “Done is better.”\nquote_by: — Somebody\n"
        "url: https://example.com/p/ship-it\nimage: /img/cover.png\nimage_alt: A cover\n"
        "disclaimer: Not advice.\nread_time: 7 min\n---\n\nBody paragraph, see [about](/about).\n\n"
        "# Big\n\n###### Small\n",
        "2020-01-01-ship-it.md")
    assert (article.slug, article.title, article.date) == ("ship-it", "Ship It", date(2024, 5, 6))
    assert (article.author, article.author_bio) == ("Mia Wong", "Writes.")
    assert article.excerpt == "The short version."
    assert article.tags == ("a", "b")
    assert (article.quote.text, article.quote.by) == ("Done is better.", "Somebody")
    assert article.image == "https://example.com/img/cover.png" and article.image_alt == "A cover"
    assert (article.disclaimer, article.read_time) == ("Not advice.", 7)
    assert article.warnings == []
    assert article.blocks[0].content.html == 'Body paragraph, see <a href="https://example.com/about">about</a>.'
    assert article.blocks[0].content.text == "Body paragraph, see about (https://example.com/about)."
    assert [(b.kind, b.level) for b in article.blocks[1:]] == [("heading", 2), ("heading", 4)]


def test_missing_date_falls_back_to_the_file_name_prefix():
    article = parse_text("---\ntitle: T\nauthor: A B\n---\nBody.\n", "2023-07-08-x.md")
    assert article.date == date(2023, 7, 8) and not article.warnings


def test_bad_front_matter_values_are_warnings_not_errors():
    article = parse_text("---\ntitle: T\ndate: someday\nurl: /relative\ntags: 5\nimage: data:x\n---\nBody.\n",
                         "x.md")
    assert article.date is None and article.url == "" and article.image == ""
    text = " ".join(article.warnings)
    assert "someday" in text and "/relative" in text and "tags" in text and "data:x" in text


# --- folders, slugs, resolve ------------------------------------------------------------------

def test_sample_content_loads_cleanly_newest_first():
    articles, errors = load_articles_report(CONTENT)
    assert errors == []
    assert len(articles) >= 3
    assert {a.format for a in articles} == {"text", "markdown"}
    dates = [a.date for a in articles]
    assert all(dates) and dates == sorted(dates, reverse=True)
    for article in articles:
        assert article.title and article.excerpt and article.author and article.author_bio
        assert article.quote is not None and article.warnings == [], article.slug


def test_a_bad_file_is_reported_but_not_fatal(tmp_path):
    shutil.copy(SEED, tmp_path / "2025-12-03-seed.txt")
    write(tmp_path, "broken.md", "---\ntitle: [oops\n---\nx")
    write(tmp_path, "empty.txt", "")
    write(tmp_path, "seed.md", MD + "Same slug as the seed.")
    write(tmp_path, "picture.png", b"\x89PNG\x00")
    write(tmp_path, ".hidden.md", MD)
    articles, errors = load_articles_report(tmp_path)
    assert [a.slug for a in articles] == ["seed"]
    assert len(errors) == 3
    assert any("broken.md:2: front matter" in e for e in errors)
    assert any("empty.txt: empty file" in e for e in errors)
    assert any("seed.md: slug 'seed' is already used" in e for e in errors)
    assert load_articles(tmp_path) == articles


def test_missing_content_folder_is_an_error_line(tmp_path):
    assert load_articles_report(tmp_path / "nope") == ([], [f"{tmp_path / 'nope'}: no such content folder"])


def test_resolve_by_slug_or_path(tmp_path):
    shutil.copy(SEED, tmp_path / "2025-12-03-Maduro-Call.txt")
    assert resolve("maduro-call", tmp_path).title.startswith("Trump Rejects")
    assert resolve("Maduro-Call", tmp_path).slug == "maduro-call"
    assert resolve(str(SEED), tmp_path).title.startswith("Trump Rejects")
    assert resolve("2025-12-03-Maduro-Call.txt", tmp_path).slug == "maduro-call"
    with pytest.raises(InputError, match="no article 'nothing'"):
        resolve("nothing", tmp_path)


def test_resolve_refuses_path_traversal(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    write(tmp_path, "secret.md", MD + "Secret.")
    for attempt in ("../secret", "..%2Fsecret", "../secret.md", "/etc/passwd", ".."):
        with pytest.raises((InputError, ContentError)):
            resolve(attempt, content, allow_paths=False)


# --- excerpt and quote rules ------------------------------------------------------------------

def test_excerpt_is_cut_at_a_sentence_end():
    first = "A first sentence that is fairly long and goes on for a while, as openings do. "
    text = first * 5
    excerpt, cut = cut_excerpt([text])
    assert not cut and excerpt.endswith("as openings do.") and len(excerpt) <= 300
    assert excerpt.count("A first sentence") == 3


def test_excerpt_cut_mid_sentence_never_mid_word_and_warns():
    long = "word " * 100
    excerpt, cut = cut_excerpt([long.strip() + "."])
    assert cut and excerpt.endswith("word…") and len(excerpt) <= 300
    article = parse_text("---\ntitle: T\n---\n" + long + "\n", "t.md")
    assert article.excerpt.endswith("word…")
    assert any("mid-sentence" in w for w in article.warnings)


def test_excerpt_does_not_split_after_abbreviations():
    excerpt, _ = cut_excerpt(["The U.S. team met Mr. Smith on Monday. " + "Then more happened here. " * 20])
    assert excerpt.startswith("The U.S. team met Mr. Smith on Monday. Then")


def test_quote_rule_front_matter_then_closing_then_pull_quote():
    body = "Intro paragraph.\n\n> A pull quote that is long enough to be chosen.\n\nMore.\n\n" \
           "Closing words matter.\n— Ada Lovelace\n"
    closing = parse_text("---\ntitle: T\n---\n" + body, "t.md")
    assert (closing.quote.text, closing.quote.by) == ("Closing words matter.", "Ada Lovelace")
    fm = parse_text("---\ntitle: T\nquote: Front wins.\nquote_by: Me\n---\n" + body, "t.md")
    assert (fm.quote.text, fm.quote.by) == ("Front wins.", "Me")
    pull = parse_text("---\ntitle: T\n---\n" + body.split("Closing")[0], "t.md")
    assert pull.quote.text == "A pull quote that is long enough to be chosen." and pull.quote.by == ""
    none = parse_text("---\ntitle: T\n---\nJust text.\n", "t.md")
    assert none.quote is None


# --- safety: article text is inert ------------------------------------------------------------

NASTY = 'Hi <script>alert(1)</script> "><img src=x onerror=alert(1)> {{ 7*7 }} {% if x %}'


def test_text_article_keeps_markup_as_plain_text_and_escapes_it():
    article = parse_text(f"Safe Title\nBy: Ann Example\nDec 3, 2025\n\n{NASTY}\n\nMore text here.\n", "s.txt")
    para = article.blocks[0].content
    assert para.text == NASTY
    assert "<script" not in para.html and "<img" not in para.html
    assert "&lt;script&gt;" in para.html and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in para.html
    assert "{{ 7*7 }}" in para.html  # shown as is: nothing evaluates article text
    assert any("template code" in w.lower() for w in article.warnings)


def test_markdown_article_sanitizes_raw_html_and_escapes_the_rest():
    article = parse_text(
        f"---\ntitle: T\n---\n{NASTY}\n\n<div onmouseover=\"x()\"><a href=\" javascript:alert(1)\">x</a>"
        "<style>body{{}}</style><form><input></form><object data=x></object><embed src=x></div>\n\n"
        "[rel](/a) and <a href=\"mailto:me@example.com\">mail</a>\n", "t.md")
    htmls = " ".join(b.content.html for b in article.blocks if b.content)
    texts = " ".join(b.content.text for b in article.blocks if b.content)
    for bad in ("<script", "<img", "onerror", "onmouseover", "javascript", "<style", "<form", "<input",
                "<object", "<embed", "alert(1)</"):
        assert bad not in htmls
    assert "{{ 7*7 }}" in texts and "alert(1)" not in texts.replace("onerror=alert(1)", "")
    assert '<a href="mailto:me@example.com">mail</a>' in htmls
    assert "rel" in texts and 'href="/a"' not in htmls


def test_title_and_metadata_stay_plain_text():
    article = parse_text('---\ntitle: "<b>Bold</b> & {{ x }}"\nauthor: "<script>x</script>"\n---\nBody.\n',
                         "t.md")
    assert article.title == "<b>Bold</b> & {{ x }}"
    assert article.author == "<script>x</script>"


# --- never crash ------------------------------------------------------------------------------

LINES = st.sampled_from([
    "---", "+++", "Title Line", "By: Jane Doe", "4 min readJun 28, 2023", "• item", "- item",
    "“Quote", "“Closed quote.”", "— Name", "Author", "Related Articles", "?>", "<?php", "{{ x }}",
    "<h2>Head</h2>", "<script>", "# Heading", "> quote", "title: x", "title = 'x'", "date: 2025-13-01",
    "03/12/2025", "", "   ", "A plain sentence of prose that goes on.", "[a](javascript:x)",
    "![i](x.png)", "<div><div><div>", "```", "1. one", "\u2028", "\x00", "ﬁ ß İ",
])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=400), st.lists(LINES, max_size=30).map("\n".join)),
       st.sampled_from(["a.txt", "b.md", "2025-01-02-c.md", "some-name.text"]))
def test_any_text_gives_an_article_or_a_content_error(text, name):
    try:
        article = parse_text(text, name)
    except ContentError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(name)
        return
    assert article.title.strip()
    assert all(isinstance(w, str) and w for w in article.warnings)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_any_bytes_give_an_article_or_a_content_error(tmp_path, data):
    path = tmp_path / "fuzz-file.md"
    path.write_bytes(data)
    try:
        load_article(path)
    except ContentError as exc:
        assert str(exc).startswith(str(path))
