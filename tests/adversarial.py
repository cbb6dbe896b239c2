"""Hostile article files: one per way found to make an article reader slow, greedy or lossy.

The one list both ``tests/test_content_adversarial.py`` (each must parse in a subprocess within
a generous timeout) and ``bench/parse_adversarial.py`` (time and peak memory of each) use.
Every text fits its article limit (1 MB, :data:`newsletter.content.MAX_BYTES`; 10 MB for a saved
page, :data:`~newsletter.content.HTML_MAX_BYTES`), so a reader must cope with it rather than
refuse it for its size.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: Bytes of hostile filler: the 1 MB limit less room for a title and front matter fences.
SIZE = 1_000_000 - 400
#: Bytes of a hostile saved page (``.html``): its 10 MB limit less the same room.
HTML_SIZE = 10_000_000 - 400
#: Bytes of hostile front matter that is not refused for its size (the limit is 32 KB).
FM = 31_000


@dataclass(frozen=True)
class Hostile:
    """One hostile file: which reader it attacks, its file name and how to build its text."""

    name: str
    reader: str  # "front matter", "markdown", "copied page", "sanitizer" or "saved page"
    filename: str
    build: Callable[[], str]

    def text(self) -> str:
        text = self.build()
        limit = (HTML_SIZE if self.filename.endswith(".html") else SIZE) + 400
        assert len(text.encode("utf-8")) <= limit, f"{self.name} is over the article size limit"
        return text


def fill(unit: str, head: str = "", tail: str = "", size: int = SIZE) -> str:
    """``head``, then ``unit`` repeated to ``size`` UTF-8 bytes in all, then ``tail``."""
    room = size - len(head.encode()) - len(tail.encode())
    return head + unit * (room // len(unit.encode())) + tail


MD = "# Hostile\n\n"
PAGE = "Hostile Page Title\n\nJune 3, 2025 · 4 min read\n\nAn opening paragraph of plain words.\n\n"
ARTICLE = "<article><h1>Hostile page</h1><p>An opening paragraph of plain words, more than ten of them.</p>"
HTML = "<!doctype html><html><head><title>Hostile page</title></head><body>" + ARTICLE
HTML_END = "</article></body></html>"
#: 395 bytes: nine anchors, each a list of nine aliases of the one before (9**9 strings once expanded).
BILLION_LAUGHS = (
    "---\ntitle: Laughs\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))
    + "date: *i\nread_time: *i\n---\n\nBody.\n"
)

HOSTILE: tuple[Hostile, ...] = (
    # front matter
    Hostile("yaml-billion-laughs", "front matter", "laughs.md", lambda: BILLION_LAUGHS),
    Hostile("yaml-over-limit", "front matter", "a.md",
            lambda: fill("lol, ", "---\ntitle: Big\ntags: [", "]\n---\n\nBody.\n")),
    Hostile("yaml-long-list", "front matter", "a.md",
            lambda: fill("lol, ", "---\ntitle: Long\ntags: [", "]\n---\n\nBody.\n", size=FM)),
    Hostile("yaml-deep-flow", "front matter", "a.md",
            lambda: fill("[", "---\ntitle: Deep\ntags: ", "\n---\n", size=FM)),
    Hostile("yaml-deep-block", "front matter", "a.md",
            lambda: fill("- ", "---\ntitle: Deep\ntags:\n  ", "x\n---\n", size=FM)),
    Hostile("yaml-many-keys", "front matter", "a.md",
            lambda: "---\ntitle: Keys\n" + "".join(f"k{i}: v\n" for i in range(FM // 9)) + "---\n\nBody.\n"),
    Hostile("yaml-month-words", "front matter", "a.md",
            lambda: fill("mar", '---\ntitle: D\ndate: "', '"\n---\n\nB.\n', size=FM)),
    Hostile("toml-over-limit", "front matter", "a.md",
            lambda: fill('"x", ', '+++\ntitle = "Big"\ntags = [', "]\n+++\n")),
    Hostile("toml-long-array", "front matter", "a.md",
            lambda: fill('"x", ', '+++\ntitle = "Long"\ntags = [', "]\n+++\n\nBody.\n", size=FM)),
    Hostile("toml-deep", "front matter", "a.md", lambda: fill("[", '+++\ntitle = "Deep"\ntags = ', "\n+++\n", size=FM)),
    # Markdown
    Hostile("md-link-brackets", "markdown", "a.md", lambda: MD + "[" * (SIZE // 3) + "x" + "](" * (SIZE // 3)),
    Hostile("md-links-unclosed", "markdown", "a.md", lambda: fill("[a](", MD)),
    Hostile("md-link-labels", "markdown", "a.md", lambda: fill("[a]", MD)),
    Hostile("md-image-brackets", "markdown", "a.md", lambda: fill("![", MD)),
    Hostile("md-emphasis", "markdown", "a.md", lambda: fill("*a_", MD)),
    Hostile("md-strong-unclosed", "markdown", "a.md", lambda: fill("**a", MD)),
    Hostile("md-backticks", "markdown", "a.md", lambda: fill("`a``b```c", MD)),
    Hostile("md-nested-quotes", "markdown", "a.md", lambda: fill("> ", MD, "x\n")),
    Hostile("md-nested-lists", "markdown", "a.md", lambda: fill("- ", MD, "x\n")),
    Hostile("md-hard-breaks", "markdown", "a.md", lambda: fill("\\\n", MD + "a")),
    Hostile("md-quote-marks-run", "markdown", "a.md", lambda: fill(">", MD, "x\n")),
    Hostile("md-numbered-nested", "markdown", "a.md", lambda: fill("1. ", MD, "x\n")),
    Hostile("md-nested-lines", "markdown", "a.md", lambda: fill("> " * 32 + "x\n\n", MD)),
    Hostile("md-paragraphs", "markdown", "a.md", lambda: fill("x\n\n", MD)),
    Hostile("md-headings", "markdown", "a.md", lambda: fill("# h\n", MD)),
    Hostile("md-list-items", "markdown", "a.md", lambda: fill("- x\n", MD)),
    Hostile("md-quotes", "markdown", "a.md", lambda: fill("> x\n\n", MD)),
    Hostile("md-rules", "markdown", "a.md", lambda: fill("***\n", MD)),
    Hostile("md-fences", "markdown", "a.md", lambda: fill("```\n", MD)),
    Hostile("md-images", "markdown", "a.md", lambda: fill("![a](https://a.example/a.png)\n\n", MD)),
    Hostile("md-template-lines", "markdown", "a.md", lambda: fill("{{x}}\n", MD)),
    Hostile("md-brace-lines", "markdown", "a.md", lambda: fill("{{\n", MD)),
    Hostile("md-angle-lines", "markdown", "a.md", lambda: fill("<\n", MD)),
    Hostile("md-pre-lines", "markdown", "a.md", lambda: fill("<pre>\n", MD)),
    Hostile("md-blank-lines", "markdown", "a.md", lambda: fill("\n", MD + "Text.", "• x\n")),
    Hostile("md-spaces-after-number", "markdown", "a.md", lambda: fill(" ", MD + "1", "x\n")),
    Hostile("md-dots", "markdown", "a.md", lambda: fill(".", MD)),
    Hostile("md-initials", "markdown", "a.md", lambda: fill("A. ", MD)),
    Hostile("md-template-braces", "markdown", "a.md", lambda: fill("{{", MD)),
    Hostile("md-template-percent", "markdown", "a.md", lambda: fill("{%<%<?", MD)),
    Hostile("md-php-opens", "markdown", "a.md", lambda: fill("<?php ", MD)),
    Hostile("md-html-comments", "markdown", "a.md", lambda: fill("<!-- a ", MD)),
    Hostile("md-autolinks", "markdown", "a.md", lambda: fill("<http://a", MD)),
    Hostile("md-entities", "markdown", "a.md", lambda: fill("&#", MD)),
    Hostile("md-long-word", "markdown", "a.md", lambda: fill("a", MD)),
    Hostile("md-cite-after-breaks", "markdown", "a.md", lambda: fill("<br>", MD + "> “A", "b.” — Ann Lee\n")),
    # plain text copied from a web page
    Hostile("page-wrapped-paragraph", "copied page", "a.txt",
            lambda: fill("and so the lines go on without a full stop at all\n", PAGE)),
    Hostile("page-junk-lines", "copied page", "a.txt", lambda: fill("Share\n", PAGE)),
    Hostile("page-short-paragraphs", "copied page", "a.txt", lambda: fill("A line.\n\n", PAGE)),
    Hostile("page-widget-labels", "copied page", "a.txt", lambda: fill("Volume\n", PAGE)),
    Hostile("page-ticker-then-digits", "copied page", "a.txt", lambda: fill("1", PAGE + "NASDAQ: PEP\n", "x\n")),
    Hostile("page-label-then-digits", "copied page", "a.txt", lambda: fill("1", PAGE + "Volume: ", "x\n")),
    Hostile("page-template-braces", "copied page", "a.txt", lambda: fill("{{", PAGE)),
    Hostile("page-quote-marks", "copied page", "a.txt", lambda: fill("“", PAGE)),
    Hostile("page-rule-dashes", "copied page", "a.txt", lambda: fill("- ", PAGE, "x\n")),
    Hostile("page-bullets", "copied page", "a.txt", lambda: fill("• a\n", PAGE)),
    Hostile("page-short-lines", "copied page", "a.txt", lambda: fill("x\n", PAGE)),
    Hostile("page-template-lines", "copied page", "a.txt", lambda: fill("{{x}}\n", PAGE)),
    Hostile("page-numbered", "copied page", "a.txt", lambda: fill("1. a\n", PAGE)),
    Hostile("page-one-long-line", "copied page", "a.txt", lambda: fill("word ", PAGE)),
    Hostile("page-urls", "copied page", "a.txt", lambda: fill("https://a.example/x ", PAGE)),
    Hostile("page-only-metadata", "copied page", "a.txt", lambda: fill("4 min read\n", "Title\n")),
    Hostile("page-author-tail", "copied page", "a.txt", lambda: fill("Share\n", PAGE + "About the author\n")),
    Hostile("page-distinct-open-quotes", "copied page", "a.txt",
            lambda: PAGE + "".join(f"“Quote {i} opens\n\n" for i in range(SIZE // 23))),
    Hostile("page-empty-comments", "copied page", "a.txt", lambda: fill("<!---->", "", "x\n" + PAGE)),
    # raw HTML in Markdown, through the sanitizer
    Hostile("html-distinct-relative-links", "sanitizer", "a.md",
            lambda: MD + "".join(f'<a href="/p{i}">y</a> ' for i in range(SIZE // 26))),
    Hostile("html-distinct-bad-images", "sanitizer", "a.md",
            lambda: MD + "".join(f"![a](x{i}.png) " for i in range(SIZE // 19))),
    Hostile("html-deep-divs", "sanitizer", "a.md", lambda: fill("<div>", MD, "\n\nAfter.\n")),
    Hostile("html-deep-inline", "sanitizer", "a.md", lambda: fill("<b>", MD + "A ", " z\n\nAfter.\n")),
    Hostile("html-deep-quotes", "sanitizer", "a.md", lambda: fill("<blockquote>", MD, "\n\nAfter.\n")),
    Hostile("html-unclosed-titles", "sanitizer", "a.md", lambda: fill("<title>a ", MD + "A ")),
    Hostile("html-unclosed-objects", "sanitizer", "a.md", lambda: fill("<object>a ", MD + "A ")),
    Hostile("html-embeds", "sanitizer", "a.md", lambda: fill('<embed src="y">', MD + "A ")),
    Hostile("html-open-quotes", "sanitizer", "a.md", lambda: fill('<title a="', MD + "A ")),
    Hostile("html-break-run", "sanitizer", "a.md", lambda: fill("<br>", MD + "A ", "z\n")),
    Hostile("html-attributes", "sanitizer", "a.md", lambda: fill(' a="x"', MD + "A <a", ">z</a>\n")),
    Hostile("html-links", "sanitizer", "a.md", lambda: fill('<a href="/x">y</a>', MD + "A ")),
    Hostile("html-paragraphs", "sanitizer", "a.md", lambda: fill("<p>", MD + "A ", "z\n")),
    Hostile("html-headings", "sanitizer", "a.md", lambda: fill("<h2>a</h2>", MD + "A ", "z\n")),
    # saved web pages (.html), through the page extractor
    Hostile("saved-paragraphs", "saved page", "a.html", lambda: saved("<p>Some words in a short paragraph.</p>")),
    Hostile("saved-links", "saved page", "a.html", lambda: saved('<a href="/x">y</a> ')),
    Hostile("saved-distinct-links", "saved page", "a.html",
            lambda: HTML + "".join(f'<p><a href="/p{i}">link {i}</a></p>' for i in range(HTML_SIZE // 44)) + HTML_END),
    Hostile("saved-images", "saved page", "a.html", lambda: saved('<img src="/x.png" alt="a">')),
    Hostile("saved-headings", "saved page", "a.html", lambda: saved("<h2>A heading</h2>")),
    Hostile("saved-table-cells", "saved page", "a.html", lambda: saved("<td>a</td>", "<table><tr>", "</tr></table>")),
    Hostile("saved-table-rows", "saved page", "a.html",
            lambda: saved("<tr><td>a</td><td>b</td></tr>", "<table>", "</table>")),
    Hostile("saved-one-paragraph", "saved page", "a.html", lambda: saved("word ", "<p>", "</p>")),
    Hostile("saved-deep-divs", "saved page", "a.html", lambda: saved("<div>a ")),
    Hostile("saved-attributes", "saved page", "a.html", lambda: saved(' a="x"', "<p", ">z</p>")),
    Hostile("saved-comments", "saved page", "a.html", lambda: saved("<!-- a -->")),
    Hostile("saved-unclosed-comment", "saved page", "a.html", lambda: saved("a ", "<!--")),
    Hostile("saved-script", "saved page", "a.html", lambda: saved("x=1;", "<script>", "</script>")),
    Hostile("saved-json-ld", "saved page", "a.html",
            lambda: saved('{"@type":"Person","name":"a"},', '<script type="application/ld+json">[', "{}]</script>")),
    Hostile("saved-title", "saved page", "a.html", lambda: fill(
        "word ", "<!doctype html><html><head><title>", "</title></head><body>" + ARTICLE + HTML_END, size=HTML_SIZE)),
    Hostile("saved-description", "saved page", "a.html", lambda: fill(
        "word ", '<html><head><meta name="description" content="', '"></head><body>' + ARTICLE + HTML_END,
        size=HTML_SIZE)),
)


def saved(unit: str, head: str = "", tail: str = "") -> str:
    """A saved page: a title and an opening paragraph, then ``head``, ``unit`` repeated, ``tail``."""
    return fill(unit, HTML + head, tail + HTML_END, size=HTML_SIZE)


def by_name(name: str) -> Hostile:
    """The hostile file called ``name``."""
    return next(h for h in HOSTILE if h.name == name)


def parse_report(hostile: Hostile, *, trace_memory: bool = False) -> dict:
    """Parse ``hostile`` here and now: outcome, what the article kept, seconds taken and (with
    ``trace_memory``, which slows parsing down) the peak of memory allocated while parsing."""
    import time
    import tracemalloc

    from newsletter.content import ContentError, parse_text

    text = hostile.text()
    report: dict = {"name": hostile.name, "reader": hostile.reader, "bytes": len(text.encode())}
    if trace_memory:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        article = parse_text(text, hostile.filename, path=hostile.filename)
    except ContentError as exc:
        report.update(outcome="error", error=str(exc))
    else:
        report.update(
            outcome="ok", title=article.title, date=str(article.date) if article.date else None,
            read_time=article.read_time, tags=list(article.tags[:20]),
            warnings=article.warnings[:10] + article.warnings[10:][-10:],
            warning_count=len(article.warnings),
            kinds=sorted({b.kind for b in article.blocks}),
            text=" ".join(b.content.text if b.content else " ".join(i.text for i in b.items)
                          for b in article.blocks)[-300:],
        )
    report["seconds"] = time.perf_counter() - start
    if trace_memory:
        report["peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return report


def serve() -> None:
    """Answer hostile file names read from stdin with one JSON :func:`parse_report` line each.

    Run by the tests in a child process (``python tests/adversarial.py``) so a reader that
    hangs or eats memory can be timed out and killed; its address space is capped at 2 GB.
    """
    import json
    import resource
    import sys

    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))
    for line in sys.stdin:
        print(json.dumps(parse_report(by_name(line.strip()))), flush=True)


if __name__ == "__main__":
    serve()
