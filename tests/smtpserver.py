"""Real SMTP servers on 127.0.0.1 for the tests (aiosmtpd, in-process), with fault injection.

``Recorder`` keeps every message the server accepted (250 to the final ``.``) and can:
reply to MAIL FROM with a fixed code (``mail_reply``: ``"530 5.7.0 Authentication required"``),
reply to RCPT with a fixed code per recipient (``rcpt_replies``: ``{"a@x": "451 4.7.1 later"}``),
answer the end of a message with 421 and drop the connection (``drop_421_at``: message numbers),
drop the connection after the message without any reply (``drop_after_data``: recipients),
drop it in the middle of DATA, right after its 354 and before any of the message
(``drop_in_data``: recipients, every time), drop it right at RCPT (``drop_at_rcpt``:
recipients, once each), and wait ``delay`` seconds per message. ``silent_server()`` accepts TCP
connections and never says a word. ``tls_files()`` makes a throwaway CA and a certificate for
127.0.0.1 with trustme.
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class Recorder:
    mail_reply: str = ""
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    drop_421_at: set[int] = field(default_factory=set)
    drop_after_data: set[str] = field(default_factory=set)
    drop_at_rcpt: set[str] = field(default_factory=set)
    drop_in_data: set[str] = field(default_factory=set)
    delay: float = 0.0
    pipelining: bool = True  # advertise PIPELINING (aiosmtpd reads pipelined commands fine)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    data_count: int = 0

    def __post_init__(self):
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def wait_for_messages(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until the server has seen ``count`` messages end (DATA), or ``timeout``
        seconds: whether it did."""
        with self.changed:
            return self.changed.wait_for(lambda: self.data_count >= count, timeout)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.connections += 1
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.drop_at_rcpt:
            self.drop_at_rcpt.discard(address)
            server.transport.abort()
            return "421 dropped"
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.data_count += 1
            number = self.data_count
            self.changed.notify_all()
        if number in self.drop_421_at:
            server.transport.write(b"421 4.3.2 Service shutting down\r\n")
            server.transport.close()
            return "421 4.3.2 Service shutting down"
        if set(envelope.rcpt_tos) & self.drop_after_data:
            server.transport.abort()
            return "451 dropped"
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content),
                         server.transport.get_extra_info("ssl_object") is not None)
            )
        return "250 OK queued"

    def recipients(self) -> list[str]:
        with self.lock:
            return [rcpt for r in self.received for rcpt in r.rcpt_tos]


class _FaultySMTP(SMTP):
    """aiosmtpd's server, able to drop a connection in the middle of DATA (``drop_in_data``)."""

    async def smtp_DATA(self, arg: str) -> None:
        handler = self.event_handler
        if self.envelope is None or not set(self.envelope.rcpt_tos) & handler.drop_in_data:
            return await super().smtp_DATA(arg)
        sock = self.transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)  # hold the 354 ...
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        sock.shutdown(socket.SHUT_WR)  # ... so that it leaves with the FIN, in one segment
        self.transport.close()  # and never read the message


class _Controller(Controller):
    """Listens on port 0 (the kernel picks a free port; no bind-release-rebind race) and
    reports the port it got as ``port``."""

    def factory(self):
        return _FaultySMTP(self.handler, **self.SMTP_kwargs)

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        if self.ssl_context is None:  # the stock check wraps TLS with the server's own context
            return super()._trigger_server()
        client = ssl.create_default_context()
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        with socket.create_connection((self.hostname, self.port), 5) as raw:
            with client.wrap_socket(raw) as s:
                s.recv(1024)


@contextmanager
def smtp_server(handler: Recorder | None = None, *, tls_context=None, starttls_context=None):
    """A running server on 127.0.0.1: yields (port, handler).

    ``tls_context``: implicit TLS; ``starttls_context``: offers (and requires) STARTTLS.
    """
    handler = handler or Recorder()
    kwargs = {}
    if starttls_context is not None:
        kwargs.update(tls_context=starttls_context, require_starttls=True)
    controller = _Controller(
        handler, hostname="127.0.0.1", port=0, ssl_context=tls_context, ready_timeout=10, **kwargs
    )
    controller.start()
    port = controller.port
    try:
        yield port, handler
    finally:
        controller.stop()


@contextmanager
def silent_server():
    """A TCP port that accepts connections (the kernel does) and never answers: yields port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield s.getsockname()[1]


@dataclass
class TlsFiles:
    ca_file: Path
    server_context: ssl.SSLContext


def tls_files(folder: Path) -> TlsFiles:
    """A throwaway CA (PEM written to ``folder``) and a server context for 127.0.0.1."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    path = folder / "test-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return TlsFiles(path, context)


__all__ = ["Recorder", "Received", "smtp_server", "silent_server", "tls_files"]
