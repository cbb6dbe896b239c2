"""Real bounces from a real Postfix: an issue sent through Debian's Postfix on 127.0.0.1 to
existing and non-existing users; Postfix writes the DSNs itself, they land in the sender's
Maildir, and `bounces fetch` (and `bounces process` on stdin, as a pipe transport would)
reads them: the non-existing users end bounced, nobody else changes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from postfixserver import POSTFIX, postfix_server, wait_for_messages

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not os.path.exists(POSTFIX) or os.getuid() != 0,
    reason="needs Debian's postfix (.ci/run installs it) and root, which Postfix's master process wants",
)

READERS = ["reader1@example.org", "reader2@example.org"]
GHOSTS = ["ghost1@example.org", "ghost2@example.org"]
SENDER = "newsletter@news.example.net"
BOUNCES = "bounces@news.example.net"


def run(cfg: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg), "NEWSLETTER_SECRET_KEY": "postfix-test"}
    proc = subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=ROOT, env=env,
                          capture_output=True, input=input, timeout=120)
    proc.stdout, proc.stderr = proc.stdout.decode(), proc.stderr.decode()
    return proc


def statuses(cfg: Path) -> dict[str, str]:
    listed = run(cfg, "subscribers", "list").stdout.splitlines()
    return {line.split("\t")[0]: line.split("\t")[2] for line in listed}


@pytest.mark.parametrize("verp", [True, False], ids=["verp", "sender-address"])
def test_postfix_dsns_for_unknown_users_make_them_bounced(tmp_path, verp):
    """With [bounces] address, DSNs go to bounces+TOKEN@ (Postfix's recipient_delimiter files
    them in the bounces mailbox); without, to the sender, and the DSN's recipient is read."""
    mailbox = BOUNCES if verp else SENDER
    with postfix_server([*READERS, SENDER, BOUNCES]) as postfix:
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f'[newsletter]\nsender = "The Newsletter <{SENDER}>"\n'
            'postal_address = "1 Test Road, Testville"\nbase_url = "https://news.example.net"\n'
            f'[content]\ndir = "{ROOT / "content"}"\n'
            '[database]\npath = "instance/newsletter.db"\n'
            f'[smtp]\nbackend = "smtp"\nhost = "127.0.0.1"\nport = {postfix.port}\nsecurity = "none"\n'
            f'[bounces]\nmaildir = "{postfix.maildir(mailbox)}"\n'
            + (f'address = "{BOUNCES}"\n' if verp else "")
        )
        for email in READERS + GHOSTS:
            assert run(cfg, "subscribers", "add", email).returncode == 0
        issue = run(cfg, "issue", "create", "passkeys-without-the-jargon").stdout.strip()
        sent = run(cfg, "send", issue)
        assert sent.returncode == 0, sent.stderr  # Postfix accepts all four, bounces two later

        try:
            for reader in READERS:
                wait_for_messages(postfix.maildir(reader), 1)
            dsns = wait_for_messages(postfix.maildir(mailbox), len(GHOSTS))
        except TimeoutError:
            pytest.fail(postfix.log()[-4000:])
        assert all(b"Status: 5.1.1" in dsn.read_bytes() for dsn in dsns)
        if verp:
            assert all(b"Delivered-To: bounces+" in dsn.read_bytes() for dsn in dsns)
        first_dsn = dsns[0].read_bytes()

        fetched = run(cfg, "bounces", "fetch")
        assert fetched.returncode == 0, fetched.stderr
        assert len(fetched.stdout.splitlines()) == 2
        assert all("hard bounce (5.1.1" in line for line in fetched.stdout.splitlines())
        # the VERP token names the issue; without it, our Message-ID in the returned message does
        assert all(f"issue {issue})" in line for line in fetched.stdout.splitlines())
        assert statuses(cfg) == {**dict.fromkeys(READERS, "active"), **dict.fromkeys(GHOSTS, "bounced")}

        piped = run(cfg, "bounces", "process", input=first_dsn)  # the same DSN through a pipe
        assert piped.returncode == 0 and "already recorded" in piped.stdout
        assert statuses(cfg) == {**dict.fromkeys(READERS, "active"), **dict.fromkeys(GHOSTS, "bounced")}
