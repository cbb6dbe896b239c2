"""Messages: contract headers, header injection refused, tokens never cut by QP, fast splicing."""
from __future__ import annotations

import email
import email.policy
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter import signing, urls
from newsletter.compose import TOKENS, RenderedIssue
from newsletter.config import load_config
from newsletter.errors import ConfigError, HeaderError, InputError
from newsletter.mail import MessageTemplate, check_header, message_ids, sample_message

from helpers import sample_rendered

T = TOKENS


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def simple(subject="Hello", html=None, text=None) -> RenderedIssue:
    html = html or f"<p>Hi {T['name']} ({T['email']})</p><a href=\"{T['unsubscribe_url']}\">unsubscribe</a>"
    text = text or f"Hi {T['name']}\nUnsubscribe: {T['unsubscribe_url']}\nView: {T['webview_url']}\n"
    return RenderedIssue(subject, "", html, text)


def test_message_has_contract_headers_and_parts(config):
    raw = MessageTemplate(sample_rendered(), config, issue_id=7).personalize(123, "zoe@example.org", "Zoë Ünal",
                                                                            "k3y0f123")
    msg = parse(raw)
    for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe",
                 "List-Unsubscribe-Post", "List-Id", "MIME-Version"):
        assert len(msg.get_all(name)) == 1, name
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    for part in msg.iter_parts():
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert msg["To"].addresses[0].display_name == "Zoë Ünal"
    assert msg["To"].addresses[0].addr_spec == "zoe@example.org"
    assert msg["Subject"] == "Quiet streets, loud ideas"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = msg["List-Unsubscribe"].strip("<>")
    assert url.startswith(config.base_url + "/unsubscribe/")
    token = url.rsplit("/", 1)[1]
    assert signing.read_subscriber_token(config, "unsubscribe", token) == signing.SubscriberRef(key="k3y0f123")
    assert "zoe" not in raw.split(b"\r\n\r\n", 1)[0].decode().split("List-Unsubscribe:")[1].split("\r\n")[0]
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert url in html and url in text
    assert "/issues/7/view?t=" in html
    assert not any(token in html or token in text for token in TOKENS.values())
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only


def test_message_id_is_the_same_for_the_same_delivery(config):
    template = MessageTemplate(sample_rendered(), config, issue_id=7)
    first = parse(template.personalize(5, "a@example.com"))["Message-ID"]
    again = parse(MessageTemplate(sample_rendered(), config, issue_id=7).personalize(5, "a@example.com"))["Message-ID"]
    other = parse(template.personalize(6, "b@example.com"))["Message-ID"]
    assert first == again == message_ids(config)(7, 5)
    assert first != other
    assert first.startswith("<issue-7.sub-5.") and first.endswith("@example.com>")


def test_test_copy_has_prefix_and_fresh_message_id(config):
    template = MessageTemplate(sample_rendered(), config, test=True)
    a, b = (parse(template.personalize(0, "t@example.com")) for _ in range(2))
    assert a["Subject"].startswith("[TEST] ")
    assert a["Message-ID"] != b["Message-ID"]


def test_reply_to_when_set(overrides):
    overrides["newsletter"] = {"reply_to": "Editors <editors@example.org>"}
    cfg = load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "k"})
    msg = parse(sample_message(sample_rendered(), cfg))
    assert msg["Reply-To"].addresses[0].addr_spec == "editors@example.org"


@pytest.mark.parametrize("value", [
    "Hello\r\nBcc: victim@example.com", "Hello\n", "Hi\x00", "Line\u2028break", "Para\u2029",
    "=?UTF-8?Q?=0A?=", "Hi =?utf-8?q?x=0D=0ABcc:_a@b.c?=", "=?UTF-8?B?Cg==?=", "=?bogus?Q?x?=",
])
def test_injection_in_subject_refused_naming_header(config, value):
    with pytest.raises(HeaderError, match="Subject"):
        MessageTemplate(simple(subject=value), config)


@pytest.mark.parametrize("key,value", [
    ("name", "News\r\nBcc: x@example.com"), ("name", "=?utf-8?q?News=0A?="),
    ("sender", "Ed <ed@example.com>\nBcc: x@example.com"), ("reply_to", "r@example.com\u2028"),
])
def test_injection_in_config_headers_refused(overrides, key, value):
    overrides["newsletter"] = {key: value}
    cfg = load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "k"})
    with pytest.raises(HeaderError, match=f"newsletter.{key}"):
        MessageTemplate(simple(), cfg)


