"""The rules on a whole message: MIME structure, headers, line length, then both parts.

Every rule here is an error, except a List-Unsubscribe URL over http (a warning: fine in
development).
"""
from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import re
from email.message import Message

from ..config import Config
from ..errors import InputError
from ..mail_input import read_message
from .content_rules import similarity_rules, text_part_rules
from .findings import Finding, report
from .html_rules import html_findings

#: RFC 5322: no line longer than this many characters (without CRLF)
MAX_LINE = 998
REQUIRED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID")
_MESSAGE_ID = re.compile(r"<[^\s<>@\"]+@[^\s<>@\"]+>")
_ADDRESS = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+")


def check_message(raw: bytes, *, config: Config | None = None) -> list[Finding]:
    """Findings for a whole message: MIME structure, headers, lines, both parts and the HTML."""
    try:
        msg = read_message(raw)
    except InputError as exc:  # nested too deeply for the parser
        return [Finding("error", "multipart-alternative", str(exc))]
    findings = _line_rules(raw) + _header_rules(msg, raw)
    text_part, html_part, structure = _parts(msg)
    if structure:
        findings.append(Finding("error", "multipart-alternative", structure))
    html = _decode(html_part) if html_part is not None else None
    text = _decode(text_part) if text_part is not None else None
    if html is not None:
        found, visible = html_findings(html, config)
        findings += found
    if text is not None:
        findings += text_part_rules(text, config)
    if html is not None and text is not None:
        findings += similarity_rules(visible, text)
    return report(findings)


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _parts(msg: Message) -> tuple[Message | None, Message | None, str]:
    """(text/plain part, text/html part, what is wrong with the structure or "")."""
    leaves = [p for p in msg.walk() if not p.is_multipart()]
    text = next((p for p in leaves if p.get_content_type() == "text/plain"), None)
    html = next((p for p in leaves if p.get_content_type() == "text/html"), None)
    ctype = msg.get_content_type()
    if ctype != "multipart/alternative":
        return text, html, (f"The message is {ctype}, not multipart/alternative with a plain-text "
                            "and an HTML part: spam filters distrust HTML-only mail and some "
                            "readers only see text.")
    payload = msg.get_payload()
    kinds = [p.get_content_type() for p in payload] if isinstance(payload, list) else []
    if kinds[:2] != ["text/plain", "text/html"]:
        return text, html, (f"The alternative parts are {', '.join(kinds) or 'missing'}: they "
                            "must be text/plain then text/html, so clients pick the HTML and "
                            "fall back to the text.")
    return text, html, ""


def _line_rules(raw: bytes) -> list[Finding]:
    long_lines = [i for i, line in enumerate(raw.split(b"\n"), 1)
                  if len(line.rstrip(b"\r")) > MAX_LINE]
    if long_lines:
        return [Finding("error", "line-length",
                        f"{len(long_lines)} line(s) are longer than 998 characters (first: line "
                        f"{long_lines[0]}): mail servers may break or reject the message.")]
    return []


def _header_rules(msg: Message, raw: bytes) -> list[Finding]:
    return (_newline_rules(msg, raw) + _required_header_rules(msg) + _date_rules(msg)
            + _message_id_rules(msg) + _from_rules(msg) + _unsubscribe_header_rules(msg))


def _required_header_rules(msg: Message) -> list[Finding]:
    out = []
    for name in REQUIRED_HEADERS:
        n = len(msg.get_all(name) or [])
        if n != 1:
            out.append(Finding("error", "required-header",
                               f"The {name} header appears {n} times: every message needs it "
                               "exactly once, or servers reject or mangle it."))
    return out


