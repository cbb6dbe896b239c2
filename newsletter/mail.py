"""Messages: the MIME of an issue assembled once, personal values spliced in per recipient.

:class:`MessageTemplate` builds the headers and the ``multipart/alternative`` body
(text/plain then text/html, UTF-8, quoted-printable) once per issue. The rendered issue holds
placeholder tokens (:data:`compose.TOKENS`); the body is cut at every token and each literal
piece is encoded on its own, so a quoted-printable soft line break can never split a token.
Per recipient, :meth:`MessageTemplate.personalize` encodes only the personal values (name,
address, unsubscribe, preferences and web view links) and joins bytes: no ``email.message`` per recipient.

Every header value from content or config is checked by :func:`check_header`: CR, LF, NUL,
other control characters, U+0085/U+2028/U+2029 and RFC 2047 encoded words that decode to
any of them are refused with a :class:`HeaderError` naming the header.

The quoted-printable parts never start a line with a dot, so a message normally needs no SMTP
dot-stuffing: the issue's fixed bytes are checked once, each recipient's values as they are
spliced in, and a message found clean is handed over as :class:`~newsletter.transport.SmtpReady`
(sent without a scan); any other is scanned and stuffed by the transport as usual.
"""
from __future__ import annotations

import hashlib
import ipaddress
import re
from binascii import b2a_qp
from datetime import datetime, timezone
from email.errors import HeaderParseError
from email.header import Header, decode_header
from email.utils import format_datetime, make_msgid, parseaddr
from html import escape
from typing import Callable
from urllib.parse import urlsplit

from . import urls
from .bounces.verp import Verp
from .compose import TOKENS, RenderedIssue
from .config import Config
from .errors import HeaderError
from .signing import secret_keys, subscriber_signer
from .transport import SmtpReady

#: characters no header value may carry: C0 controls but TAB, DEL, NEL and Unicode line breaks
FORBIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[^?\s]*\?[^?\s]*\?=")
_TOKEN_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in TOKENS.values()) + ")")
_KEY_OF_TOKEN = {token: key for key, token in TOKENS.items()}
_ATEXT_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$")
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")
SAMPLE = (0, "subscriber@example.com", "Sample Subscriber", "sample")  # previews, compose, check
TEST_PREFIX = "[TEST] "


