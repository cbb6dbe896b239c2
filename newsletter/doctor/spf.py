"""SPF (RFC 7208): does a domain's policy authorise an IP address?

Written here rather than taken from pyspf because that library resolves through a
process-wide resolver, and the checks must ask the resolver they are given (the configured
``[doctor] nameserver``; in tests, a DNS server on 127.0.0.1). Covers what real policies use:
``ip4``, ``ip6``, ``a``, ``mx``, ``include``, ``exists`` (without macros), ``all`` and
``redirect=``, qualifiers, the 10-lookup limit. A macro or ``ptr`` stops the evaluation with
``neutral`` and a reason ("cannot evaluate"): never a false pass.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.resolver

from .dns import addresses, mx_hosts, txt

MAX_LOOKUPS = 10
_QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


@dataclass(frozen=True)
class Result:
    result: str  # pass, fail, softfail, neutral, none, permerror
    reason: str


class _PermError(Exception):
    pass


def spf_records(res: dns.resolver.Resolver, domain: str) -> list[str]:
    """The TXT records at ``domain`` that are SPF policies."""
    return [r for r in txt(res, domain) if r.lower() == "v=spf1" or r.lower().startswith("v=spf1 ")]


def check_host(res: dns.resolver.Resolver, ip: str, domain: str) -> Result:
    """The SPF result for mail from ``domain`` sent by ``ip``."""
    try:
        return _check(res, ipaddress.ip_address(ip), domain, [0])
    except _PermError as exc:
        return Result("permerror", str(exc))


def _check(res, ip, domain: str, lookups: list[int]) -> Result:
    records = spf_records(res, domain)
    if not records:
        return Result("none", f"no SPF record at {domain}")
    if len(records) > 1:
        raise _PermError(f"{domain} has {len(records)} SPF records; there must be one")
    redirect = None
    for term in records[0].split()[1:]:
        if "=" in term.split(":")[0]:
            name, _, value = term.partition("=")
            if name.lower() == "redirect":
                redirect = value
            continue
        qualifier = _QUALIFIERS.get(term[0], None)
        mechanism = term[1:] if qualifier else term
        matched = _matches(res, ip, domain, mechanism, lookups)
        if matched is None:
            return Result("neutral", f"{domain}: cannot evaluate {term!r} here")
        if matched:
            return Result(qualifier or "pass", f"{domain}: {term}")
    if redirect:
        _count(lookups)
        inner = _check(res, ip, redirect, lookups)
        return Result("permerror", inner.reason) if inner.result == "none" else inner
    return Result("neutral", f"{domain}: no mechanism matches")


def _count(lookups: list[int]) -> None:
    lookups[0] += 1
    if lookups[0] > MAX_LOOKUPS:
        raise _PermError(f"more than {MAX_LOOKUPS} DNS lookups (include, a, mx, exists, redirect)")


def _split(spec: str, default: str) -> tuple[str, int | None, int | None]:
    """``domain/24//64`` -> (domain, 24, 64); the domain defaults to ``default``."""
    spec, _, cidr6 = spec.partition("//")
    spec, _, cidr4 = spec.partition("/")
    try:
        return (spec or default), (int(cidr4) if cidr4 else None), (int(cidr6) if cidr6 else None)
    except ValueError:
        raise _PermError(f"bad prefix length in {spec!r}") from None


def _in(ip, hosts: list[str], cidr4: int | None, cidr6: int | None) -> bool:
    """Whether ``ip`` is one of ``hosts``, or in the network of that prefix length around one."""
    for host in hosts:
        prefix = cidr6 if ":" in host else cidr4
        net = ipaddress.ip_network(host if prefix is None else f"{host}/{prefix}", strict=False)
        if ip.version == net.version and ip in net:
            return True
    return False


def _matches(res, ip, domain: str, mechanism: str, lookups: list[int]) -> bool | None:
    name, _, arg = mechanism.partition(":")
    name = name.lower()
    if "%" in arg:
        return None  # macros are not evaluated here
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        try:
            return ip in ipaddress.ip_network(arg, strict=False)
        except ValueError:
            raise _PermError(f"bad address {mechanism!r}") from None
    if name == "include":
        _count(lookups)
        inner = _check(res, ip, arg, lookups)
        if inner.result in ("none", "permerror"):
            raise _PermError(f"include:{arg}: {inner.reason}")
        return inner.result == "pass"
    head, _, cidr = name.partition("/")
    if head in ("a", "mx"):
        _count(lookups)
        target, cidr4, cidr6 = _split(arg + (f"/{cidr}" if cidr else ""), domain)
        hosts = addresses(res, target) if head == "a" else [
            a for mx in mx_hosts(res, target)[:10] for a in addresses(res, mx)
        ]
        return _in(ip, hosts, cidr4, cidr6)
    if name == "exists":
        _count(lookups)
        return bool(addresses(res, arg))
    if name == "ptr":
        return None
    raise _PermError(f"unknown mechanism {mechanism!r}")
