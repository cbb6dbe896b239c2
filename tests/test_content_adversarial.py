"""Hostile articles (issue 10): a reader must not hang, eat memory or silently lose text.

The hostile files come from ``tests/adversarial.py`` (the same list ``bench/parse_adversarial.py``
times). Each is parsed in a child process that answers within a generous timeout or is killed,
so a regression fails loudly instead of hanging the suite.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from newsletter.content import load_article, parse_text

from adversarial import HOSTILE

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 10.0  # seconds per hostile file: generous (each parses in well under a second)


class Worker:
    """A child process parsing hostile files by name (``python tests/adversarial.py``)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def parse(self, name: str) -> dict:
        """The child's report on ``name``; fails the test if it has none within :data:`TIMEOUT`."""
        if self.proc is None or self.proc.poll() is not None:
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / "adversarial.py")], cwd=ROOT, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.proc.stdin.write(name + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
            pytest.fail(f"{name}: no answer within {TIMEOUT:g} s (the reader hangs or crashed)")
        return json.loads(line)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdin.close()
            self.proc.stdout.close()
            self.proc = None


@pytest.fixture(scope="module")
def worker():
    worker = Worker()
    yield worker
    worker.stop()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- front matter -----------------------------------------------------------------------------

def test_yaml_aliases_are_ignored_with_a_warning_naming_the_file_and_line(tmp_path):
    path = write(tmp_path, "alias.md", "---\ntitle: &t Hello There\ndate: 2025-01-02\nauthor: *t\n---\n\n"
                                      "Body text.\n")
    article = load_article(path)
    assert (article.title, article.date, article.author) == ("Hello There", date(2025, 1, 2), "")
    assert f"{path}:4: front matter: YAML alias *t ignored (aliases are not supported)." in article.warnings


def test_a_merge_key_alias_is_ignored_and_the_rest_loads(tmp_path):
    path = write(tmp_path, "merge.md", "---\nbase: &b {author: Ann Lee}\n<<: *b\ntitle: Merged\n---\n\nBody.\n")
    article = load_article(path)
    assert article.title == "Merged" and article.author == ""
    assert any(w.startswith(f"{path}:3: front matter: YAML alias *b ignored") for w in article.warnings)


def test_billion_laughs_front_matter_loads_at_once_without_the_aliased_values(worker):
    report = worker.parse("yaml-billion-laughs")
    assert report["outcome"] == "ok" and report["title"] == "Laughs"
    assert report["date"] is None and report["read_time"] == 1  # estimated, not the alias
    assert any(w.startswith("laughs.md:4: front matter: YAML aliases *a, *b") for w in report["warnings"])


@pytest.mark.parametrize("name, expected", [
    ("yaml-over-limit", "1000 KB is over the 32 KB front matter limit"),
    ("toml-over-limit", "1000 KB is over the 32 KB front matter limit"),
    ("yaml-deep-flow", "nested more than 50 levels deep"),
])
def test_oversized_or_deeply_nested_front_matter_is_refused_at_once(worker, name, expected):
    report = worker.parse(name)
    assert report["outcome"] == "error" and report["error"].startswith("a.md:2: front matter: ")
    assert expected in report["error"]


# --- every hostile file -----------------------------------------------------------------------

@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: h.name)
def test_every_hostile_file_is_read_or_refused_within_the_timeout(worker, hostile):
    report = worker.parse(hostile.name)
    if report["outcome"] == "error":
        assert report["error"].startswith(f"{hostile.filename}:")
    else:
        assert report["title"]


# --- raw HTML that would swallow the text after it --------------------------------------------

SWALLOWING = ["embed", "title", "textarea", "xmp", "noembed", "noscript", "style", "script", "iframe",
              "template", "object", "select", "button", "svg", "math", "form", "nav", "dialog",
              "canvas", "audio", "video", "applet", "frameset", "portal", "plaintext", "noframes"]


def body_text(article) -> str:
    return " | ".join(b.content.text if b.content else " ".join(i.text for i in b.items) for b in article.blocks)


