"""Reading bounces: a corpus of real-world shapes (Postfix, Exim, Exchange, Gmail, qmail, ARF
feedback loops, vacation replies, garbage), and signed VERP tokens."""
from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.bounces.apply import signatures
from newsletter.bounces.classify import classify
from newsletter.bounces.dsn import status_kind
from newsletter.bounces.results import Kind
from newsletter.bounces.verp import TOKEN_MAX, ForgedToken, Verp, check_base_address
from newsletter.config import load_config
from newsletter.errors import ConfigError, InputError
from newsletter.signing import subscriber_signer
from newsletter.urls import unsubscribe_url

FIXTURES = Path(__file__).parent / "fixtures" / "bounces"

CORPUS = [
    # file, kind, recipients named, status of the worst failure
    ("postfix_user_unknown.eml", Kind.HARD, ["alice@example.org"], "5.1.1"),
    ("postfix_gave_up_mailbox_full.eml", Kind.SOFT, ["bob@example.net"], "4.2.2"),
    ("postfix_delayed.eml", Kind.IGNORED, [], ""),
    ("exim_text.eml", Kind.HARD, ["dan@example.org"], "5.1.1"),
    ("exchange_ndr.eml", Kind.HARD, ["erin@contoso.com"], "5.1.10"),
    ("gmail_no_such_user.eml", Kind.HARD, ["frank.nobody@gmail.com"], "5.1.1"),
    ("gmail_dmarc_policy.eml", Kind.SOFT, ["grace@gmail.com"], "5.7.26"),
    ("qmail_local.eml", Kind.HARD, ["heidi@example.net"], "5.1.1"),
    ("qmail_remote.eml", Kind.HARD, ["ivan@example.com"], "5.1.1"),
    ("arf_abuse.eml", Kind.COMPLAINT, ["judy@example-isp.net"], ""),
    ("arf_redacted.eml", Kind.COMPLAINT, [], ""),
    ("vacation_rfc3834.eml", Kind.IGNORED, [], ""),
    ("vacation_legacy.eml", Kind.IGNORED, [], ""),
    ("human_reply.eml", Kind.UNKNOWN, [], ""),
    ("garbage.eml", Kind.UNKNOWN, [], ""),
]


@pytest.fixture
def sigs(config):
    return signatures(config)


@pytest.mark.parametrize("name, kind, recipients, status", CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus(sigs, name, kind, recipients, status):
    reading = classify((FIXTURES / name).read_bytes(), sigs)
    assert reading.kind == kind, reading.reason
    assert [f.recipient for f in reading.failures if f.recipient != "<redacted>"] == recipients
    assert (reading.worst.status if reading.worst else "") == status
    assert reading.reason and "\n" not in reading.reason


def test_a_diagnostic_is_one_line_of_what_the_server_said(sigs):
    reading = classify((FIXTURES / "gmail_no_such_user.eml").read_bytes(), sigs)
    assert "The email account that you tried to reach does not exist" in reading.worst.diagnostic
    assert "\n" not in reading.worst.diagnostic


def test_a_redacted_complaint_is_tied_to_the_subscriber_by_our_message_id(sigs):
    """Feedback loops hide the recipient; the returned Message-ID names issue and subscriber."""
    reading = classify((FIXTURES / "arf_redacted.eml").read_bytes(), sigs)
    assert (reading.issue_id, reading.subscriber_id) == (1, 4)


def test_a_message_id_with_a_wrong_digest_names_nobody(sigs):
    raw = (FIXTURES / "arf_redacted.eml").read_bytes().replace(b"1264db89d268", b"1264db89d269")
    reading = classify(raw, sigs)
    assert (reading.issue_id, reading.subscriber_id) == (None, None)


def test_a_complaint_is_tied_by_the_signed_unsubscribe_link_of_the_returned_message(config, sigs):
    token = subscriber_signer(config, "unsubscribe")("a1b2c3")
    raw = (FIXTURES / "arf_redacted.eml").read_bytes().replace(
        b"Message-ID: <issue-1.sub-4.1264db89d268@example.com>",
        f"List-Unsubscribe: <{unsubscribe_url(config, token)}>".encode(),
    )
    reading = classify(raw, sigs)
    assert reading.subscriber_ref.key == "a1b2c3" and reading.subscriber_id is None
    forged = raw.replace(token.encode(), token[:-2].encode() + b"xx")
    assert classify(forged, sigs).subscriber_ref is None


@pytest.mark.parametrize(
    "status, kind",
    [("5.1.1", Kind.HARD), ("5.4.4", Kind.HARD), ("5.0.0", Kind.HARD), ("550", Kind.HARD),
     ("5.2.2", Kind.SOFT), ("5.7.1", Kind.SOFT), ("5.6.0", Kind.SOFT), ("552", Kind.SOFT),
     ("4.2.2", Kind.SOFT), ("451", Kind.SOFT), ("2.0.0", None), ("", None)],
)
def test_status_kinds(status, kind):
    assert status_kind(status) == kind


def test_a_message_too_large_or_empty_is_refused(sigs):
    with pytest.raises(InputError, match="larger than"):
        classify(b"From: x@y\n\n" + b"a" * (10 * 2**20), sigs)
    with pytest.raises(InputError, match="empty"):
        classify(b"\n\n", sigs)


def test_a_message_nested_too_deeply_is_refused_not_a_crash(sigs):
    """3,000 multiparts one in another (12 KB) would take the email parser past Python's
    recursion limit: the message cannot be read, like any broken input; send-due, which reads
    the bounce mailbox first, goes on."""
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(3000))
    raw = ("From: mailer-daemon@example.org\nSubject: x\nMIME-Version: 1.0\n" + opening).encode()
    with pytest.raises(InputError, match="nested too deeply"):
        classify(raw, sigs)


