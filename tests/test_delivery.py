"""Sending through a real SMTP server on 127.0.0.1 (aiosmtpd) with a real SQLite ledger."""
from __future__ import annotations

from datetime import timedelta

import pytest

from newsletter import delivery, ledger, store, subscribers
from newsletter.mail import message_ids

from helpers import add_subscribers, make_issue, open_db, run, states, write_config
from smtpserver import Recorder, silent_server, smtp_server


def test_300_from_csv_each_once_with_headers_unsubscribe_and_next_issue(tmp_path, database_url):
    csv = tmp_path / "subs.csv"
    rows = ["email,name"] + [f"user{i}@example.com,User {i}" for i in range(300)]
    rows[51:51] = ["not-an-address,Bad", "also@bad@example.com,Bad"]
    rows.append("user7@EXAMPLE.com,Duplicate")
    csv.write_text("\n".join(rows) + "\n")
    with smtp_server() as (port, server):
        cfg_path = write_config(tmp_path, port, database_url)
        imported = run(cfg_path, "subscribers", "import", str(csv))
        assert imported.exit_code == 1
        assert ":52:" in imported.stderr and ":53:" in imported.stderr
        cfg, conn = open_db(cfg_path)
        issue = make_issue(conn)

        result = run(cfg_path, "send", str(issue))
        assert result.exit_code == 0, result.output
        assert f"issue {issue}: sent 300, failed 0, pending 0, unknown 0" in result.stdout
        progress = [line for line in result.stdout.splitlines() if "/300 done" in line]
        assert 1 <= len(progress) <= 4  # a few plain lines when not on a terminal
        got = server.recipients()
        assert len(got) == 300 and len(set(got)) == 300
        assert set(got) == {f"user{i}@example.com" for i in range(300)}
        assert conn.execute("SELECT state FROM issues WHERE id = ?", (issue,)).fetchone()[0] == "sent"
        for received in server.received[:20]:
            msg = received.message
            for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe",
                         "List-Unsubscribe-Post", "List-Id"):
                assert len(msg.get_all(name)) == 1, name
            sub_id = conn.execute("SELECT id FROM subscribers WHERE email_key = ?",
                                  (received.rcpt_tos[0].lower(),)).fetchone()[0]
            assert msg["Message-ID"] == message_ids(cfg)(issue, sub_id)
            assert msg["To"].addresses[0].addr_spec == received.rcpt_tos[0]

        again = run(cfg_path, "send", str(issue))
        assert again.exit_code == 0 and "sent 0" in again.stdout
        assert len(server.recipients()) == 300

        # one-click unsubscribe from the List-Unsubscribe header of a received message
        from newsletter.web import create_app

        victim = server.received[10]
        url = victim.message["List-Unsubscribe"].strip("<>")
        assert url.startswith("https://news.example.org/unsubscribe/")
        client = create_app({"NEWSLETTER": cfg, "TESTING": True}).test_client(use_cookies=False)
        response = client.post(url.removeprefix("https://news.example.org"), data="List-Unsubscribe=One-Click",
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200

        second = make_issue(conn)
        result = run(cfg_path, "send", str(second))
        assert result.exit_code == 0 and "sent 299" in result.stdout
        later = server.recipients()[300:]
        assert len(later) == 299 and victim.rcpt_tos[0] not in later


@pytest.mark.parametrize("pipelining", [True, False])
def test_faults_451_550_421_and_drops(tmp_path, pipelining, database_url):
    handler = Recorder(
        pipelining=pipelining,
        rcpt_replies={**{f"user{i}@example.com": "451 4.7.1 Try again later" for i in (3, 40, 77)},
                      **{f"user{i}@example.com": "550 5.1.1 No such user" for i in (5, 90)},
                      "user8@example.com": "552 5.2.2 Mailbox full"},
        drop_421_at={25, 60},
        drop_at_rcpt={"user30@example.com"},
        drop_after_data={"user50@example.com"},
    )
    with smtp_server(handler) as (port, server):
        cfg_path = write_config(tmp_path, port, database_url)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 120)
        issue = make_issue(conn)
        result = run(cfg_path, "send", str(issue))
        assert result.exit_code == 0  # the only failures are addresses refused for good: bounced now
        assert "sent 113, failed 0, bounced 2 (now marked bounced), pending 4, unknown 1" in result.stdout
        assert "No such user" in result.stderr
        assert {s.email for s in subscribers.iter_subscribers(conn, "bounced")} == {
            "user5@example.com", "user90@example.com"}
        got = server.recipients()
        assert len(got) == len(set(got)) == 113
        sent = {r[0] for r in conn.execute(
            "SELECT s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
            "WHERE d.issue_id = ? AND d.state = 'sent'", (issue,))}
        assert sent == set(got)  # nothing wrongly marked sent
        rows = {r["email"]: r for r in conn.execute(
            "SELECT s.email, d.state, d.attempts, d.last_error, d.next_attempt_at FROM deliveries d "
            "JOIN subscribers s ON s.id = d.subscriber_id WHERE d.issue_id = ?", (issue,))}
        assert rows["user5@example.com"]["state"] == "failed" and "550" in rows["user5@example.com"]["last_error"]
        assert rows["user3@example.com"]["state"] == "pending" and rows["user3@example.com"]["next_attempt_at"]
        assert rows["user8@example.com"]["state"] == "pending"  # 552 is temporary
        assert rows["user50@example.com"]["state"] == "unknown"
        assert rows["user30@example.com"]["state"] == "sent"  # reconnected and carried on
        assert server.connections >= 4 + 2 + 1

        # too early: nothing is due; once the retry time has come, a later run delivers
        handler.rcpt_replies.clear()
        early = delivery.send_issue(conn, cfg, issue)
        assert early.sent == 0
        later = delivery.send_issue(conn, cfg, issue, now=store.now_utc() + timedelta(minutes=6))
        assert later.sent == 4 and later.pending == 0
        assert states(conn, issue) == {"sent": 117, "failed": 2, "unknown": 1}
        assert len(server.recipients()) == len(set(server.recipients())) == 117

        retried = run(cfg_path, "send", str(issue), "--retry-unknown")
        assert retried.exit_code == 0 and "unknown 1" in retried.stdout  # unknown again: not a failure
        assert server.recipients().count("user50@example.com") == 0  # still dropped by the server
        handler.drop_after_data.clear()
        retried = run(cfg_path, "send", str(issue), "--retry-unknown")
        assert "sent 1," in retried.stdout and server.recipients().count("user50@example.com") == 1


