"""`bounces fetch`: a Maildir folder, and a real IMAP mailbox (Dovecot over TLS, certificate
verified). Every message read is moved to the processed folder, never deleted; run again,
nothing is read twice."""
from __future__ import annotations

import imaplib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter import subscribers
from newsletter.store import connect

from imapserver import DOVECOT, dovecot_server

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "bounces"
MESSAGES = ("postfix_user_unknown.eml", "vacation_rfc3834.eml", "human_reply.eml", "arf_abuse.eml")


def run(tmp_path: Path, config: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[database]\npath = "instance/newsletter.db"\n' + config)
    env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg), "NEWSLETTER_SECRET_KEY": "k", **(env or {})}
    return subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def subscribe(tmp_path: Path, *emails: str) -> None:
    conn = connect(tmp_path / "instance" / "newsletter.db")
    for email in emails:
        subscribers.add(conn, email)


def statuses(tmp_path: Path) -> dict[str, str]:
    conn = connect(tmp_path / "instance" / "newsletter.db")
    return {s.email: s.status for s in subscribers.iter_subscribers(conn)}


def test_fetch_reads_a_maildir_and_moves_what_it_read(tmp_path):
    maildir = tmp_path / "Maildir"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    for i, name in enumerate(MESSAGES):
        where = "new" if i % 2 == 0 else "cur"
        suffix = "" if where == "new" else ":2,"
        (maildir / where / f"17000000{i}.M1P1.host{suffix}").write_bytes((FIXTURES / name).read_bytes())
    (maildir / "new" / "17000009.M1P1.host").write_bytes(b"From: x@y\n\n" + b"a" * (11 * 2**20))
    subscribe(tmp_path, "alice@example.org", "judy@example-isp.net", "laura@example.org")
    config = f'[bounces]\nmaildir = "{maildir}"\n'
    proc = run(tmp_path, config, "bounces", "fetch")
    assert proc.returncode == 2, proc.stderr  # the 11 MB message could not be read
    assert len(proc.stdout.splitlines()) == 4 and proc.stderr.count("\n") == 1
    assert "larger than 10 MB" in proc.stderr
    assert statuses(tmp_path) == {"alice@example.org": "bounced", "judy@example-isp.net": "complained",
                                  "laura@example.org": "active"}
    assert not list((maildir / "new").iterdir()) and not list((maildir / "cur").iterdir())
    processed = sorted(p.name for p in (maildir / ".Processed" / "cur").iterdir())
    assert len(processed) == 5 and all(name.endswith(":2,S") for name in processed)
    again = run(tmp_path, config, "bounces", "fetch")
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""


def test_fetch_without_a_mailbox_is_a_config_error(tmp_path):
    proc = run(tmp_path, "", "bounces", "fetch")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "bounces" in proc.stderr


needs_dovecot = pytest.mark.skipif(
    not os.path.exists(DOVECOT), reason="Dovecot is not installed (Debian package dovecot-imapd; .ci/run installs it)"
)


@needs_dovecot
def test_fetch_reads_an_imap_mailbox_over_verified_tls_and_moves_each_message(tmp_path):
    with dovecot_server() as server:
        imap = imaplib.IMAP4_SSL(server.host, server.port, ssl_context=server.context(), timeout=30)
        imap.login(server.user, server.password)
        for name in MESSAGES:
            assert imap.append("INBOX", None, None, (FIXTURES / name).read_bytes())[0] == "OK"
        subscribe(tmp_path, "alice@example.org", "judy@example-isp.net")
        config = (f'[bounces]\nimap_host = "{server.host}"\nimap_port = {server.port}\n'
                  f'imap_username = "{server.user}"\nimap_ca_file = "{server.ca_file}"\n')
        env = {"NEWSLETTER_IMAP_PASSWORD": server.password}
        proc = run(tmp_path, config, "bounces", "fetch", env=env)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert len(lines) == 4 and all(line.startswith("imap:INBOX/") for line in lines)
        assert statuses(tmp_path) == {"alice@example.org": "bounced", "judy@example-isp.net": "complained"}
        imap.select("INBOX")
        assert imap.uid("SEARCH", None, "ALL")[1] == [b""]  # nothing left unread in the inbox
        assert imap.select("Processed") == ("OK", [b"4"])  # every message moved, none deleted
        assert run(tmp_path, config, "bounces", "fetch", env=env).stdout == ""

        wrong = run(tmp_path, config, "bounces", "fetch", env={"NEWSLETTER_IMAP_PASSWORD": "wrong"})
        assert wrong.returncode == 3 and "login refused" in wrong.stderr and "Traceback" not in wrong.stderr
        untrusted = run(tmp_path, config.replace(f'imap_ca_file = "{server.ca_file}"\n', ""),
                        "bounces", "fetch", env=env)
        assert untrusted.returncode == 3 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        imap.logout()
