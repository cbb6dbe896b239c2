"""The content folder as the editor sees it: parsed articles cached until their file changes."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from newsletter.content import ContentError, files, load_article, load_articles_report, resolve
from newsletter.errors import InputError


def article(title: str, body: str = "Body text.") -> str:
    return f"---\ntitle: {title}\ndate: 2025-01-02\nauthor: Ann Lee\n---\n\n{body}\n"


def write(folder: Path, name: str, text: str, *, age: float = 3600) -> Path:
    """Write ``text`` to ``folder/name``, dated ``age`` seconds ago."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """The file names parsed from now on, in order."""
    names: list[str] = []
    real = files.parse_text

    def counting(text, name, path=None):
        names.append(name)
        return real(text, name, path=path)

    monkeypatch.setattr(files, "parse_text", counting)
    monkeypatch.setattr(files, "_CACHE", files.ArticleCache(files.CACHE_ENTRIES))
    return names


def test_unchanged_files_are_parsed_once_however_often_the_folder_is_listed(tmp_path, parsed):
    write(tmp_path, "a.md", article("First"))
    write(tmp_path, "b.md", article("Second"))
    for _ in range(3):
        found, errors = load_articles_report(tmp_path)
        assert sorted(a.title for a in found) == ["First", "Second"] and errors == []
    assert sorted(parsed) == ["a.md", "b.md"]


def test_an_edited_file_shows_its_new_title_at_once(tmp_path, parsed):
    path = write(tmp_path, "a.md", article("First"))
    assert load_article(path).title == "First"
    path.write_text(article("Fixed"), encoding="utf-8")  # same size, written just now
    assert load_article(path).title == "Fixed"
    write(tmp_path, "a.md", article("Fixed, and now much longer"), age=7200)  # older mtime, new size
    assert load_article(path).title == "Fixed, and now much longer"
    assert parsed == ["a.md"] * 3


def test_a_file_written_just_now_is_read_again_until_it_settles(tmp_path, parsed):
    path = write(tmp_path, "a.md", article("Fresh"), age=0)
    load_article(path)
    load_article(path)  # a same-size edit within the file system's clock tick would look unchanged
    assert parsed == ["a.md", "a.md"]


def test_files_that_fail_to_load_are_cached_too(tmp_path, parsed):
    write(tmp_path, "bad.md", "---\ntitle: [oops\n---\nx")
    for _ in range(2):
        assert load_articles_report(tmp_path)[1] == [f"{tmp_path / 'bad.md'}:2: front matter: "
                                                    "expected ',' or ']', but got '<stream end>' (YAML)"]
    assert parsed == ["bad.md"]


def test_the_cache_is_bounded_and_forgets_the_least_recently_used(tmp_path, parsed, monkeypatch):
    monkeypatch.setattr(files, "_CACHE", files.ArticleCache(2))
    a, b, c = (write(tmp_path, f"{n}.md", article(n.upper() + " title")) for n in "abc")
    for path in (a, b, a, c, a, b):
        load_article(path)
    assert parsed == ["a.md", "b.md", "c.md", "b.md"]


def test_changing_a_returned_article_does_not_change_the_cached_one(tmp_path, parsed):
    path = write(tmp_path, "a.md", article("First"))
    first = load_article(path)
    first.warnings.append("scribbled")
    first.blocks.clear()
    first.title = "Changed"
    again = load_article(path)
    assert again.title == "First" and "scribbled" not in again.warnings and again.blocks


# --- links in the content folder --------------------------------------------------------------

SECRET = "TOP-SECRET-KEY-MATERIAL"


@pytest.fixture
def linked(tmp_path) -> Path:
    """A content folder with links out of it (a secret beside it, /etc/passwd) and links within."""
    folder = tmp_path / "content"
    (folder / "drafts").mkdir(parents=True)
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "secret_key").write_text(f"Secret Title\n\n{SECRET} is here.\n")
    (folder / "leak.md").symlink_to(tmp_path / "instance" / "secret_key")
    (folder / "relative-leak.txt").symlink_to(Path("..") / "instance" / "secret_key")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    write(folder / "drafts", "real.md", article("Linked Inside"))
    (folder / "inside.md").symlink_to(Path("drafts") / "real.md")
    write(folder, "plain.md", article("Plain"))
    return folder


def test_a_listing_skips_links_out_of_the_folder_with_one_error_line_each(linked):
    found, errors = load_articles_report(linked)
    assert sorted(a.slug for a in found) == ["inside", "plain"]
    assert sorted(errors) == [f"{linked / name}: links to a file outside the content folder; skipped"
                              for name in ("leak.md", "passwd.txt", "relative-leak.txt")]
    assert not any(SECRET in repr(a) or "root:" in repr(a) for a in found)


@pytest.mark.parametrize("slug", ["leak", "relative-leak", "passwd", "leak.md", "passwd.txt"])
def test_a_slug_or_file_name_never_reads_a_link_out_of_the_folder(linked, slug):
    with pytest.raises(ContentError, match="links to a file outside the content folder"):
        resolve(slug, linked)
    with pytest.raises((ContentError, InputError)):
        resolve(slug, linked, allow_paths=False)


def test_a_link_within_the_folder_is_read_under_its_own_name(linked):
    found = resolve("inside", linked)
    assert (found.slug, found.title, found.path) == ("inside", "Linked Inside", linked / "inside.md")


def test_an_explicit_path_from_the_command_line_may_point_anywhere(linked):
    assert resolve(str(linked / "leak.md"), linked).title == "Secret Title"


def test_a_fifo_or_device_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with pytest.raises(ContentError, match="not a regular file"):
        load_article(fifo)
    with pytest.raises(ContentError, match="not a regular file"):
        load_article("/dev/zero")


def test_a_saved_page_may_be_10_mb_and_any_other_article_1_mb(tmp_path):
    story = "<p>" + "A sentence of the story that goes on for a while. " * 40 + "</p>"
    page = ("<!doctype html><html><head><title>Big Page</title><script>" + "var x = 1;" * 300_000
            + "</script></head><body><article><h1>Big Page</h1>" + story + "</article></body></html>")
    saved = write(tmp_path, "big-page.html", page)
    assert 3_000_000 < saved.stat().st_size < 10_000_000
    assert load_article(saved).title == "Big Page"  # its scripts are no obstacle
    for name in ("big-page.txt", "big-page.md"):  # the same text under another name: the 1 MB limit
        with pytest.raises(ContentError, match=f"{name}: 3.0 MB is over the 1 MB article size limit"):
            load_article(write(tmp_path, name, page))