@pytest.mark.parametrize("pipelining", [True, False])
def test_drop_in_the_middle_of_data_is_pending_not_unknown(tmp_path, pipelining, database_url):
    """The server hangs up after its 354, before the message's final dot: no server can have
    accepted a message it never got to the end of, so the delivery is pending and retried,
    never unknown, and the issue is not marked sent."""
    handler = Recorder(pipelining=pipelining, drop_in_data={"user2@example.com"})
    with smtp_server(handler) as (port, server):
        cfg_path = write_config(tmp_path, port, database_url, connections=1)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 5)
        issue = make_issue(conn)
        result = run(cfg_path, "send", str(issue))
        assert "sent 4, failed 0, pending 1, unknown 0" in result.stdout, result.output
        row = conn.execute("SELECT d.state, d.attempts, d.next_attempt_at, d.last_error FROM deliveries d"
                           " JOIN subscribers s ON s.id = d.subscriber_id"
                           " WHERE s.email = 'user2@example.com'").fetchone()
        assert row["state"] == "pending" and row["next_attempt_at"] and "before the end" in row["last_error"]
        assert conn.execute("SELECT state FROM issues WHERE id = ?", (issue,)).fetchone()[0] == "sending"

        handler.drop_in_data.clear()  # the server is well again: the retry delivers it, once
        later = delivery.send_issue(conn, cfg, issue, now=store.now_utc() + timedelta(minutes=6))
        assert (later.sent, later.pending, later.unknown) == (1, 0, 0)
        assert server.recipients().count("user2@example.com") == 1
        assert conn.execute("SELECT state FROM issues WHERE id = ?", (issue,)).fetchone()[0] == "sent"