def _date_rules(msg: Message) -> list[Finding]:
    """A single Date header must parse (a missing or repeated one is a required-header finding)."""
    dates = msg.get_all("Date") or []
    if len(dates) != 1:
        return []
    date = dates[0]
    try:
        if email.utils.parsedate_to_datetime(_unfold(date)) is None:
            raise ValueError
    except (TypeError, ValueError, IndexError):
        return [Finding("error", "date",
                        f"The Date header ({_unfold(date)[:40]}) is not a valid RFC 5322 "
                        "date: spam filters count that against the message.")]
    return []


def _message_id_rules(msg: Message) -> list[Finding]:
    mid = msg.get("Message-ID")
    if mid is not None and not _MESSAGE_ID.fullmatch(_unfold(mid).strip()):
        return [Finding("error", "message-id",
                        f"The Message-ID {_unfold(mid).strip()[:60]!r} is not of the form "
                        "<unique@domain>: spam filters count that against the message.")]
    return []


def _from_rules(msg: Message) -> list[Finding]:
    sender = msg.get("From")
    if sender is None:
        return []
    addresses = [a for _name, a in email.utils.getaddresses([_decoded_header(sender)]) if a]
    if len(addresses) != 1 or not _ADDRESS.fullmatch(addresses[0]):
        return [Finding("error", "from-address",
                        f"From must hold exactly one valid address; it holds "
                        f"{', '.join(addresses) or 'none'}.")]
    return []


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", str(value))


def _decoded_header(value: str) -> str:
    pieces = []
    for chunk, charset in email.header.decode_header(_unfold(value)):
        if isinstance(chunk, bytes):
            try:
                chunk = chunk.decode(charset or "ascii", "replace")
            except LookupError:
                chunk = chunk.decode("utf-8", "replace")
        pieces.append(chunk)
    return "".join(pieces)


def _newline_rules(msg: Message, raw: bytes) -> list[Finding]:
    """A CR or LF where it does not end a header line: how header injection works."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    crlf = head.count(b"\r\n")
    lf = head.count(b"\n") - crlf
    stray = head.count(b"\r") - crlf if crlf >= lf else head.count(b"\r")
    if crlf >= lf and lf and crlf:
        stray += lf
    bad = [name for name, value in msg.items() if re.search(r"[\r\n\0]", _decoded_header(value))]
    if any(isinstance(d, (email.errors.MissingHeaderBodySeparatorDefect,
                          email.errors.InvalidHeaderDefect)) for d in msg.defects):
        bad.append("(a broken header line)")
    if stray or bad:
        where = ", ".join(dict.fromkeys(bad)) or "the header block"
        return [Finding("error", "header-newline",
                        f"A line break is hidden in {where}: that is how header injection "
                        "works, and servers reject or misread such messages.")]
    return []


def _unsubscribe_header_rules(msg: Message) -> list[Finding]:
    """One-click unsubscribe (RFC 8058), which Gmail and Yahoo require of bulk senders."""
    out = []
    value = msg.get_all("List-Unsubscribe") or []
    urls = re.findall(r"<([^>]*)>", _unfold(value[0])) if value else []
    web = [u for u in urls if u.lower().startswith(("https://", "http://"))]
    if not web:
        out.append(Finding("error", "list-unsubscribe",
                           "No List-Unsubscribe header with an https:// URL: Gmail and Yahoo "
                           "require one-click unsubscribe from bulk senders."))
    elif not any(u.lower().startswith("https://") for u in web):
        out.append(Finding("warning", "list-unsubscribe",
                           f"The List-Unsubscribe URL {web[0][:60]} is not https: fine in "
                           "development, but Gmail and Yahoo expect https (set base_url)."))
    posts = [_unfold(v).strip() for v in msg.get_all("List-Unsubscribe-Post") or []]
    if posts != ["List-Unsubscribe=One-Click"]:
        out.append(Finding("error", "list-unsubscribe-post",
                           "The message needs exactly one 'List-Unsubscribe-Post: "
                           "List-Unsubscribe=One-Click' header for one-click unsubscribe "
                           f"(found: {'; '.join(posts) or 'none'})."))
    return out

