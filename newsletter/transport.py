"""Transports: where finished messages go. One interface, two backends.

``open_transport(config)`` gives an ``outbox`` (a Maildir on disk, nothing leaves the machine)
or ``smtp`` transport. ``send(envelope_from, rcpt, message)`` returns when the message was
accepted (for SMTP: the 250 reply to the final ``.``) or raises one of the errors below. SMTP
doubles a dot that starts a line of the message, unless the message is :class:`SmtpReady`
(what :class:`~newsletter.mail.MessageTemplate` hands over when no line starts with a dot).

- :class:`TemporaryFailure`: a 4xx reply (or 552) for this recipient; try again later.
- :class:`PermanentFailure`: a 5xx reply; this recipient will not get it.
- :class:`ConnectionLost`: 421 or a dropped connection *before* the final ``.``: the message
  was not accepted; the transport reconnects on the next ``send``. The message and its final
  ``.`` are sent apart, and the connection is looked at between the two (without waiting): a
  server that hung up, or spoke, in the middle of DATA never got the dot.
- :class:`Uncertain`: the connection died after the final ``.`` and before the reply: the
  server may or may not have accepted the message.
- :class:`~newsletter.errors.TransportError`: the server cannot be reached, TLS failed,
  login was refused, or it refuses our sender (a 5xx to ``MAIL FROM``, such as 530
  authentication required: no recipient's fault, and nobody would get the message) (exit 3).

Each transport object is used by one thread; open one per parallel connection.
"""
from __future__ import annotations

import os
import re
import select
import smtplib
import socket
import ssl
import time
from pathlib import Path
from typing import Protocol

from .config import Config
from .errors import TransportError
from .private_files import open_private, private_dir

#: a line of the message that starts with a dot, which SMTP needs doubled
_DOT_LINE = re.compile(rb"^\.", re.MULTILINE)
# an address with no spaces, controls, CR or LF
_SAFE_ADDRESS = re.compile(r"^[^\x00-\x20<>\x7f-\U0010ffff]+@[^\x00-\x20<>\x7f-\U0010ffff]+$")


class DeliveryError(Exception):
    """A message not (surely) delivered to one recipient; ``code`` is the SMTP reply or 0,
    ``step`` the command it answered (``RCPT TO``: the server refused the address itself)."""

    def __init__(self, code: int, message: str, step: str = ""):
        super().__init__(f"{code} {message}".strip() if code else message)
        self.code = code
        self.step = step


class TemporaryFailure(DeliveryError):
    pass


class PermanentFailure(DeliveryError):
    pass


class ConnectionLost(TemporaryFailure):
    pass


class Uncertain(DeliveryError):
    pass


class SmtpReady(bytes):
    """A message fit for SMTP ``DATA`` as it is: CRLF line ends, a CRLF at the end and no line
    that starts with a dot (:meth:`mail.MessageTemplate.personalize` makes them). The SMTP
    transport sends it without scanning it for dots to double; other bytes are scanned."""

    __slots__ = ()


class Transport(Protocol):
    """What a sender needs of a transport: ``send`` one message, ``close`` at the end."""

    def send(self, envelope_from: str, rcpt: str, message: bytes) -> None: ...

    def close(self) -> None: ...


