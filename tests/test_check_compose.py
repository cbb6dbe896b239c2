"""The checker on what the composer makes: the seed and every sample article pass with no error."""
from __future__ import annotations

import pytest

from newsletter import check, compose, mail
from newsletter.cli import cli
from newsletter.content import load_article, load_articles

from helpers import CONTENT, SEED

SAMPLES = sorted(p for p in CONTENT.iterdir() if p.suffix in (".md", ".txt"))
#: the parser's own awkward inputs: whatever it makes of them must still be email-safe
MESSY = sorted(p for p in (SEED.parent / "messy").rglob("*") if p.suffix in (".md", ".txt"))


def errors(findings):
    return [f.line() for f in findings if f.severity == "error"]


def test_seed_has_no_errors(config):
    # how fast the check runs is bench/check.py's figure, not a test
    findings = check.check_article(load_article(SEED), config)
    assert errors(findings) == []
    # development config: http base_url is a warning, never an error
    assert {f.rule for f in findings} == {"base-url-https", "list-unsubscribe"}


def test_samples_exist():
    assert len(SAMPLES) >= 3


@pytest.mark.parametrize("full_text", [False, True], ids=["excerpts", "full-text"])
@pytest.mark.parametrize("path", [SEED, *SAMPLES, *MESSY], ids=lambda p: p.name)
def test_every_sample_composes_to_a_message_without_errors(path, full_text, overrides):
    from newsletter.config import load_config

    overrides["content"]["full_text"] = full_text
    config = load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "k"})
    assert errors(check.check_article(load_article(path), config)) == []


def test_a_digest_of_every_sample_has_no_errors(config):
    articles = load_articles(config.content_dir)
    rendered = compose.render_issue(articles, config)
    assert errors(check.check_html(rendered.html, config=config)) == []
    assert errors(check.check_message(mail.sample_message(rendered, config), config=config)) == []


def test_https_base_url_leaves_no_finding(overrides):
    from newsletter.config import load_config

    overrides["newsletter"] = {"base_url": "https://news.example.com"}
    config = load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "k"})
    assert check.check_article(load_article(SEED), config) == []


def test_check_command_on_slugs_and_on_compose_output(runner, tmp_path):
    result = runner.invoke(cli, ["check", str(SEED)])
    assert result.exit_code == 0, result.output
    assert all(line.startswith("warning  ") for line in result.output.splitlines())
    out = tmp_path / "out"
    composed = runner.invoke(cli, ["compose", str(SEED), "--out", str(out)])
    assert composed.exit_code == 0, composed.output
    files = sorted(str(p) for p in out.iterdir() if p.suffix in (".eml", ".html"))
    assert len(files) == 2
    args = ["check"] + [a for f in files for a in ("--eml", f)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output


def test_check_command_unknown_slug_exits_two(runner):
    result = runner.invoke(cli, ["check", "no-such-article-slug"])
    assert result.exit_code == 2
    assert "no-such-article-slug" in result.output
