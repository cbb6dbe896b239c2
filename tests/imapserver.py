"""A real IMAP server for the tests: Debian's Dovecot on 127.0.0.1, TLS with a trustme CA.

``dovecot_server()`` writes a throwaway config in a fresh folder (its own base, state and mail
folders, one user in a passwd-file), starts ``dovecot -F`` on a free port and yields a
:class:`Server` once the port answers; the process is stopped and the folder removed after.
Run as root, Dovecot's own unprivileged users serve (login processes refuse root, and so does
mail access); otherwise everything runs as the current user.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme

from helpers import free_port

DOVECOT = "/usr/sbin/dovecot"


@dataclass
class Server:
    host: str
    port: int
    ca_file: Path
    user: str
    password: str

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def _users() -> tuple[str, str, pwd.struct_passwd]:
    """(internal user, login user, mail user) for Dovecot's processes."""
    me = pwd.getpwuid(os.getuid())
    if os.getuid() != 0:
        return me.pw_name, me.pw_name, me
    return "dovecot", "dovenull", pwd.getpwnam("dovecot")


def _config(root: Path, port: int) -> str:
    internal, login, mail = _users()
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {mail.pw_uid}
mail_location = maildir:{root}/mail/%u
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on {port} within {limit} s")


@contextmanager
def dovecot_server(user: str = "bounces", password: str = "imap-secret"):
    root = Path(tempfile.mkdtemp(prefix="newsletter-dovecot-"))
    root.chmod(0o755)  # Dovecot's unprivileged processes reach their sockets and mail under it
    proc = None
    try:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        cert.private_key_pem.write_to_path(str(root / "key.pem"))
        cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
        ca.cert_pem.write_to_path(str(root / "ca.pem"))
        (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
        mail = root / "mail"
        mail.mkdir()
        owner = _users()[2]
        os.chown(mail, owner.pw_uid, owner.pw_gid)
        for attempt in range(5):  # Dovecot is told its port: pick a free one, retry if it was taken
            port = free_port()
            (root / "dovecot.conf").write_text(_config(root, port))
            proc = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                _wait_for_port(port, proc, root / "dovecot.log")
                break
            except RuntimeError:
                proc.kill()
                proc.wait(timeout=10)
                proc = None
                if attempt == 4:
                    raise
        yield Server("127.0.0.1", port, root / "ca.pem", user, password)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
