"""Text that came from input (article files, the database, arguments) reaches the terminal
without control characters: no escape sequence can retitle the terminal, move the cursor,
clear the screen or reorder what is shown."""
from __future__ import annotations

import re

import pytest

from newsletter.terminal import printable

from helpers import run, write_config

#: what must never reach the terminal: C0 controls but tab and newline, DEL, C1, bidi overrides
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

OSC_TITLE = "\x1b]2;PWNED\x07"
CSI = "\x9b2J"  # the one-byte (C1) "clear screen"


@pytest.fixture
def config_path(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    (content / "2024-05-01-evil.md").write_text(
        '---\ntitle: "\\e]2;PWNED\\a Quiet title"\nauthor: "Mallory \\u009b2J\\u202eevil"\n'
        'date: 2024-05-01\n---\nBody text.\n', encoding="utf-8")
    path = write_config(tmp_path)
    path.write_text(path.read_text() + f'[content]\ndir = "{content}"\n')
    return path


def test_articles_and_issues_print_no_control_characters(config_path):
    listing = run(config_path, "articles")
    assert "PWNED Quiet title" in listing.output and "Mallory" in listing.output
    created = run(config_path, "issue", "create", "evil", "--subject", f"{OSC_TITLE}Subject{CSI}")
    assert created.exit_code == 0, created.output
    shown = [listing, created, run(config_path, "issue", "list"), run(config_path, "issue", "show", "1")]
    for result in shown:
        assert not CONTROL.search(result.output), repr(result.output)
    assert "]2;PWNEDSubject2J" in shown[2].output  # the text stays, only the controls go


def test_errors_quoting_input_print_no_control_characters(config_path):
    for args in [("issue", "create", f"no-such{OSC_TITLE}"), ("send-test", f"nope{CSI}", "--to", "a@example.com"),
                 ("subscribers", "add", f"x{OSC_TITLE}@example.com"), ("subscribers", "remove", f"{CSI}@x.org"),
                 ("issue", "show", f"1{OSC_TITLE}"), ("check", f"{CSI}missing")]:
        result = run(config_path, *args)
        assert result.exit_code != 0
        assert not CONTROL.search(result.output), (args, repr(result.output))


def test_printable_keeps_text_tabs_and_newlines():
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable(f"Title{OSC_TITLE}{CSI}\r\x00 — “ok” ✓") == "Title]2;PWNED2J — “ok” ✓"
    assert printable("\u202eevil\u2066x\u2069") == "evilx"
