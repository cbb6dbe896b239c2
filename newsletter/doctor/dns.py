"""DNS lookups for the sender-domain checks, through dnspython with one explicit resolver."""
from __future__ import annotations

import dns.exception
import dns.resolver

from ..errors import ConfigError

TIMEOUT = 5.0


class LookupFailed(Exception):
    """The DNS did not answer (timeout, SERVFAIL): the check cannot say yes or no."""


def resolver(nameserver: str = "") -> dns.resolver.Resolver:
    """The system's resolver, or one asking only ``nameserver`` ("IP" or "IP:PORT")."""
    if not nameserver:
        try:
            res = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise ConfigError("doctor: no DNS resolver configured here; set [doctor] nameserver") from None
    else:  # checked by the config: "IP" or "IP:PORT"
        host, port = nameserver.rsplit(":", 1) if nameserver.count(":") == 1 else (nameserver, "53")
        res = dns.resolver.Resolver(configure=False)
        res.nameservers = [host]
        res.port = int(port)
    res.lifetime = res.timeout = TIMEOUT
    return res


def _answer(res: dns.resolver.Resolver, name: str, rdtype: str):
    try:
        return res.resolve(name, rdtype, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout) as exc:
        raise LookupFailed(f"{name} {rdtype}: {exc.__class__.__name__}") from None
    except dns.exception.DNSException as exc:
        raise LookupFailed(f"{name} {rdtype}: {exc}") from None


def txt(res: dns.resolver.Resolver, name: str) -> list[str]:
    """The TXT records at ``name``, each one's strings joined; [] when there are none."""
    return [b"".join(r.strings).decode("utf-8", "replace") for r in _answer(res, name, "TXT")]


def addresses(res: dns.resolver.Resolver, name: str) -> list[str]:
    """The IPv4 and IPv6 addresses of ``name``."""
    return [r.address for rdtype in ("A", "AAAA") for r in _answer(res, name, rdtype)]


def mx_hosts(res: dns.resolver.Resolver, name: str) -> list[str]:
    return [str(r.exchange).rstrip(".") for r in _answer(res, name, "MX")]