def test_subscriber_name_with_newline_cannot_add_headers(config):
    raw = MessageTemplate(simple(), config, 1).personalize(1, "a@example.com", "Eve\r\nBcc: x@example.com")
    msg = parse(raw)
    assert msg["Bcc"] is None and len(msg.get_all("To")) == 1


def test_bad_recipient_address_refused(config):
    with pytest.raises(HeaderError, match="To"):
        MessageTemplate(simple(), config, 1).personalize(1, "a@example.com\r\nBcc: x@example.com")


NASTY = st.sampled_from(["\r", "\n", "\r\n", "\x00", "\u2028", "\u2029", "\x85", "=?UTF-8?Q?=0A?=",
                         "=?utf-8?b?DQo=?=", "=?utf-8?q?a?=", " ", "\t", "é", "Bcc: x@example.com", ":", '"'])
HEADERS_OF_A_MESSAGE = ["From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                        "List-Unsubscribe-Post", "MIME-Version", "Content-Type"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    subject=st.lists(st.one_of(NASTY, st.text(max_size=12)), min_size=1, max_size=6).map("".join),
    name=st.lists(st.one_of(NASTY, st.text(max_size=8)), max_size=4).map("".join),
)
def test_hypothesis_header_values_refused_or_exactly_one_header(overrides, subject, name):
    overrides["newsletter"] = {"name": name}
    cfg = load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "k"})
    try:
        raw = MessageTemplate(simple(subject=subject), cfg, 3).personalize(9, "a@example.com", name)
    except HeaderError:
        return
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0].decode() for line in head.split(b"\r\n") if line[:1] not in (b" ", b"\t")]
    assert sorted(names) == sorted(HEADERS_OF_A_MESSAGE)
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    msg = parse(raw)
    assert len(msg.get_all("Subject")) == 1
    assert "\n" not in str(msg["Subject"]) and "\r" not in str(msg["Subject"])
    assert str(msg["Subject"]) == " ".join(subject.split())


def test_check_header_normalises_whitespace():
    assert check_header("Subject", "  a \t b  ") == "a b"


@pytest.mark.parametrize("part", ["text", "html"])
def test_tokens_at_every_column_survive_quoted_printable(config, part):
    """A token starting at each column 0..120 of a long line (and next to '=' and spaces)."""
    for column in range(0, 121):
        body = "x" * column + T["unsubscribe_url"] + " = é" * 30 + T["email"] + "\n"
        rendered = RenderedIssue("S", "", body if part == "html" else "<p></p>", body if part == "text" else "x")
        raw = MessageTemplate(rendered, config, 1).personalize(42, "reader@example.com", "R", "abc42")
        assert all(len(line) <= 76 for line in raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n"))
        content = parse(raw).get_body((("plain",) if part == "text" else ("html",))).get_content()
        content = content.replace("\r\n", "\n")
        url = urls.unsubscribe_url(config, signing.subscriber_signer(config, "unsubscribe")("abc42"))
        assert content == "x" * column + url + " = é" * 30 + "reader@example.com" + "\n", column


def test_personal_values_are_escaped_in_html(config):
    raw = MessageTemplate(simple(), config, 1).personalize(1, "a@example.com", "<script>alert(1)</script>")
    html = parse(raw).get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_no_line_over_998_even_for_one_huge_line(config):
    rendered = RenderedIssue("S", "", "<p>" + "word " * 3000 + T["name"] * 3 + "</p>", "a" * 5000)
    raw = MessageTemplate(rendered, config, 1).personalize(1, "a@example.com", "N" * 500)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_key_rotation_old_links_keep_working(overrides):
    old = load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "old-key"})
    new = load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "new-key, old-key"})
    gone = load_config(overrides=overrides, environ={"NEWSLETTER_SECRET_KEY": "new-key"})
    ref = signing.SubscriberRef(key="a1b2")
    token = signing.subscriber_signer(old, "unsubscribe")("a1b2")
    assert signing.read_subscriber_token(new, "unsubscribe", token) == ref
    with pytest.raises(InputError):
        signing.read_subscriber_token(gone, "unsubscribe", token)
    fresh = signing.subscriber_signer(new, "unsubscribe")("a1b2")
    assert signing.read_subscriber_token(gone, "unsubscribe", fresh) == ref


