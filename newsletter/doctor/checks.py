"""The sender-domain checks: one :class:`Finding` per check (``ok``, ``warning`` or ``error``),
each problem with the exact TXT record that fixes it."""
from __future__ import annotations

import base64
import binascii
import email
import ipaddress
from dataclasses import dataclass
from email.policy import compat32

import dns.resolver
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from publicsuffixlist import PublicSuffixList

from ..compose import RenderedIssue
from ..config import Config
from ..mail import sample_message, sender_address
from .dns import LookupFailed, addresses, txt
from .spf import check_host, spf_records

_PSL = PublicSuffixList()


@dataclass(frozen=True)
class Finding:
    """``severity`` "ok", "warning" or "error"; ``rule`` the check; ``message`` one line."""

    severity: str
    rule: str
    message: str

    def line(self) -> str:
        return f"{self.severity:<7}  {self.rule:<11}  {self.message}"


def org_domain(domain: str) -> str:
    """The registrable domain (``mail.example.co.uk`` -> ``example.co.uk``), for DMARC alignment."""
    return _PSL.privatesuffix(domain.lower()) or domain.lower()


def run_checks(config: Config, res: dns.resolver.Resolver) -> list[Finding]:
    """Every check, in order: spf, dkim, dmarc, https, unsubscribe."""
    from_domain = sender_address(config)[1].rpartition("@")[2].lower()
    bounce = config["bounces"]["address"]
    envelope_domain = bounce.rpartition("@")[2].lower() if bounce else from_domain
    findings = _guarded("spf", check_spf, res, envelope_domain, config)
    findings += _guarded("dkim", check_dkim, res, from_domain, config["doctor"]["dkim_selector"])
    findings += _guarded("dmarc", check_dmarc, res, from_domain, envelope_domain, findings)
    return findings + [check_https(config), check_unsubscribe(config)]


def _guarded(rule: str, check, *args) -> list[Finding]:
    """``check(*args)``, or a warning when the DNS did not answer."""
    try:
        return check(*args)
    except LookupFailed as exc:
        return [Finding("warning", rule, f"cannot check: the DNS did not answer ({exc})")]


def _relay(config: Config, res: dns.resolver.Resolver) -> tuple[list[str], str]:
    """(the relay's addresses, why they are unknown when there are none)."""
    if config["doctor"]["relay_ip"]:
        return [config["doctor"]["relay_ip"]], ""
    smtp = config["smtp"]
    if smtp["backend"] != "smtp":
        return [], f"smtp.backend is {smtp['backend']!r}: nothing is sent, so no relay to check"
    host = smtp["host"]
    try:
        ips = [str(ipaddress.ip_address(host))]
    except ValueError:
        ips = [] if host.lower() == "localhost" else addresses(res, host)
    if not ips or all(_internal(ip) for ip in ips):
        return [], (f"the relay {host} is this machine or a private address; set [doctor] relay_ip"
                    " to the public address mail leaves from to check SPF covers it")
    return ips, ""


#: addresses a relay has inside a network, never the one receivers see
_INTERNAL = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
    "::1/128", "fc00::/7", "fe80::/10")]