@pytest.mark.parametrize("tag", SWALLOWING)
@pytest.mark.parametrize("where", ["own line", "in a paragraph"])
def test_an_unclosed_element_keeps_the_text_after_it(tag, where):
    opener = f'<{tag} src="y">'
    md = (f"# T\n\nBefore.\n\n{opener}\n\nAfter one.\n\n## Sub\n\nAfter two.\n" if where == "own line" else
          f"# T\n\nBefore {opener} inline words.\n\nAfter one.\n\n## Sub\n\nAfter two.\n")
    article = parse_text(md, "x.md")
    text = body_text(article)
    assert "After one." in text and "After two." in text and "Sub" in text
    assert where == "own line" or "inline words" in text
    assert "</" not in text and "<p>" not in text  # kept as text, not as markup shown literally
    assert any(f"<{tag}>" in w for w in article.warnings)


def test_an_unclosed_html_comment_keeps_the_text_after_it():
    article = parse_text("# T\n\nBefore.\n\n<!-- a note to self\n\nAfter one.\n\nAfter two.\n", "x.md")
    assert "After one." in body_text(article) and "After two." in body_text(article)
    assert any("<!--" in w for w in article.warnings)


@pytest.mark.parametrize("html, gone", [
    ("<script>alert(1)</script>", "alert"),
    ("<title>Page title</title>", "Page title"),
    ("<style>p { color: red }</style>", "color"),
    ("<object>fallback</object>", "fallback"),
    ("<!-- hidden -->", "hidden"),
])
def test_closed_elements_are_still_dropped_with_what_is_inside_them(html, gone):
    article = parse_text(f"# T\n\nBefore {html} after.\n\nNext.\n", "x.md")
    assert gone not in body_text(article) and "after." in body_text(article) and "Next." in body_text(article)


def test_deeply_nested_html_keeps_its_text():
    article = parse_text("# T\n\n" + "<div>" * 5000 + "deep text" + "</div>" * 5000 + "\n\nAfter.\n", "x.md")
    assert "deep text" in body_text(article) and "After." in body_text(article)


def test_deeply_nested_quotes_keep_their_text():
    article = parse_text("# T\n\n" + "> " * 5000 + "deep text\n\nAfter.\n", "x.md")
    assert "deep text" in body_text(article) and "After." in body_text(article)


def test_stray_body_tags_do_not_crash_the_reader():
    article = parse_text("# T\n\nOne.\n\n</body>\n\nTwo.\n\n<body>\n\nThree.\n", "x.md")
    assert all(word in body_text(article) for word in ("One.", "Two.", "Three."))


@pytest.mark.parametrize("opener, kept", [
    ("<script>", []), ("<STYLE type='x'>", []), ("<textarea", []), ("<pre>", []),
    ("<!-- note", [("paragraph", "note")]),
])
def test_markdown_after_an_unclosed_raw_html_block_is_still_markdown(opener, kept):
    article = parse_text(f"# T\n\nBefore.\n\n{opener}\n\nAfter one.\n\n## Sub\n\nAfter two.\n", "x.md")
    assert [(b.kind, b.content.text) for b in article.blocks] == [("paragraph", "Before."), *kept, (
        "paragraph", "After one."), ("heading", "Sub"), ("paragraph", "After two.")]


def test_a_closed_raw_html_block_and_a_fenced_one_are_left_alone():
    article = parse_text("# T\n\n```\n<script>\n```\n\n<script>\nx = 1\n</script>\n\nAfter.\n", "x.md")
    assert [(b.kind, b.content.text) for b in article.blocks] == [("paragraph", "<script>"), ("paragraph", "After.")]


@pytest.mark.parametrize("name", ["yaml-many-keys", "page-distinct-open-quotes", "html-distinct-relative-links",
                                  "html-distinct-bad-images"])
def test_an_article_with_thousands_of_doubtful_spots_has_a_short_list_of_warnings(worker, name):
    report = worker.parse(name)
    assert report["outcome"] == "ok" and report["warning_count"] <= 30
    assert any(w.startswith("…and ") and w.endswith(" more warnings.") for w in report["warnings"]) or \
        name == "yaml-many-keys"


