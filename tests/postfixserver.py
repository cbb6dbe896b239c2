"""A real Postfix for the tests: Debian's Postfix on 127.0.0.1 with a throwaway config.

``postfix_server(mailboxes)`` writes ``main.cf`` and ``master.cf`` in a fresh folder (its own
queue, data folder and log file; no chroot; the SMTP server on a free port of 127.0.0.1),
runs ``postfix -c DIR start`` and yields a :class:`Postfix`; ``postfix -c DIR stop`` and the
folder's removal follow. Every domain in ``mailboxes`` is a virtual mailbox domain: the
listed addresses get a Maildir (``Postfix.maildir(address)``); any other address there is
accepted over SMTP and then bounced by Postfix itself, with a real DSN to the envelope sender.
Postfix wants to start as root (its master process, queue ownership): the tests that use it
skip otherwise.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from helpers import free_port

POSTFIX = "/usr/sbin/postfix"
MAILBOX_OWNER = "nobody"

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


@dataclass
class Postfix:
    root: Path
    port: int
    mailboxes: dict[str, str]  # address -> Maildir folder under root/vmail

    def maildir(self, address: str) -> Path:
        return self.root / "vmail" / self.mailboxes[address]

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""


def _main_cf(root: Path, port: int, domains: list[str], owner: pwd.struct_passwd) -> str:
    return f"""\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.{domains[0]}
mydomain = {domains[0]}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
default_transport = error:outside mail is not delivered in tests
virtual_mailbox_domains = {' '.join(domains)}
virtual_mailbox_maps = texthash:{root}/mailboxes
virtual_mailbox_base = {root}/vmail
virtual_uid_maps = static:{owner.pw_uid}
virtual_gid_maps = static:{owner.pw_gid}
virtual_minimum_uid = 1
smtpd_reject_unlisted_recipient = no
recipient_delimiter = +
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
smtputf8_enable = no
biff = no
append_dot_mydomain = no
delay_warning_time = 0
smtpd_banner = $myhostname ESMTP
"""


@contextmanager
def postfix_server(addresses: list[str]):
    """Postfix with a Maildir for each of ``addresses`` (see module docstring)."""
    root = Path(tempfile.mkdtemp(prefix="newsletter-postfix-"))
    root.chmod(0o755)
    config = root / "etc"
    started = False
    try:
        config.mkdir()
        owner = pwd.getpwnam(MAILBOX_OWNER)
        domains = list(dict.fromkeys(a.rpartition("@")[2] for a in addresses))
        mailboxes = {a: f"{a.rpartition('@')[2]}/{a.partition('@')[0]}/" for a in addresses}
        (root / "mailboxes").write_text("".join(f"{a} {box}\n" for a, box in mailboxes.items()))
        for folder in ("queue", "data", "vmail"):
            (root / folder).mkdir()
        os.chown(root / "vmail", owner.pw_uid, owner.pw_gid)
        for attempt in range(5):  # Postfix is told its port: pick a free one, retry if it was taken
            port = free_port()
            (config / "main.cf").write_text(_main_cf(root, port, domains, owner))
            (config / "master.cf").write_text(MASTER_CF.format(port=port))
            if attempt == 0:
                subprocess.run([POSTFIX, "-c", str(config), "set-permissions"], check=True,
                               capture_output=True, timeout=60)
            subprocess.run([POSTFIX, "-c", str(config), "start"], check=True, capture_output=True, timeout=60)
            started = True
            try:
                _wait_for_port(port)
                break
            except RuntimeError:
                subprocess.run([POSTFIX, "-c", str(config), "stop"], capture_output=True, timeout=60)
                started = False
                if attempt == 4:
                    raise
        yield Postfix(root, port, mailboxes)
    finally:
        if started:
            subprocess.run([POSTFIX, "-c", str(config), "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_port(port: int, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"postfix did not listen on {port} within {limit} s")


def wait_for_messages(maildir: Path, count: int, limit: float = 60.0) -> list[Path]:
    """The messages in ``maildir``/new once there are ``count`` (bounded wait)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = sorted((maildir / "new").glob("*")) if (maildir / "new").is_dir() else []
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise TimeoutError(f"{maildir}: {count} messages expected within {limit} s")