def check_header(name: str, value: str) -> str:
    """``value`` with its whitespace runs made single spaces; HeaderError if it could inject."""
    bad = FORBIDDEN.search(value)
    if bad:
        raise HeaderError(
            f"{name}: header value contains a control character or line break "
            f"(U+{ord(bad.group()):04X}): {value[:60]!r}"
        )
    for word in ENCODED_WORD.findall(value):
        try:
            decoded = "".join(
                part.decode(charset or "ascii", errors="strict") if isinstance(part, bytes) else part
                for part, charset in decode_header(word)
            )
        except (HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
            raise HeaderError(f"{name}: header value has a malformed encoded word {word!r}") from None
        if FORBIDDEN.search(decoded):
            raise HeaderError(
                f"{name}: header value has an encoded word that decodes to a line break or "
                f"control character: {word!r}"
            )
    return " ".join(value.split())


def _unstructured(name: str, value: str) -> bytes:
    """``name: value`` folded at 78 (encoded words unless plain ASCII), CRLF, checked."""
    plain = _PRINTABLE_ASCII.match(value) and "=?" not in value
    if plain and all(len(word) < 900 for word in value.split()):
        folded = Header(value, "us-ascii", header_name=name).encode(maxlinelen=78, linesep="\r\n")
    else:
        folded = Header(value, "utf-8", header_name=name).encode(maxlinelen=78, linesep="\r\n")
    lines = f"{name}: {folded}".split("\r\n")
    if any(len(line) > 998 or (i and line[:1] not in (" ", "\t")) for i, line in enumerate(lines)):
        raise HeaderError(f"{name}: header value cannot be written safely: {value[:60]!r}")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


_ADDR_SPEC = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _mailbox(name: str, display: str, addr_spec: str) -> str:
    """``Display <addr>`` for a header; HeaderError unless ``addr_spec`` is a plain address."""
    if not _ADDR_SPEC.match(addr_spec):
        raise HeaderError(f"{name}: not a plain email address: {addr_spec!r}")
    return f"{_phrase(display)} <{addr_spec}>" if display else f"<{addr_spec}>"


def sender_address(config: Config) -> tuple[str, str]:
    """(display name, address) of ``newsletter.sender``, both checked."""
    raw = check_header("newsletter.sender", config["newsletter"]["sender"])
    display, addr = parseaddr(raw)
    if "@" not in addr:
        raise HeaderError(f"newsletter.sender: no email address in {raw!r}")
    return check_header("newsletter.sender", display), addr


def contact_address(config: Config) -> str:
    """Who a reader writes to: the Reply-To address when set, else the sender's."""
    reply_to = parseaddr(check_header("newsletter.reply_to", config["newsletter"]["reply_to"]))[1]
    return reply_to or sender_address(config)[1]


def list_id(config: Config) -> str:
    """The list's identifier (RFC 2919): ``newsletter.list_id``, else derived from the
    newsletter's name and ``base_url``'s host (``the-newsletter.news.example.org``), never
    from the sender, so changing the sender keeps subscribers' filters working."""
    if config["newsletter"]["list_id"]:
        return config["newsletter"]["list_id"]
    label = re.sub(r"[^a-z0-9]+", "-", config["newsletter"]["name"].lower()).strip("-") or "newsletter"
    host = (urlsplit(config.base_url).hostname or "").lower()
    try:
        ipaddress.ip_address(host)
        host = "localhost"  # RFC 2919's namespace for a list without a domain
    except ValueError:
        pass
    host = host.encode("idna").decode("ascii") if host else "localhost"
    return f"{label[:60].strip('-')}.{host}"


def message_ids(config: Config) -> Callable[[int, int], str]:
    """A function (issue id, subscriber id) -> that delivery's Message-ID: the same for the
    same issue and subscriber, every time."""
    domain = sender_address(config)[1].rpartition("@")[2]
    base = config.base_url

    def make(issue_id: int, subscriber_id: int) -> str:
        digest = hashlib.sha256(f"{base}|{issue_id}|{subscriber_id}".encode()).hexdigest()
        return f"<issue-{issue_id}.sub-{subscriber_id}.{digest[:12]}@{domain}>"

    return make


def _qp(data: str) -> bytes:
    """Quoted-printable with CRLF line ends, lines of at most 76 characters, and no line that
    starts with a dot (written ``=2E``), so the message needs no SMTP dot-stuffing."""
    data = data.replace("\r\n", "\n").replace("\r", "\n")
    encoded = b2a_qp(data.encode("utf-8"), istext=True).replace(b"\n.", b"\n=2E")
    if encoded.startswith(b"."):
        encoded = b"=2E" + encoded[1:]
    return encoded.replace(b"\n", b"\r\n")


def _open_end(encoded: bytes) -> bytes:
    """``encoded`` closed with a soft line break, its last line kept within 76 characters."""
    if encoded.endswith(b"\n"):
        return encoded
    head, newline, last = encoded.rpartition(b"\n")
    if len(last) > 75:
        cut = 75
        while b"=" in last[cut - 2:cut]:  # never inside an =XX escape
            cut -= 1
        last = last[:cut] + b"=\r\n" + last[cut:]
    return head + newline + last + b"=\r\n"


def _compile_part(body: str) -> list[bytes | str]:
    """A body cut at its tokens: encoded literal pieces (bytes) and token keys (str).

    Each literal piece is encoded alone and, unless it ends a line, closed with a soft line
    break, so every personal value starts at column 0 and no soft break falls inside a token.
    """
    pieces: list[bytes | str] = []
    for i, piece in enumerate(_TOKEN_SPLIT.split(body)):
        if i % 2:
            pieces.append(_KEY_OF_TOKEN[piece])
        elif piece:
            pieces.append(_open_end(_qp(piece)))
    return pieces


def _value_qp(value: str) -> bytes:
    return _open_end(_qp(value)) if value else b""


def _phrase(name: str) -> str:
    """A display name as an RFC 5322 phrase: atoms, a quoted string or encoded words.

    A name holding ``=?`` is always written as encoded words of its own: left as it is, a mail
    reader would decode ``=?UTF-8?Q?=0A?=`` in it into a line break (even inside quotes).
    """
    if "=?" not in name:
        if _ATEXT_NAME.match(name):
            return name
        if _PRINTABLE_ASCII.match(name):
            return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return Header(name, "utf-8").encode(maxlinelen=76).replace("\n", "\r\n")


def _dot_free(piece: bytes) -> bool:
    """Whether no line of ``piece`` (nor ``piece`` itself, wherever it is put) starts with a dot."""
    return not piece.startswith(b".") and b"\n." not in piece


def _recipient_header(email: str, name: str) -> bytes:
    """``To:`` for one subscriber; names are data, so control characters become spaces."""
    name = " ".join(FORBIDDEN.sub(" ", name).split())[:200]
    return f"To: {_mailbox('To', name, email)}\r\n".encode("ascii")


class MessageTemplate:
    """One issue's message, assembled once; :meth:`personalize` gives each recipient's bytes.

    ``issue_id`` None (a preview, a test send or a subscription notice) uses a random
    Message-ID per message; ``test`` prefixes the subject with ``[TEST] ``; ``test_token`` (a
    test copy's, see :func:`signing.test_token`) makes its links those of a test copy.
    """

    def __init__(
        self,
        rendered: RenderedIssue,
        config: Config,
        issue_id: int | None = None,
        test: bool = False,
        date: datetime | None = None,
        test_token: str = "",
    ):
        self.config = config
        self.issue_id = issue_id
        self.test = test or bool(test_token)
        self.test_token = test_token
        nl = config["newsletter"]
        display, self.envelope_from = sender_address(config)
        from_name = check_header("newsletter.name", nl["name"]) or display
        subject = check_header("Subject", rendered.subject)
        self.subject = TEST_PREFIX + subject if self.test else subject
        self.domain = self.envelope_from.rpartition("@")[2]
        self._message_id = message_ids(config)
        self._sign = subscriber_signer(config, "unsubscribe")
        bounces = config["bounces"]["address"]
        self._verp = Verp(bounces, tuple(secret_keys(config))) if bounces else None
        self._sign_preferences = subscriber_signer(config, "preferences")
        if not _PRINTABLE_ASCII.match(check_header("newsletter.base_url", config.base_url)):
            raise HeaderError("newsletter.base_url: must be ASCII (write an international domain in punycode)")
        moment = date or datetime.now(timezone.utc)

        head = [f"From: {_mailbox('newsletter.sender', from_name, self.envelope_from)}\r\n".encode()]
        reply_to = check_header("newsletter.reply_to", nl["reply_to"])
        if reply_to:
            r_display, r_addr = parseaddr(reply_to)
            head.append(f"Reply-To: {_mailbox('newsletter.reply_to', r_display, r_addr)}\r\n".encode())
        self._head = b"".join(head)
        self._middle = _unstructured("Subject", self.subject) + f"Date: {format_datetime(moment)}\r\n".encode()
        self._list_id = f"List-Id: {_phrase(from_name)} <{list_id(config)}>\r\n".encode()
        boundary = "==nl_" + hashlib.sha256(
            f"{issue_id}|{rendered.subject}|{len(rendered.html)}".encode()
        ).hexdigest()[:24]
        self._tail_head = (
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
            b"MIME-Version: 1.0\r\n"
            + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()
        )
        part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        self._text = [f"--{boundary}\r\n{part.format('plain')}".encode(), *_compile_part(rendered.text)]
        self._html = [
            f"\r\n--{boundary}\r\n{part.format('html')}".encode(),
            *_compile_part(rendered.html),
            f"\r\n--{boundary}--\r\n".encode(),
        ]
        self._keys = {p for p in self._text + self._html if isinstance(p, str)}  # tokens in use
        fixed = [self._head, self._middle, self._list_id, self._tail_head, *self._text, *self._html]
        self._dot_free = all(_dot_free(p) for p in fixed if isinstance(p, bytes))  # checked once per issue

    def envelope(self, subscriber_id: int) -> str:
        """The envelope sender (Return-Path) of one recipient's message: with ``[bounces]
        address`` set, ``bounces+TOKEN@domain`` naming issue and subscriber (a test copy: the
        bounce address itself); else the sender address."""
        if self._verp is None:
            return self.envelope_from
        if self.issue_id is None or self.test:
            return self._verp.base
        return self._verp.address(self.issue_id, subscriber_id)

    def message_id(self, subscriber_id: int) -> str:
        if self.issue_id is None or self.test:
            return make_msgid(domain=self.domain)
        return self._message_id(self.issue_id, subscriber_id)

    def recipient_values(self, email: str, name: str = "", key: str = "") -> dict[str, str]:
        """One recipient's values for the placeholders (see ``compose.TOKENS``); ``key`` is
        the subscriber's random key, which their links carry (signed) instead of the address.
        A test copy's links carry its test token instead, and lead to pages that say so."""
        if self.test_token:
            return {
                "name": name,
                "email": email,
                "unsubscribe_url": urls.unsubscribe_url(self.config, self.test_token),
                "preferences_url": urls.preferences_url(self.config, self.test_token),
                "webview_url": urls.test_view_url(self.config, self.test_token),
            }
        token = self._sign(key)
        return {
            "name": name,
            "email": email,
            "unsubscribe_url": urls.unsubscribe_url(self.config, token),
            "preferences_url": urls.preferences_url(self.config, self._sign_preferences(key)),
            "webview_url": urls.webview_url(self.config, self.issue_id, token),
        }

    def personalize(self, subscriber_id: int, email: str, name: str = "", key: str = "") -> bytes:
        """The whole message for one recipient, CRLF line ends: :class:`SmtpReady` when no
        line of it starts with a dot (its fixed bytes were checked once, its personal ones
        are checked here), so that the SMTP transport need not scan it."""
        values = self.recipient_values(email, name, key)
        unsubscribe = values["unsubscribe_url"]
        text, html = {}, {}
        for key in self._keys:
            value = values[key]
            text[key] = _value_qp(value)
            escaped = escape(value, quote=True)
            html[key] = text[key] if escaped == value else _value_qp(escaped)
        to = _recipient_header(email, name)
        message_id = b"Message-ID: " + self.message_id(subscriber_id).encode("ascii") + b"\r\n"
        list_unsubscribe = b"List-Unsubscribe: <" + unsubscribe.encode("ascii") + b">\r\n"
        message = b"".join(
            [
                self._head,
                to,
                self._middle,
                message_id,
                self._list_id,
                list_unsubscribe,
                self._tail_head,
                *[text[p] if isinstance(p, str) else p for p in self._text],
                *[html[p] if isinstance(p, str) else p for p in self._html],
            ]
        )
        if (self._dot_free and _dot_free(to) and _dot_free(message_id) and _dot_free(list_unsubscribe)
                and all(_dot_free(v) for v in text.values()) and all(_dot_free(v) for v in html.values())):
            return SmtpReady(message)
        return message

    def sample(self) -> bytes:
        """The message as a sample subscriber would get it (previews and ``compose`` .eml)."""
        return self.personalize(*SAMPLE)


def sample_message(rendered: RenderedIssue, config: Config, issue_id: int | None = None) -> bytes:
    """The full message of ``rendered`` for a sample subscriber."""
    return MessageTemplate(rendered, config, issue_id).sample()
