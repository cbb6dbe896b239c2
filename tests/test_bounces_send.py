"""Sending with bounce handling on: each message's envelope sender is its own signed VERP
address, and a test copy's is the bounce address itself."""
from __future__ import annotations

from datetime import timedelta

from newsletter import delivery
from newsletter.bounces.apply import signatures
from newsletter.config import load_config
from newsletter.store import now_utc, to_db_time

from helpers import ENV, ROOT, add_subscribers, make_issue, open_db, run, sample_rendered, write_config
from smtpserver import Recorder, smtp_server

FIXTURES = ROOT / "tests" / "fixtures" / "bounces"


def test_each_message_has_its_own_verp_envelope_sender(tmp_path, database_url):
    with smtp_server(Recorder()) as (port, server):
        cfg_path = write_config(tmp_path, port, database_url)
        cfg_path.write_text(cfg_path.read_text() + '[bounces]\naddress = "bounces@example.org"\n')
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 5)
        issue = make_issue(conn)
        assert run(cfg_path, "send", str(issue)).exit_code == 0
        verp = signatures(load_config(cfg_path, environ=ENV)).verp
        ids = {row[0]: row[1] for row in conn.execute("SELECT email, id FROM subscribers")}
        assert len(server.received) == 5
        for received in server.received:
            assert received.mail_from.startswith("bounces+") and received.mail_from.endswith("@example.org")
            assert len(received.mail_from.partition("@")[0]) <= 64
            assert verp.read(received.mail_from) == (issue, ids[received.rcpt_tos[0]])
        results = delivery.send_test(cfg, sample_rendered(), ["editor@example.org"])
        assert results == [("editor@example.org", None)]
        assert server.received[-1].mail_from == "bounces@example.org"


def test_a_refused_address_shows_in_issue_show_with_the_rate_and_a_warning(tmp_path, database_url):
    handler = Recorder(rcpt_replies={"user2@example.com": "550 5.1.1 No such user"})
    with smtp_server(handler) as (port, server):
        cfg_path = write_config(tmp_path, port, database_url)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 5)
        issue = make_issue(conn)
        sent = run(cfg_path, "send", str(issue))
        assert sent.exit_code == 0 and "bounced 1 (now marked bounced)" in sent.stdout
        shown = run(cfg_path, "issue", "show", str(issue))
        assert "bounced 1 (hard-bounce rate 20.00% of 5 attempted)" in shown.stdout.splitlines()
        assert "complained 0 (complaint rate 0.00% of 4 sent)" in shown.stdout.splitlines()
        assert "hard-bounce rate 20.00% is over 2%" in shown.stderr


def test_send_due_reads_the_bounce_mailbox_first(tmp_path, database_url):
    maildir = tmp_path / "bounces"
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True)
    dsn = (FIXTURES / "postfix_user_unknown.eml").read_bytes().replace(b"alice@example.org", b"user1@example.com")
    (maildir / "new" / "1.M1.host").write_bytes(dsn)
    with smtp_server(Recorder()) as (port, server):
        cfg_path = write_config(tmp_path, port, database_url)
        cfg_path.write_text(cfg_path.read_text() + f'[bounces]\nmaildir = "{maildir}"\n')
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 3)
        issue = make_issue(conn)
        conn.execute("UPDATE issues SET state = 'scheduled', send_at = ? WHERE id = ?",
                     (to_db_time(now_utc() - timedelta(minutes=1)), issue))
        result = run(cfg_path, "send-due")
        lines = result.stdout.splitlines()
        assert lines[0] == "maildir:1.M1.host: hard bounce (5.1.1): user1@example.com is now bounced"
        assert "sent 2," in lines[1]  # the bounced address was not mailed
        assert "user1@example.com" not in server.recipients()
