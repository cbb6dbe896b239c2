"""Where bounce messages come from: files, stdin, a Maildir folder, an IMAP mailbox.

Each message is read (at most :data:`~.classify.MAX_BYTES`), classified and applied on its
own; one that cannot be read (too large, empty, a forged VERP token) is reported in one line
and changes nothing. From a mailbox, every message read - understood, kept, or refused - is
moved to ``[bounces] processed_folder`` (a Maildir++ subfolder, or an IMAP folder), never
deleted: the next run does not see it again, and nothing is lost.
"""
from __future__ import annotations

import imaplib
import os
import re
import sqlite3
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

from ..config import Config
from ..errors import ConfigError, InputError, TransportError
from ..private_files import private_dir
from .apply import Outcome, Rules, apply, signatures
from .classify import MAX_BYTES, Signatures, classify

IMAP_TIMEOUT = 60.0
#: a message from a mailbox: where it came from, and its bytes or why it could not be read
Message = tuple[str, "bytes | InputError"]


@dataclass
class Summary:
    """What a run did: one line per message, and how many could not be read."""

    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every message was read (understood or kept), 2 when one could not be."""
        return 2 if self.errors else 0


class Processor:
    """Classifies and applies messages against one database with the config's keys and rules."""

    def __init__(self, conn: sqlite3.Connection, config: Config):
        self.conn = conn
        self.signatures: Signatures = signatures(config)
        self.rules = Rules.from_config(config)
        self.summary = Summary()

    def handle(self, raw: bytes, source: str, envelope_to: str = "") -> Outcome | None:
        """Classify and apply one message; its line goes to the summary. None when unreadable."""
        try:
            reading = classify(raw, self.signatures, envelope_to)
        except InputError as exc:
            self.summary.errors.append(f"{source}: {exc}; nothing changed")
            return None
        outcome = apply(self.conn, reading, raw, rules=self.rules, source=source)
        self.summary.lines.append(f"{source}: {outcome.line}")
        self.summary.outcomes.append(outcome)
        return outcome

    def run(self, messages: Iterator[Message], envelope_to: str = "") -> Summary:
        """Handle each (source, bytes or the error that kept it from being read)."""
        for source, raw in messages:
            if isinstance(raw, InputError):
                self.summary.errors.append(f"{raw}; nothing changed")
            else:
                self.handle(raw, source, envelope_to)
        return self.summary


def read_limited(stream: BinaryIO, name: str) -> bytes:
    """Up to :data:`MAX_BYTES` from ``stream``; InputError when there is more or nothing."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InputError(f"{name}: message larger than {MAX_BYTES // 2**20} MB, not a bounce")
    if not data.strip():
        raise InputError(f"{name}: empty message")
    return data


def read_file(path: str | Path) -> bytes:
    """One message file; InputError naming it when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return read_limited(fh, str(path))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a message file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


# -- Maildir ------------------------------------------------------------------------------------


def _maildir_folder(root: Path, name: str) -> Path:
    """The Maildir++ subfolder ``.name`` of ``root``, created when missing."""
    folder = root / f".{name.strip('.').replace('/', '.')}"
    for sub in ("tmp", "new", "cur"):
        private_dir(folder / sub)  # bounces name subscribers: the owner's eyes only
    (folder / "maildirfolder").touch()
    return folder


def maildir_messages(root: str | Path, processed: str) -> Iterator[Message]:
    """Each message in ``root``'s new/ and cur/; once the consumer is done with one, it is
    moved (marked seen) to the ``processed`` subfolder."""
    root = Path(root)
    if not (root / "new").is_dir() or not (root / "cur").is_dir():
        raise ConfigError(f"bounces.maildir: {root} is not a Maildir (no new/ and cur/ folders)")
    target = _maildir_folder(root, processed)
    for path in sorted([*(root / "new").iterdir(), *(root / "cur").iterdir()]):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            raw: bytes | InputError = read_file(path)
        except InputError as exc:
            raw = exc
        yield f"maildir:{path.name}", raw
        base, _, flags = path.name.partition(":2,")
        os.replace(path, target / "cur" / f"{base}:2,{''.join(sorted(set(flags + 'S')))}")


