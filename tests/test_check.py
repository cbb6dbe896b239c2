"""The checker: each broken fixture trips exactly its rule; clean mail passes; CLI contract."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsletter import check
from newsletter.check import check_html, check_message, contrast_ratio, parse_color
from newsletter.check.content_rules import similarity_rules
from newsletter.compose import TOKENS

FIXTURES = Path(__file__).parent / "fixtures" / "check"
ROOT = Path(__file__).resolve().parent.parent
SAMPLE_FEATURES = ROOT / "tests" / "fixtures" / "caniemail" / "features-sample.json"

BROKEN = sorted(
    p for p in FIXTURES.iterdir()
    if p.suffix in (".html", ".eml") and not p.name.startswith(("clean", "warning-"))
)


def rule_of(path: Path) -> str:
    """The rule a broken fixture targets: its name, less any `-variant` after a known rule."""
    stem = path.stem
    for suffix in ("-order", "-twice", "-bare-cr", "-text"):
        stem = stem.removesuffix(suffix)
    return stem


def findings_for(path: Path, config):
    if path.suffix == ".eml":
        return check_message(path.read_bytes(), config=config)
    return check_html(path.read_text(encoding="utf-8"), config=config)


def errors(findings) -> set[str]:
    return {f.rule for f in findings if f.severity == "error"}


def test_at_least_fifteen_broken_fixtures_covering_distinct_rules():
    assert len({rule_of(p) for p in BROKEN}) >= 15


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: f"{rule_of(p)}:{p.name}")
def test_broken_fixture_triggers_exactly_its_rule(path, config):
    findings = findings_for(path, config)
    assert errors(findings) == {rule_of(path)}, [f.line() for f in findings]
    # errors come first, and every message is a sentence a person can act on
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=lambda s: s != "error")
    assert all(len(f.message) > 30 for f in findings)


@pytest.mark.parametrize("name", ["clean.html", "clean.eml"])
def test_clean_fixture_has_no_findings(name, config):
    assert findings_for(FIXTURES / name, config) == []


@pytest.mark.parametrize(
    "name, rule, words",
    [
        ("warning-http-image.html", "image-url", "http"),
        ("warning-http-unsubscribe.eml", "list-unsubscribe", "not https"),
        ("warning-border-radius-no-vml.html", "client-css-border-radius", "Outlook 2016/2019"),
    ],
)
def test_warning_fixture_warns_without_error(name, rule, words, config):
    findings = findings_for(FIXTURES / name, config)
    assert errors(findings) == set()
    assert [f.rule for f in findings] == [rule]
    assert words in findings[0].message


# --- rules in detail --------------------------------------------------------------------------

CLEAN = (FIXTURES / "clean.html").read_text(encoding="utf-8")


def test_fallbacks_silence_only_the_client_they_cover():
    # the clean email's VML roundrect covers Outlook for the rounded button
    assert check_html(CLEAN) == []
    without_vml = CLEAN.replace("<v:roundrect", "<v:nothing")
    [finding] = check_html(without_vml)
    assert finding.rule == "client-css-border-radius" and finding.severity == "warning"
    # a display:none without mso-hide:all leaks into Outlook
    leaky = CLEAN.replace("overflow:hidden; mso-hide:all", "overflow:hidden")
    rules = {f.rule: f for f in check_html(leaky)}
    assert "Outlook 2016/2019 (Windows)" in rules["client-css-display-none"].message


def test_media_queries_are_reported_only_without_inline_base_styles():
    assert not any(f.rule.startswith("client-css-at-media") for f in check_html(CLEAN))
    sheet_only = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width"><style>
    @media (prefers-color-scheme: dark) { p { color: #fff; } }</style></head>
    <body><p>Hello</p></body></html>"""
    rules = {f.rule for f in check_html(sheet_only)}
    assert {"client-css-at-media", "client-css-at-media-prefers-color-scheme"} <= rules


def test_client_support_names_the_clients_and_reads_style_blocks():
    html = CLEAN.replace("</style>", "p:hover { box-shadow: 0 0 4px #000; }\n</style>")
    found = {f.rule: f for f in check_html(html)}
    assert "Gmail (web)" in found["client-css-box-shadow"].message
    assert "Outlook 2016/2019 (Windows)" in found["client-css-box-shadow"].message
    assert found["client-css-pseudo-class-hover"].severity == "warning"


def test_tokens_count_as_absolute_urls():
    html = CLEAN.replace("https://news.example.com/unsubscribe/abc123", TOKENS["unsubscribe_url"])
    html = html.replace("https://example.com/images/desk.jpg", TOKENS["webview_url"])
    assert check_html(html) == []


def test_contrast_allows_large_text_at_three_to_one():
    grey = "#949494"  # 3.03:1 on white: too pale for body text, enough for large text
    small = CLEAN.replace("font-size:28px; line-height:36px; color:#111827",
                          f"font-size:14px; line-height:20px; color:{grey}")
    large = CLEAN.replace("color:#111827", f"color:{grey}")
    assert errors(check_html(small)) == {"contrast"}
    assert errors(check_html(large)) == set()


def test_contrast_reads_bgcolor_of_the_nearest_ancestor():
    dark = CLEAN.replace('bgcolor="#ffffff" style="background-color:#ffffff;',
                         'bgcolor="#111111" style="')
    messages = [f.message for f in check_html(dark) if f.rule == "contrast"]
    assert any("#1f2937 on #111111" in m and "4.5:1" in m for m in messages)  # body text
    assert any("#111827 on #111111" in m and "3:1" in m for m in messages)  # the large heading