def _internal(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    return any(address.version == net.version and address in net for net in _INTERNAL)


def _mechanism(ip: str) -> str:
    return f"ip{ipaddress.ip_address(ip).version}:{ip}"


def check_spf(res: dns.resolver.Resolver, domain: str, config: Config) -> list[Finding]:
    """An SPF policy at the envelope sender's domain that authorises the relay."""
    ips, unknown = _relay(config, res)
    records = spf_records(res, domain)
    wanted = " ".join(_mechanism(ip) for ip in ips) or "ip4:<the public address your mail leaves from>"
    if not records:
        return [Finding("error", "spf", f'no SPF record at {domain}; add: {domain}. TXT "v=spf1 {wanted} ~all"')]
    if len(records) > 1:
        return [Finding("error", "spf", f"{domain} has {len(records)} SPF records, which receivers treat as an"
                        f" error; merge them into one TXT record: {' | '.join(records)}")]
    record = records[0]
    if record.split()[-1] in ("all", "+all"):
        return [Finding("error", "spf", f'{domain}: "{record}" lets any server send as you; end it with ~all or -all')]
    findings = [] if ips else [Finding("warning", "spf", f"SPF record at {domain} present; {unknown}")]
    for ip in ips:
        result = check_host(res, ip, domain)
        if result.result == "pass":
            findings.append(Finding("ok", "spf", f"{domain} authorises the relay {ip} ({result.reason})"))
            continue
        fixed = record.replace("v=spf1", f"v=spf1 {_mechanism(ip)}", 1)
        findings.append(Finding(
            "error", "spf",
            f"{domain} does not authorise the relay {ip} (SPF {result.result}: {result.reason});"
            f' replace its SPF record with: {domain}. TXT "{fixed}"',
        ))
    return findings


def _tags(record: str) -> dict[str, str]:
    """``k=v; k=v`` tag lists (DKIM, DMARC); names lower-cased, whitespace dropped."""
    tags = {}
    for part in record.split(";"):
        name, eq, value = part.partition("=")
        if eq:
            tags[name.strip().lower()] = "".join(value.split())
    return tags


def check_dkim(res: dns.resolver.Resolver, domain: str, selector: str) -> list[Finding]:
    """A usable DKIM public key at ``selector._domainkey.domain``."""
    if not selector:
        return [Finding("warning", "dkim", "set [doctor] dkim_selector to the selector your relay signs"
                        f" {domain} mail with, to check its key (Gmail and Yahoo want DKIM)")]
    name = f"{selector}._domainkey.{domain}"
    add = f'publish the key your relay signs with: {name}. TXT "v=DKIM1; k=rsa; p=<its public key, base64>"'
    records = [r for r in txt(res, name) if "p=" in r]
    if not records:
        return [Finding("error", "dkim", f"no DKIM key at {name}; {add}")]
    tags = _tags(records[0])
    if not tags.get("p"):
        return [Finding("error", "dkim", f"the DKIM key at {name} is revoked (empty p=); {add}")]
    try:
        der = base64.b64decode(tags["p"], validate=True)
        if tags.get("k", "rsa") == "ed25519":
            if len(der) != 32:
                raise ValueError("an ed25519 key is 32 bytes")
            return [Finding("ok", "dkim", f"ed25519 key at {name}")]
        key = load_der_public_key(der)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("not an RSA key")
    except (binascii.Error, ValueError) as exc:
        return [Finding("error", "dkim", f"the DKIM record at {name} holds no usable key ({exc}); {add}")]
    if key.key_size < 1024:
        return [Finding("error", "dkim", f"the key at {name} is {key.key_size} bits; receivers want at least"
                        f" 1024 (2048 is usual): make a new key and {add}")]
    return [Finding("ok", "dkim", f"{key.key_size}-bit RSA key at {name}")]


def check_dmarc(res: dns.resolver.Resolver, from_domain: str, envelope_domain: str,
                earlier: list[Finding]) -> list[Finding]:
    """A DMARC policy for the From domain, and SPF or DKIM aligned with it."""
    org = org_domain(from_domain)
    add = f'_dmarc.{org}. TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{org}"'
    for name in dict.fromkeys([f"_dmarc.{from_domain}", f"_dmarc.{org}"]):
        records = [r for r in txt(res, name) if r.replace(" ", "").lower().startswith("v=dmarc1")]
        if records:
            break
    else:
        return [Finding("error", "dmarc", f"no DMARC record for {from_domain}; add: {add}")]
    if len(records) > 1:
        return [Finding("error", "dmarc", f"{name} has {len(records)} DMARC records; keep one: {add}")]
    tags = _tags(records[0])
    if tags.get("p", "").lower() not in ("none", "quarantine", "reject"):
        return [Finding("error", "dmarc", f'{name}: "{records[0]}" has no valid p= policy; replace it with: {add}')]
    strict = tags.get("aspf", "r").lower() == "s"
    spf_aligned = (envelope_domain == from_domain) if strict else org_domain(envelope_domain) == org
    dkim_ok = any(f.rule == "dkim" and f.severity == "ok" for f in earlier)
    if not spf_aligned and not dkim_ok:
        return [Finding("error", "dmarc", f"mail cannot pass DMARC: the envelope sender domain {envelope_domain}"
                        f" is not aligned with the From domain {from_domain}"
                        f"{' (aspf=s)' if strict else ''} and no DKIM key is checked; set [bounces] address"
                        f" on {from_domain}, or publish DKIM for {from_domain} and set [doctor] dkim_selector")]
    how = " and ".join(x for x, ok in (("SPF", spf_aligned), ("DKIM", dkim_ok)) if ok)
    return [Finding("ok", "dmarc", f"p={tags['p'].lower()} at {name}; {how} aligned with {from_domain}")]


def check_https(config: Config) -> Finding:
    if config.base_url.startswith("https://"):
        return Finding("ok", "https", f"links and unsubscribe are on {config.base_url}")
    return Finding("error", "https", f"newsletter.base_url is {config.base_url}: one-click unsubscribe and"
                   " links must be https (Gmail, Yahoo); set it to the https address of this app")


def check_unsubscribe(config: Config) -> Finding:
    """The headers of a message as sent: List-Unsubscribe (https) and List-Unsubscribe-Post."""
    rendered = RenderedIssue(subject="doctor", preheader="", html="<p>doctor</p>", text="doctor")
    msg = email.message_from_bytes(sample_message(rendered, config), policy=compat32)
    link = str(msg.get("List-Unsubscribe", ""))
    post = str(msg.get("List-Unsubscribe-Post", ""))
    if post != "List-Unsubscribe=One-Click":
        return Finding("error", "unsubscribe", f"messages carry List-Unsubscribe-Post {post!r}, not"
                       " List-Unsubscribe=One-Click")
    if not link.startswith("<https://"):
        return Finding("error", "unsubscribe", "the List-Unsubscribe link in each message is not https,"
                       " so Gmail and Yahoo do not offer one-click unsubscribe (see https above)")
    return Finding("ok", "unsubscribe", "every message has one-click List-Unsubscribe (RFC 8058)")
