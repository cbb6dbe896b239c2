"""A real DNS server for the tests: dnslib's, in-process on 127.0.0.1, port 0.

``dns_server(records)`` serves ``{(name, type): [value, ...]}`` (types A, AAAA, MX, TXT; a
TXT value may be a list of strings, as a long DKIM key is) over UDP and TCP, answers NXDOMAIN
for names it does not know, and yields "127.0.0.1:PORT" for ``[doctor] nameserver``.
"""
from __future__ import annotations

from contextlib import contextmanager

from dnslib import AAAA, MX, QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

_RDATA = {"A": A, "AAAA": AAAA, "MX": lambda v: MX(v), "TXT": lambda v: TXT(v if isinstance(v, list) else [v])}


class Records(BaseResolver):
    def __init__(self, records: dict[tuple[str, str], list]):
        self.records = {(name.rstrip(".").lower(), rtype): values for (name, rtype), values in records.items()}
        self.names = {name for name, _ in self.records}

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        rtype = QTYPE[request.q.qtype]
        for value in self.records.get((name, rtype), []):
            reply.add_answer(RR(request.q.qname, request.q.qtype, rdata=_RDATA[rtype](value), ttl=60))
        if name not in self.names:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@contextmanager
def dns_server(records: dict[tuple[str, str], list]):
    resolver = Records(records)
    quiet = DNSLogger(logf=lambda *args: None)
    for _ in range(20):  # the TCP port must match the UDP one the kernel picked: retry on a clash
        udp = DNSServer(resolver, port=0, address="127.0.0.1", logger=quiet)
        port = udp.server.server_address[1]
        try:
            tcp = DNSServer(resolver, port=port, address="127.0.0.1", tcp=True, logger=quiet)
            break
        except OSError:
            udp.server.server_close()
    else:
        raise RuntimeError("no port free for both UDP and TCP")
    udp.start_thread()
    tcp.start_thread()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        udp.stop()
        tcp.stop()
        udp.server.server_close()
        tcp.server.server_close()