def test_colour_maths():
    assert parse_color("#fff") == (255, 255, 255)
    assert parse_color("rgb(29, 78, 216)") == (29, 78, 216)
    assert parse_color("grey") == (128, 128, 128)
    assert parse_color("var(--x)") is None
    assert round(contrast_ratio((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert round(contrast_ratio(parse_color("#777"), (255, 255, 255)), 2) == 4.48


def test_gmail_clipping_warns_before_the_limit():
    html = CLEAN.replace("</body>", "<!-- " + "x" * 90 * 1024 + " -->\n</body>")
    [finding] = check_html(html)
    assert (finding.severity, finding.rule) == ("warning", "gmail-clipping")


def test_text_similarity_thresholds():
    html = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
    assert similarity_rules(html, html + " https://example.com/x") == []
    # 6 shared words of 10 in all: 60 %, just enough; 5 of 11 (45 %) warns
    assert similarity_rules(html, "alpha beta gamma delta epsilon zeta") == []
    [warn] = similarity_rules(html, "alpha beta gamma delta epsilon lambda")
    assert warn.severity == "warning" and "45%" in warn.message and "lambda" in warn.message
    [error] = similarity_rules(html, "alpha beta mu nu xi omicron")
    assert error.severity == "error" and error.rule == "text-html-mismatch"


def test_base_url_warns_unless_https(config):
    [finding] = check.check_base_url(config)
    assert finding.severity == "warning" and "development" in finding.message
    from newsletter.config import load_config

    secure = load_config(overrides={"newsletter": {"base_url": "https://news.example.com"}})
    assert check.check_base_url(secure) == []
    public = load_config(overrides={"newsletter": {"base_url": "http://news.example.com"}})
    assert "development" not in check.check_base_url(public)[0].message


def test_shipped_support_table_is_what_the_script_derives_from_caniemail():
    """tests/fixtures/caniemail holds eight features of the caniemail source (MIT, notice kept
    beside them): the script derives from them exactly the entries the shipped table has."""
    import runpy

    script = runpy.run_path(str(ROOT / "scripts" / "derive_caniemail.py"))
    source = json.loads(SAMPLE_FEATURES.read_text(encoding="utf-8"))
    derived = script["derive"](source)
    shipped = check.support_data()
    assert derived["clients"] == shipped["clients"]
    assert derived["features"] == {slug: shipped["features"][slug] for slug in source if slug in shipped["features"]}
    assert set(derived["features"]) == set(source) & set(shipped["features"])
    assert len(derived["features"]) >= 6  # most of the sample is not fully supported somewhere
    assert "MIT License" in (ROOT / "newsletter" / "data" / "LICENSE-caniemail").read_text()


# --- command line -----------------------------------------------------------------------------


def run(runner, *args):
    from newsletter.cli import cli

    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_cli_lines_and_json_agree_and_exit_one_on_errors(runner):
    target = str(FIXTURES / "required-header-twice.eml")
    text = run(runner, "check", "--eml", target)
    data = run(runner, "check", "--eml", target, "--json")
    assert text.exit_code == data.exit_code == 1
    lines = text.output.splitlines()
    assert lines == [f"{d['severity']}  {d['rule']}  {d['message']}" for d in json.loads(data.output)]
    assert lines[0].startswith("error  required-header  The From header appears 2 times")


def test_cli_exit_zero_for_clean_and_warnings(runner):
    assert run(runner, "check", "--eml", str(FIXTURES / "clean.eml")).exit_code == 0
    result = run(runner, "check", "--eml", str(FIXTURES / "warning-http-unsubscribe.eml"))
    assert result.exit_code == 0 and result.output.startswith("warning  list-unsubscribe  ")


def test_cli_several_files_name_each_and_put_errors_first(runner):
    result = run(runner, "check", "--eml", str(FIXTURES / "warning-http-image.html"),
                 "--eml", str(FIXTURES / "date.eml"))
    assert result.exit_code == 1
    first, second = result.output.splitlines()
    assert first.startswith("error  date  ") and "date.eml: " in first
    assert second.startswith("warning  image-url  ") and "warning-http-image.html: " in second


def test_cli_bad_input_exits_two(runner, tmp_path):
    missing = run(runner, "check", "--eml", str(tmp_path / "nope.eml"))
    assert missing.exit_code == 2 and "nope.eml" in missing.output
    assert run(runner, "check").exit_code == 2


# --- robustness -------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CLEAN_EML = (FIXTURES / "clean.eml").read_bytes()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(CLEAN_EML)), st.integers(0, 400), st.binary(max_size=40))
def test_any_damaged_message_gives_findings_not_a_crash(start, length, junk):
    raw = CLEAN_EML[:start] + junk + CLEAN_EML[start + length :]
    findings = check_message(raw)
    assert all(f.severity in ("error", "warning") and f.rule and f.message for f in findings)


@pytest.mark.parametrize("raw", [
    b"", b"garbage", b"Content-Type: multipart/alternative\r\n\r\nno boundary",
    b"Content-Type: text/html; charset=bogus\r\n\r\n<p>\xff</p>", b"Subject: =?utf-8?q?x\r\n\r\n",
])
def test_malformed_messages_are_reported(raw):
    assert "multipart-alternative" in {f.rule for f in check_message(raw)}


def test_a_message_nested_too_deeply_is_a_finding_not_a_crash():
    """3,000 multiparts one inside the other: the email parser would recurse past Python's
    limit; the checker says what is wrong instead."""
    head = "From: a@example.com\nTo: b@example.com\nSubject: x\nMIME-Version: 1.0\n"
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(3000))
    closing = "".join(f"--b{i}--\n" for i in reversed(range(3000)))
    raw = (head + opening + "Content-Type: text/plain\n\nhello\n" + closing).encode()
    findings = check_message(raw)
    assert [(f.severity, f.rule) for f in findings] == [("error", "multipart-alternative")]
    assert "nested too deeply" in findings[0].message