class OutboxTransport:
    """Messages as files in a Maildir (``tmp/`` then renamed into ``new/``), LF line ends."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            for sub in ("tmp", "new", "cur"):
                private_dir(self.path / sub)
        except OSError as exc:
            raise TransportError(f"{self.path}: cannot create the outbox: {exc.strerror}") from None
        self._host = socket.gethostname().replace("/", "_").replace(":", "_")
        self._count = 0

    def send(self, envelope_from: str, rcpt: str, message: bytes) -> None:
        self._count += 1
        name = f"{time.time_ns()}.P{os.getpid()}Q{id(self)}_{self._count}.{self._host}"
        tmp = self.path / "tmp" / name
        data = b"Return-Path: <" + envelope_from.encode() + b">\n" + message.replace(b"\r\n", b"\n")
        try:
            with open_private(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(tmp, self.path / "new" / name)
        except OSError as exc:
            raise TransportError(f"{self.path}: cannot write to the outbox: {exc.strerror}") from None

    def close(self) -> None:
        pass


class SmtpTransport:
    """One reusable SMTP connection (smtplib), opened on first use and after a drop.

    ``security``: ``starttls`` (refuses a server that does not offer it), ``tls`` (implicit)
    or ``none``. Certificates are verified (``ssl.create_default_context``, plus ``ca_file``).
    """

    def __init__(self, config: Config):
        smtp = config["smtp"]
        self.host, self.port = smtp["host"], smtp["port"]
        self.security = smtp["security"]
        self.timeout = smtp["timeout"]
        self.username = smtp["username"]
        self.password = config.secret("smtp_password")
        self.ca_file = smtp["ca_file"]
        self.conn: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise TransportError(f"smtp.ca_file {self.ca_file}: cannot load: {exc}") from None

    def connect(self) -> None:
        """Open, secure and log in; TransportError on any failure (never falls back to plain)."""
        self.close()
        where = f"SMTP server {self.host}:{self.port}"
        conn: smtplib.SMTP | None = None
        try:
            if self.security == "tls":
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise TransportError(f"{where} does not offer STARTTLS; refusing to send in plain text")
                code, reply = conn.starttls(context=self._context())
                if code != 220:
                    raise TransportError(f"{where} refused STARTTLS: {code} {reply.decode(errors='replace')}")
                conn.ehlo()
            # the message's final dot goes out on its own, at once (no Nagle delay)
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.username:
                conn.login(self.username, self.password)
        except TransportError:
            _quiet_close(conn)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _quiet_close(conn)
            raise TransportError(f"{where} refused login for {self.username!r}: {exc.smtp_code}") from None
        except ssl.SSLError as exc:
            _quiet_close(conn)
            raise TransportError(f"{where}: TLS failed: {exc.reason or exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            _quiet_close(conn)
            raise TransportError(f"{where} cannot be reached: {exc or type(exc).__name__}") from None
        self.conn = conn

    def open(self) -> None:
        """Connect unless connected (TransportError when the server cannot be used)."""
        if self.conn is None:
            self.connect()

    def send(self, envelope_from: str, rcpt: str, message: bytes) -> None:
        if not _SAFE_ADDRESS.match(envelope_from) or not _SAFE_ADDRESS.match(rcpt):
            raise PermanentFailure(0, f"refusing to send to or from {rcpt!r}: not a plain address")
        self.open()
        conn = self.conn
        body = message
        if type(body) is not SmtpReady:  # (made ready once per issue: no scan of each message)
            if _DOT_LINE.search(body):  # (a regular expression finds it faster than ``in`` does)
                body = smtplib._quote_periods(body)
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
        try:
            if conn.has_extn("pipelining"):  # RFC 2920: MAIL, RCPT and DATA in one round trip
                conn.send(f"MAIL FROM:<{envelope_from}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode("ascii"))
                replies = [conn.getreply() for _ in range(3)]
                if replies[2][0] == 354 and not (replies[0][0] == replies[1][0] == 250):
                    conn.send(b".\r\n")  # a server that took DATA anyway: end the empty message
                    conn.getreply()
                self._check_sender(replies[0], envelope_from)
                self._check(replies[1], "RCPT TO")
                self._check(replies[2], "DATA", expect=354)
            else:
                self._check_sender(conn.mail(envelope_from), envelope_from)
                self._check(conn.rcpt(rcpt), "RCPT TO")
                conn.putcmd("data")
                self._check(conn.getreply(), "DATA", expect=354)
            conn.send(body)
            if _hung_up(conn.sock):
                raise ConnectionLost(0, "connection lost before the end of the message: the server hung up")
            conn.send(b".\r\n")
        except DeliveryError as exc:
            if isinstance(exc, ConnectionLost):
                self.close()
            else:
                self._reset()
            raise
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise ConnectionLost(0, f"connection lost before the end of the message: {exc}") from None
        try:
            reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise Uncertain(0, f"connection lost waiting for the reply to the message: {exc}") from None
        try:
            self._check(reply, "end of DATA")
        except ConnectionLost:
            self.close()
            raise

    def _check_sender(self, reply: tuple[int, bytes], envelope_from: str) -> None:
        code, text = reply
        if 500 <= code < 600:
            raise TransportError(
                f"SMTP server {self.host}:{self.port} refused the sender <{envelope_from}>: "
                f"{code} {text.decode('utf-8', errors='replace')}"
            )
        self._check(reply, "MAIL FROM")

    @staticmethod
    def _check(reply: tuple[int, bytes], step: str, expect: int | None = None) -> None:
        code, text = reply
        if (expect and code == expect) or (not expect and 200 <= code < 300):
            return
        detail = f"{step}: {text.decode('utf-8', errors='replace')}"
        if code == 421 or code == -1:
            raise ConnectionLost(code if code > 0 else 0, detail)
        if 500 <= code < 600 and code != 552:
            raise PermanentFailure(code, detail, step)
        raise TemporaryFailure(code, detail, step)

    def _reset(self) -> None:
        try:
            self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            _quiet_close(conn)


def _hung_up(sock: socket.socket) -> bool:
    """Whether the server has closed the connection, or said something, before the message's
    final dot (either way it will not accept it); looks without waiting."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    if not poller.poll(0) and not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
        return False
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        sock.recv(1)  # b"" (closed) or a reply before the dot: lost either way
        return True
    except (ssl.SSLWantReadError, BlockingIOError):
        return False  # a TLS record carrying no data
    except OSError:
        return True
    finally:
        sock.settimeout(timeout)


def _quiet_close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except OSError:
            pass


def open_transport(config: Config) -> Transport:
    """A new transport for ``config`` (``smtp.backend``); one per thread."""
    if config["smtp"]["backend"] == "smtp":
        return SmtpTransport(config)
    return OutboxTransport(config.outbox_path)