def test_the_same_report_has_the_same_fingerprint_whatever_headers_delivery_added(sigs):
    raw = (FIXTURES / "postfix_user_unknown.eml").read_bytes()
    via_imap = b"Received: by imap\r\nX-Extra: 1\r\n" + raw.replace(b"\n", b"\r\n")
    assert classify(raw, sigs).fingerprint == classify(via_imap, sigs).fingerprint


# -- VERP ---------------------------------------------------------------------------------------


def test_verp_addresses_round_trip_and_fit_the_local_part_limit():
    verp = Verp("newsletter-bounces@example.com", ("new-key", "old-key"))
    address = verp.address(36**7 - 1, 36**7 - 1)
    local = address.rpartition("@")[0]
    assert len(local) <= 64 and address == address.lower()
    assert verp.read(address) == (36**7 - 1, 36**7 - 1)
    assert verp.read(verp.address(3, 42).upper()) == (3, 42)  # an MTA that upper-cased it
    assert verp.read(verp.address(None, 42)) == (None, 42)  # a test copy: no issue


def test_verp_tokens_from_a_rotated_key_still_verify_and_others_are_forged():
    old = Verp("bounces@example.com", ("old-key",))
    rotated = Verp("bounces@example.com", ("new-key", "old-key"))
    address = old.address(3, 42)
    assert rotated.read(address) == (3, 42)
    with pytest.raises(ForgedToken):
        Verp("bounces@example.com", ("new-key",)).read(address)
    local, _, domain = address.partition("@")
    issue, sub, mac = local.partition("+")[2].split("-")
    with pytest.raises(ForgedToken):  # another subscriber, same MAC
        rotated.read(f"bounces+{issue}-{int(sub, 36) + 1:x}-{mac}@{domain}")
    with pytest.raises(ForgedToken):  # our base address, but no token shape
        rotated.read("bounces+garbage@example.com")
    assert rotated.read("jane+newsletters@example.org") is None  # a subscriber's own plus address
    assert rotated.read("bounces@example.com") is None


def test_a_forged_verp_address_in_a_bounce_is_refused(config, sigs):
    raw = (FIXTURES / "postfix_user_unknown.eml").read_bytes().replace(
        b"Delivered-To: bounces@example.com", b"Delivered-To: bounces+1-2-aaaaaaaaaaaaaaaa@example.com"
    )
    with pytest.raises(ForgedToken, match="forged or altered"):
        classify(raw, sigs)


def test_a_verp_address_names_issue_and_subscriber_whatever_address_the_report_names(overrides):
    config = load_config(overrides={**overrides, "bounces": {"address": "bounces@example.com"}},
                         environ={"NEWSLETTER_SECRET_KEY": "k"})
    sigs = signatures(config)
    address = sigs.verp.address(7, 99)
    raw = (FIXTURES / "exim_text.eml").read_bytes()
    reading = classify(raw, sigs, envelope_to=address)
    assert (reading.kind, reading.issue_id, reading.subscriber_id) == (Kind.HARD, 7, 99)
    raw = raw.replace(b"Envelope-to: bounces@example.com", f"Envelope-to: {address}".encode())
    assert classify(raw, sigs).subscriber_id == 99


def test_the_bounce_address_must_leave_room_for_the_token():
    check_base_address("bounces@example.com")
    room = 64 - 1 - TOKEN_MAX
    check_base_address("b" * room + "@example.com")
    with pytest.raises(ConfigError, match="bounces.address"):
        check_base_address("b" * (room + 1) + "@example.com")
    with pytest.raises(ConfigError, match="not a plain address"):
        check_base_address("bounces at example.com")
    with pytest.raises(ConfigError, match="bounces.address"):
        load_config(overrides={"bounces": {"address": "bad"}}, environ={})