def test_never_answering_server_exits_3_nothing_marked(tmp_path, database_url):
    with silent_server() as port:
        cfg_path = write_config(tmp_path, port, database_url, timeout=1.0)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 20)
        issue = make_issue(conn)
        result = run(cfg_path, "send", str(issue))
        assert result.exit_code == 3
        assert result.stderr.startswith("error: SMTP server 127.0.0.1") and "Traceback" not in result.output
        assert states(conn, issue) == {"pending": 20}


def test_long_run_of_temporary_failures_pauses(tmp_path, database_url):
    handler = Recorder(rcpt_replies={f"user{i}@example.com": "451 4.3.0 Busy" for i in range(60)})
    with smtp_server(handler) as (port, server):
        cfg_path = write_config(tmp_path, port, database_url, connections=1)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 60)
        issue = make_issue(conn)
        result = run(cfg_path, "send", str(issue))
        assert result.exit_code == 1
        assert "paused after 20 temporary failures in a row" in result.stderr
        tried = conn.execute("SELECT count(*) FROM deliveries WHERE issue_id = ? AND attempts > 0",
                             (issue,)).fetchone()[0]
        assert tried == delivery.PAUSE_AFTER
        assert states(conn, issue) == {"pending": 60}


def test_gives_up_after_max_attempts(tmp_path, database_url):
    handler = Recorder(rcpt_replies={"user0@example.com": "451 4.3.0 Busy"})
    with smtp_server(handler) as (port, server):
        cfg_path = write_config(tmp_path, port, database_url)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 2)
        issue = make_issue(conn)
        now = store.now_utc()
        for _ in range(ledger.MAX_ATTEMPTS):
            report = delivery.send_issue(conn, cfg, issue, now=now)
            now += timedelta(days=1)
        assert report.failed == 1 and states(conn, issue) == {"sent": 1, "failed": 1}
        error = conn.execute("SELECT last_error FROM deliveries WHERE state = 'failed'").fetchone()[0]
        assert error.startswith(f"gave up after {ledger.MAX_ATTEMPTS} attempts")


def test_unsubscribed_before_their_turn_are_not_sent(tmp_path, database_url):
    with smtp_server() as (port, server):
        cfg_path = write_config(tmp_path, port, database_url, connections=1)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 10)
        issue = make_issue(conn)
        conn.execute("UPDATE subscribers SET status = 'unsubscribed' WHERE email = 'user2@example.com'")
        other = store.connect(cfg)  # the web app, unsubscribing someone mid-send

        def progress(done, total):
            if done == 1:
                with store.transaction(other):
                    other.execute("UPDATE subscribers SET status = 'unsubscribed' WHERE email = 'user8@example.com'")

        report = delivery.send_issue(conn, cfg, issue, progress=progress)
        assert report.sent == 8 and report.pending == 0
        assert "user2@example.com" not in server.recipients()
        assert "user8@example.com" not in server.recipients()
        assert conn.execute("SELECT state FROM issues WHERE id = ?", (issue,)).fetchone()[0] == "sent"


def test_dry_run_sends_nothing(tmp_path, database_url):
    with smtp_server() as (port, server):
        cfg_path = write_config(tmp_path, port, database_url)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 12)
        issue = make_issue(conn)
        result = run(cfg_path, "send", str(issue), "--dry-run")
        assert result.exit_code == 0
        assert f"issue {issue}: would send 12 message(s), subject: Quiet streets, loud ideas" in result.stdout
        assert "user0@example.com" in result.stdout and "and 7 more" in result.stdout
        assert server.received == [] and states(conn, issue) == {}


def test_send_test_goes_only_to_given_addresses(tmp_path, database_url):
    with smtp_server() as (port, server):
        cfg_path = write_config(tmp_path, port, database_url)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 5)
        issue = make_issue(conn)
        result = run(cfg_path, "send-test", str(issue), "--to", "ed@example.com, chief@example.org")
        assert result.exit_code == 0, result.output
        assert server.recipients() == ["ed@example.com", "chief@example.org"]
        assert all(r.message["Subject"].startswith("[TEST] ") for r in server.received)
        assert states(conn, issue) == {}
        bad = run(cfg_path, "send-test", str(issue), "--to", "ed@example.com,nope")
        assert bad.exit_code == 2 and "nope" in bad.stderr and len(server.received) == 2


