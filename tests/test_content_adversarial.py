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

from adversarial import HOSTILE
from newsletter.content import load_article

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
