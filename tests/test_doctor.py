"""`doctor` against a real DNS server on 127.0.0.1 (dnslib) serving good, missing and broken
records: SPF covering the relay, a DKIM key, DMARC aligned, https, one-click unsubscribe;
each problem names the exact TXT record to add."""
from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from newsletter.config import load_config
from newsletter.doctor.checks import run_checks
from newsletter.doctor.dns import resolver
from newsletter.doctor.spf import check_host

from dnsserver import dns_server
from helpers import free_port


def dkim_value(bits: int = 2048) -> list[str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    p = base64.b64encode(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()
    record = f"v=DKIM1; k=rsa; p={p}"
    return [record[i:i + 255] for i in range(0, len(record), 255)]  # TXT strings of at most 255


RECORDS = {
    # good: SPF through an include, a DKIM key, DMARC; the relay has an A record
    ("good.example", "TXT"): ["v=spf1 include:_spf.provider.example ~all", "google-site-verification=x"],
    ("_spf.provider.example", "TXT"): ["v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"],
    ("sel._domainkey.good.example", "TXT"): [dkim_value()],
    ("_dmarc.good.example", "TXT"): ["v=DMARC1; p=quarantine; rua=mailto:d@good.example"],
    ("relay.provider.example", "A"): ["192.0.2.25"],
    ("bounces.good.example", "A"): ["192.0.2.80"],
    # missing: the domain exists, nothing else
    ("missing.example", "A"): ["192.0.2.90"],
    # broken: two SPF records, a DKIM record without a key, DMARC without a policy
    ("broken.example", "TXT"): ["v=spf1 ip4:192.0.2.25 -all", "v=spf1 mx -all"],
    ("sel._domainkey.broken.example", "TXT"): ["v=DKIM1; k=rsa; p=not-base64!!"],
    ("_dmarc.broken.example", "TXT"): ["v=DMARC1; rua=mailto:d@broken.example"],
    # elsewhere: SPF that leaves the relay out; a mail server for the mx mechanism
    ("other.example", "TXT"): ["v=spf1 mx a:web.other.example -all"],
    ("other.example", "MX"): ["mx.other.example"],
    ("mx.other.example", "A"): ["198.51.100.7"],
    ("web.other.example", "A"): ["198.51.100.8"],
    ("loop.example", "TXT"): ["v=spf1 include:loop.example -all"],
}


@pytest.fixture(scope="module")
def nameserver():
    with dns_server(RECORDS) as address:
        yield address


def doctor(nameserver, domain: str, base_url: str = "https://news.good.example", selector: str = "sel",
           **bounces):
    config = load_config(
        overrides={
            "newsletter": {"sender": f"News <news@{domain}>", "base_url": base_url},
            "smtp": {"backend": "smtp", "host": "relay.provider.example"},
            "doctor": {"dkim_selector": selector, "nameserver": nameserver},
            "bounces": bounces,
        },
        environ={"NEWSLETTER_SECRET_KEY": "k"},
    )
    findings = run_checks(config, resolver(nameserver))
    return {f.rule: f for f in findings}


def test_a_good_domain_passes_every_check(nameserver):
    found = doctor(nameserver, "good.example")
    assert {rule: f.severity for rule, f in found.items()} == dict.fromkeys(
        ("spf", "dkim", "dmarc", "https", "unsubscribe"), "ok")
    assert "192.0.2.25" in found["spf"].message and "2048-bit" in found["dkim"].message
    assert "SPF and DKIM aligned" in found["dmarc"].message


def test_a_bounce_address_on_a_subdomain_stays_aligned(nameserver):
    found = doctor(nameserver, "good.example", address="bounces@bounces.good.example")
    assert found["dmarc"].severity == "ok"


def test_a_domain_with_nothing_is_told_each_record_to_add(nameserver):
    found = doctor(nameserver, "missing.example", base_url="http://news.missing.example")
    assert found["spf"].message.endswith('add: missing.example. TXT "v=spf1 ip4:192.0.2.25 ~all"')
    assert "no DKIM key at sel._domainkey.missing.example" in found["dkim"].message
    assert 'sel._domainkey.missing.example. TXT "v=DKIM1; k=rsa; p=' in found["dkim"].message
    assert found["dmarc"].message.endswith(
        '_dmarc.missing.example. TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@missing.example"')
    assert found["https"].severity == found["unsubscribe"].severity == "error"
    assert all(f.severity == "error" for f in found.values())


def test_broken_records_are_named(nameserver):
    found = doctor(nameserver, "broken.example")
    assert "2 SPF records" in found["spf"].message
    assert "no usable key" in found["dkim"].message
    assert "no valid p= policy" in found["dmarc"].message
    assert all(found[r].severity == "error" for r in ("spf", "dkim", "dmarc"))


def test_an_spf_record_that_leaves_the_relay_out_gets_the_fixed_record(nameserver):
    found = doctor(nameserver, "other.example")
    assert found["spf"].severity == "error"
    assert found["spf"].message.endswith(
        'replace its SPF record with: other.example. TXT "v=spf1 ip4:192.0.2.25 mx a:web.other.example -all"')


def test_dmarc_fails_when_neither_spf_nor_dkim_can_align(nameserver):
    found = doctor(nameserver, "good.example", selector="", address="bounces@other.example")
    assert found["dmarc"].severity == "error"
    assert "envelope sender domain other.example is not aligned" in found["dmarc"].message
    assert found["dkim"].severity == "warning" and "dkim_selector" in found["dkim"].message
    found = doctor(nameserver, "good.example", address="bounces@other.example")
    assert found["dmarc"].severity == "ok" and "DKIM aligned" in found["dmarc"].message


@pytest.mark.parametrize("ip, domain, result", [
    ("198.51.100.7", "other.example", "pass"),    # mx
    ("198.51.100.8", "other.example", "pass"),    # a:host
    ("198.51.100.9", "other.example", "fail"),
    ("2001:db8::1", "good.example", "pass"),      # ip6 through include
    ("203.0.113.1", "good.example", "softfail"),
    ("192.0.2.25", "loop.example", "permerror"),  # include loop: over 10 lookups
    ("192.0.2.25", "nowhere.example", "none"),
])
def test_spf_evaluation(nameserver, ip, domain, result):
    assert check_host(resolver(nameserver), ip, domain).result == result


def test_a_dns_that_does_not_answer_is_a_warning_not_a_traceback(runner, tmp_path):
    silent = f"127.0.0.1:{free_port()}"  # nothing listens there
    config = load_config(overrides={"doctor": {"nameserver": silent, "dkim_selector": "sel"},
                                    "database": {"path": str(tmp_path / "nl.db")}}, environ={})
    runner.config = config
    result = runner.invoke(args=["doctor"])
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [["warning", "spf"], ["warning", "dkim"], ["warning", "dmarc"]]
    assert all("cannot check" in line for line in lines[:3])
    assert result.exit_code == 1  # https is an error with the default http base_url