@pytest.mark.parametrize("padding", ["<title>t</title>", "</span>", "<script>x</script>"])
def test_closing_tags_of_other_elements_do_not_hide_deep_nesting(padding):
    html = "<div>" + padding
    article = parse_text("# T\n\n" + html * 400 + "deep text" + "</div>" * 400 + "\n\nAfter.\n", "x.md")
    assert "deep text" in body_text(article) and "After." in body_text(article)


# --- saved web pages --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["saved-paragraphs", "saved-links", "saved-table-cells", "saved-one-paragraph"])
def test_a_huge_saved_page_is_read_up_to_the_extractors_limit_with_a_warning(worker, name):
    report = worker.parse(name)
    assert report["outcome"] == "ok" and report["title"] == "Hostile page"
    assert report["warnings"][0] == \
        "The page is too big to read whole: it was cut after 10,000 elements or 1 MB of text."
    assert report["text"]  # the page's first part is the article's text


def test_comments_before_the_text_of_a_copied_page_do_not_make_it_a_saved_page(worker):
    report = worker.parse("page-empty-comments")  # 140,000 empty comments, then a line of text
    assert report["outcome"] == "ok" and report["text"] == "An opening paragraph of plain words."
    assert parse_text("<!---->" * 40 + "x\n\nA Title Line\n\nSome text.\n", "page.txt").format == "text"


def test_a_saved_page_may_start_with_comments():
    page = (ROOT / "tests" / "fixtures" / "feeds" / "article.html").read_text()
    article = parse_text("<!-- saved by a browser -->\n<!-- on 2 October -->\n" + page, "page.txt")
    assert article.format == "html" and article.title == "How the night buses came back"


# --- limits that keep a huge article fast -----------------------------------------------------

def test_lists_nested_past_the_limit_are_flattened_with_a_warning_and_keep_their_text():
    from newsletter.content.markdown_source import MAX_NESTING

    deep = parse_text("# T\n\n" + "- " * (MAX_NESTING + 8) + "deep text\n\nAfter.\n", "x.md")
    assert "deep text" in body_text(deep) and "After." in body_text(deep)
    assert f"Lists or quotes nested more than {MAX_NESTING} levels deep were flattened: " \
           "the deeper markers are kept as text." in deep.warnings
    shallow = parse_text("# T\n\n" + "- " * 5 + "item\n\n```\n" + "> " * 60 + "code\n```\n", "x.md")
    assert not any("nested" in w for w in shallow.warnings)
    assert "> " * 60 + "code" in body_text(shallow)  # fenced code is left as written


def test_html_past_the_tag_limit_is_cut_with_a_warning():
    from newsletter.content.html_repair import MAX_TAGS

    article = parse_text("# T\n\nFirst words.\n\n" + "<b>x</b>" * (MAX_TAGS // 2 + 10) + "\n\nLast words.\n", "x.md")
    assert "First words." in body_text(article) and "Last words." not in body_text(article)
    assert f"The article is too big to read whole: it was cut after {MAX_TAGS:,} HTML tags." in article.warnings


def test_a_copied_page_past_the_line_limit_is_cut_with_a_warning():
    from newsletter.content.page_lines import MAX_LINES

    page = "A Title For The Page\n\nAn opening paragraph of plain words.\n\n" + "A line.\n\n" * MAX_LINES + "The end.\n"
    article = parse_text(page, "page.txt")
    assert "The end." not in body_text(article) and "An opening paragraph" in body_text(article)
    assert f"The page is too long to read whole: it was cut after {MAX_LINES:,} lines." in article.warnings


@pytest.mark.parametrize("line, only", [
    ("{{ x }}", True), ("  {% endif %} {# note #} ", True), ("<?php echo $a ?>", True), ("?>", True),
    ("{{ a }} and words", False), ("{{ a > b }}", True), ("{% if a %}{{ b }}", True), ("{ not a span }", False),
    ("{{ unclosed", False), ("<% x %> y", False),
])
def test_template_only_lines(line, only):
    from newsletter.content.template_code import template_only

    assert template_only(line) is only