# -- IMAP ---------------------------------------------------------------------------------------


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\") + '"'


def imap_messages(config: Config) -> Iterator[Message]:
    """Each message in ``[bounces] imap_folder`` over TLS (certificates verified); once the
    consumer is done with one, it is moved to ``processed_folder`` (MOVE, or COPY then
    delete that one message). TransportError when the server cannot be reached or refuses."""
    b = config["bounces"]
    where = f"{b['imap_host']}:{b['imap_port']}"
    try:
        context = ssl.create_default_context(cafile=b["imap_ca_file"] or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"bounces.imap_ca_file: cannot read {b['imap_ca_file']}: {exc}") from None
    try:
        imap = imaplib.IMAP4_SSL(b["imap_host"], b["imap_port"], ssl_context=context, timeout=IMAP_TIMEOUT)
    except (OSError, ssl.SSLError, imaplib.IMAP4.error) as exc:
        raise TransportError(f"IMAP {where}: cannot connect: {exc}") from None
    try:
        try:
            imap.login(b["imap_username"], config.secret("imap_password"))
        except imaplib.IMAP4.error as exc:
            raise TransportError(f"IMAP {where}: login refused for {b['imap_username']!r}: {_text(exc)}") from None
        yield from _imap_folder(imap, b["imap_folder"], b["processed_folder"], where)
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise TransportError(f"IMAP {where}: connection lost: {exc}") from None
    finally:
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _text(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else exc
    return arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)


def _check(where: str, what: str, reply: tuple) -> list:
    typ, data = reply
    if typ != "OK":
        raise TransportError(f"IMAP {where}: {what} failed: {_text(Exception(*(data or [b''])))}")
    return data


def _imap_folder(imap: imaplib.IMAP4, folder: str, processed: str, where: str) -> Iterator[Message]:
    _check(where, f"SELECT {folder}", imap.select(_quoted(folder)))
    imap.create(_quoted(processed))  # "already exists" is fine
    can_move = "MOVE" in imap.capabilities
    uids = _check(where, "SEARCH", imap.uid("SEARCH", None, "ALL"))[0].split()
    for uid in uids:
        uid = uid.decode()
        source = f"imap:{folder}/{uid}"
        size = _check(where, "FETCH size", imap.uid("FETCH", uid, "(RFC822.SIZE)"))
        match = re.search(rb"RFC822\.SIZE (\d+)", size[0] if isinstance(size[0], bytes) else b"")
        if match and int(match.group(1)) > MAX_BYTES:
            raw: bytes | InputError = InputError(
                f"{source}: message larger than {MAX_BYTES // 2**20} MB, not a bounce"
            )
        else:
            data = _check(where, "FETCH", imap.uid("FETCH", uid, "(BODY.PEEK[])"))
            raw = next((item[1] for item in data if isinstance(item, tuple)), b"")
            if not raw.strip():
                raw = InputError(f"{source}: empty message")
        yield source, raw
        if can_move:
            _check(where, "MOVE", imap.uid("MOVE", uid, _quoted(processed)))
        else:
            _check(where, "COPY", imap.uid("COPY", uid, _quoted(processed)))
            _check(where, "STORE", imap.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)"))
            imap.expunge()


def mailbox_configured(config: Config) -> bool:
    return bool(config["bounces"]["maildir"] or config["bounces"]["imap_host"])


def mailbox_messages(config: Config) -> Iterator[Message]:
    """The configured mailbox's messages (Maildir or IMAP); ConfigError when none is set."""
    b = config["bounces"]
    if b["maildir"]:
        return maildir_messages(b["maildir"], b["processed_folder"])
    if b["imap_host"]:
        return imap_messages(config)
    raise ConfigError("bounces fetch: no mailbox configured; set [bounces] maildir or imap_host")