def test_tokens_are_standard_itsdangerous_tokens_naming_a_key_only(config):
    """``KEY.SIGNATURE`` as itsdangerous' Signer makes it: nothing about the person is in it."""
    from itsdangerous import Signer

    reference = Signer(["test-secret-key"], salt="newsletter.unsubscribe.v2")
    token = signing.subscriber_signer(config, "unsubscribe")("0f1e2d3c4b5a69788796a5b4")
    assert token == reference.sign("0f1e2d3c4b5a69788796a5b4").decode()
    assert token.split(".")[0] == "0f1e2d3c4b5a69788796a5b4"
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), "0f1e2d3c4b5a69788796a5b5" + token[24:], ""):
        with pytest.raises(InputError):
            signing.read_subscriber_token(config, "unsubscribe", forged)


def test_unsubscribe_links_of_the_first_format_keep_working(config):
    """Links mailed before subscribers had keys carried [id, "address"]: still read."""
    from itsdangerous import URLSafeSerializer

    first_format = URLSafeSerializer(["test-secret-key"], salt="newsletter.unsubscribe")
    for sid, address in [(1, "a@example.com"), (123456, "zoë@exämple.org"), (7, 'q"\\x' * 50 + "@example.com")]:
        token = first_format.dumps([sid, address])
        assert signing.read_subscriber_token(config, "unsubscribe", token) == \
            signing.SubscriberRef(subscriber_id=sid, email=address)
    with pytest.raises(InputError):
        signing.read_subscriber_token(config, "unsubscribe", first_format.dumps([1, 2]))


def test_fresh_install_key_is_the_same_for_threads_racing_to_make_it(overrides):
    """Four send workers asking for the key at once on a fresh install all sign with one key."""
    from concurrent.futures import ThreadPoolExecutor

    for round_ in range(5):
        overrides["database"]["path"] = str(Path(overrides["database"]["path"]).parent / f"r{round_}" / "n.db")
        cfg = load_config(overrides=overrides, environ={})
        with ThreadPoolExecutor(8) as pool:
            keys = list(pool.map(lambda _, cfg=cfg: tuple(signing.secret_keys(cfg)), range(32)))
        assert len(set(keys)) == 1 and keys[0][0], keys[:3]
        assert sorted(p.name for p in cfg.instance_path.iterdir()) == ["secret_key"]


def test_an_empty_key_file_is_an_error_not_an_empty_key(overrides):
    cfg = load_config(overrides=overrides, environ={})
    cfg.instance_path.mkdir(parents=True)
    (cfg.instance_path / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="secret_key"):
        signing.secret_keys(cfg)


def test_fresh_install_key_is_generated_once_private(overrides):
    cfg = load_config(overrides=overrides, environ={})
    first = signing.secret_keys(cfg)
    assert first == signing.secret_keys(load_config(overrides=overrides, environ={}))
    path = cfg.instance_path / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    token = signing.subscriber_signer(cfg, "unsubscribe")("k")
    assert signing.read_subscriber_token(cfg, "unsubscribe", token) == signing.SubscriberRef(key="k")


@pytest.mark.parametrize("name", [
    "=?UTF-8?Q?=0ABcc:_evil@example.org?=", "=?utf-8?q?Mallory=0D=0A?=", "=?utf-8?b?DQo=?=",
    'Ann "=?utf-8?q?a=0A?=" B', "=?utf-8?q?Zo=C3=AB?=", "Zoë =?utf-8?q?=0A?=",
])
def test_subscriber_name_that_looks_like_an_encoded_word_stays_literal(config, name):
    """A name is data: a mail reader must show it as typed, never decode it into a line break."""
    raw = MessageTemplate(simple(), config, 1).personalize(1, "a@example.com", name)
    msg = parse(raw)
    to = msg["To"].addresses
    assert len(to) == 1 and len(msg.get_all("To")) == 1
    assert to[0].display_name == name and to[0].addr_spec == "a@example.com"