def test_second_send_while_one_holds_the_lock(tmp_path, database_url):
    """SQLite: one sender per database, a second `send` exits 1 at once. PostgreSQL: `send`
    processes share an issue (see the multi-sender test); only `send-due` runs exclude each
    other, and a second one says so and exits 0."""
    cfg_path = write_config(tmp_path, 25, database_url, backend="outbox")
    cfg, conn = open_db(cfg_path)
    issue = make_issue(conn)
    with delivery.SendLock(cfg, conn):
        result = run(cfg_path, "send", str(issue))
        due = run(cfg_path, "send-due")
    assert due.exit_code == 0 and "another run is sending" in due.stderr and due.stdout == ""
    if database_url:
        assert result.exit_code == 0 and f"issue {issue}: sent 0" in result.stdout
    else:
        assert result.exit_code == 1
        assert result.stderr.count("\n") == 1 and "another send is running" in result.stderr


def test_outbox_backend_writes_a_maildir(tmp_path, database_url):
    cfg_path = write_config(tmp_path, 25, database_url, backend="outbox")
    cfg, conn = open_db(cfg_path)
    add_subscribers(conn, 7)
    issue = make_issue(conn)
    result = run(cfg_path, "send", str(issue))
    assert result.exit_code == 0 and "sent 7" in result.stdout
    import mailbox

    box = mailbox.Maildir(cfg.outbox_path, create=False)
    assert sorted(m["To"] for m in box) == sorted(f"User {i} <user{i}@example.com>" for i in range(7))
    assert not list((cfg.outbox_path / "tmp").iterdir())


def test_rate_limit_paces_all_connections(tmp_path, database_url):
    """One pacer for every connection: 4 threads x 5 messages at 40/s get 20 distinct slots
    1/40 s apart (a frozen fake clock records the sleeps: no wall-clock timing)."""
    import threading

    slept: list[float] = []
    pacer = delivery.Pacer(40.0, clock=lambda: 100.0, sleep=slept.append)
    threads = [threading.Thread(target=lambda: [pacer.wait() for _ in range(5)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(slept) == pytest.approx([k / 40 for k in range(1, 20)])  # the first goes at once
    with smtp_server() as (port, server):
        cfg_path = write_config(tmp_path, port, database_url, rate_limit=40.0)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 20)
        issue = make_issue(conn)
        assert delivery.send_issue(conn, cfg, issue).sent == 20


def test_unknown_issue_and_cancelled_issue_are_input_errors(tmp_path, database_url):
    cfg_path = write_config(tmp_path, 25, database_url)
    cfg, conn = open_db(cfg_path)
    assert run(cfg_path, "send", "42").exit_code == 2
    issue = make_issue(conn)
    conn.execute("UPDATE issues SET state = 'cancelled' WHERE id = ?", (issue,))
    result = run(cfg_path, "send", str(issue))
    assert result.exit_code == 2 and "cancelled" in result.stderr


def test_cancel_landing_just_as_a_send_starts_sends_nothing(tmp_path, database_url):
    """The editor cancels while `send` is starting (rendering, creating rows): nobody is mailed.

    A trigger (SQLite: a temporary one on the send's own connection) runs exactly what `issue
    cancel` commits (state cancelled, pending rows dropped) right after the send marks the issue
    sending."""
    with smtp_server() as (port, server):
        cfg_path = write_config(tmp_path, port, database_url)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 10)
        issue = make_issue(conn)
        if database_url:
            conn.raw.execute(
                "CREATE FUNCTION cancel_now() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " IF NEW.state = 'sending' THEN UPDATE issues SET state = 'cancelled' WHERE id = NEW.id;"
                " DELETE FROM deliveries WHERE issue_id = NEW.id AND state = 'pending'; END IF;"
                " RETURN NULL; END $$;"
                "CREATE TRIGGER cancel_now AFTER UPDATE OF state ON issues FOR EACH ROW EXECUTE FUNCTION cancel_now()"
            )
        else:
            conn.execute(
                "CREATE TEMP TRIGGER cancel_now AFTER UPDATE OF state ON issues WHEN NEW.state = 'sending' "
                "BEGIN UPDATE issues SET state = 'cancelled' WHERE id = NEW.id; "
                "DELETE FROM deliveries WHERE issue_id = NEW.id AND state = 'pending'; END"
            )
        report = delivery.send_issue(conn, cfg, issue)
        assert report.sent == 0 and report.state == "cancelled"
        assert server.received == []
        assert conn.execute("SELECT state FROM issues WHERE id = ?", (issue,)).fetchone()[0] == "cancelled"
        assert states(conn, issue).get("pending", 0) == 0


@pytest.mark.parametrize("pipelining", [True, False])
@pytest.mark.parametrize("reply", ["530 5.7.0 Authentication required", "550 5.7.1 Sender address rejected"])
def test_sender_refused_at_mail_from_fails_nobody(tmp_path, pipelining, reply, database_url):
    """A 5xx to MAIL FROM refuses our sender (no login, wrong sender), not a recipient: the
    run stops with exit 3, nobody is marked failed, and once fixed a rerun mails everyone."""
    handler = Recorder(mail_reply=reply, pipelining=pipelining)
    with smtp_server(handler) as (port, server):
        cfg_path = write_config(tmp_path, port, database_url, connections=2)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 6)
        issue = make_issue(conn)
        result = run(cfg_path, "send", str(issue))
        assert result.exit_code == 3, result.output
        assert result.stderr.startswith("error: ") and reply.split()[0] in result.stderr
        assert "Traceback" not in result.output
        assert states(conn, issue) == {"pending": 6}
        assert conn.execute("SELECT max(attempts) FROM deliveries").fetchone()[0] == 0
        handler.mail_reply = ""
        again = run(cfg_path, "send", str(issue))
        assert again.exit_code == 0, again.output
        assert sorted(server.recipients()) == sorted(f"user{i}@example.com" for i in range(6))


def test_lines_starting_with_a_dot_arrive_intact(tmp_path):
    """Dots at line starts, in the issue and in personal values, reach a real server as they
    were: a message the template found dot-free (SmtpReady) goes unscanned, one whose
    personal value puts a dot at a line start (a soft line break right before it) and plain
    bytes are dot-stuffed by the transport. Fails if stuffing is skipped where it is needed."""
    from email import message_from_bytes, policy

    from newsletter.compose import TOKENS, RenderedIssue
    from newsletter.mail import MessageTemplate
    from newsletter.transport import SmtpReady, SmtpTransport

    name, email = TOKENS["name"], TOKENS["email"]
    rendered = RenderedIssue("Dots", "", f"<p>\n.html dot line\n{name}\n.{email}</p>",
                             f".starts with a dot\nline\n.. two dots\n{name}\n.{name}\n")
    with smtp_server() as (port, server):
        cfg, _ = open_db(write_config(tmp_path, port))
        template = MessageTemplate(rendered, cfg, 1)
        ready = template.personalize(1, "a@example.com", ".Dot Reader", "k1")
        late_dot = "x" * 75 + "."  # quoted-printable puts its "." alone at the start of a line
        stuffed = template.personalize(2, "b@example.com", late_dot, "k2")
        plain = b"Subject: plain\r\n\r\n.one\r\n..two\r\n.\r\nend"
        assert type(ready) is SmtpReady and b"\n." not in ready
        assert type(stuffed) is not SmtpReady and b"\r\n.=\r\n" in stuffed
        transport = SmtpTransport(cfg)
        try:
            for rcpt, message in (("a@example.com", ready), ("b@example.com", stuffed), ("c@example.com", plain)):
                transport.send("news@example.org", rcpt, message)
        finally:
            transport.close()
    got = {r.rcpt_tos[0]: r.data for r in server.received}
    assert got["a@example.com"] == ready and got["b@example.com"] == stuffed
    assert got["c@example.com"].rstrip(b"\r\n") == plain
    for rcpt, who in (("a@example.com", ".Dot Reader"), ("b@example.com", late_dot)):
        text = message_from_bytes(got[rcpt], policy=policy.default).get_body(("plain",)).get_content()
        assert f".starts with a dot\nline\n.. two dots\n{who}\n.{who}\n" in text.replace("\r\n", "\n")
