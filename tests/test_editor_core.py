"""The core under the editor's pages (issue 13): send-due runs recorded, each send's outcome,
the sender's pid, placeholders refused, the List-Id, test tokens, editing issues, the accent
colour check, and the command line's real subjects and `issue edit`."""
from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from newsletter import create_app, cron, delivery, issues, ledger, mail, signing, store, testcopy
from newsletter.check import check_article
from newsletter.check.branding import check_accent
from newsletter.check.placeholders import placeholder_problems
from newsletter.config import load_config
from newsletter.errors import ConfigError, InputError, TransportError
from newsletter.schedule import send_due
from newsletter.states import IssueState, shown_state

from helpers import CONTENT, REAL, ROOT, SEED, add_subscribers, sample_rendered
from smtpserver import Recorder, smtp_server

NOW = datetime(2031, 5, 4, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def conn(config):
    return store.connect(config)


def smtp_config(config, port: int, **newsletter):
    config["smtp"].update(backend="smtp", host="127.0.0.1", port=port, security="none", timeout=3.0)
    config["newsletter"].update({**REAL, **newsletter})
    return config


# --- send-due runs ------------------------------------------------------------------------------

def test_every_send_due_run_is_recorded_with_its_outcome(config, conn):
    assert cron.last_run(conn) is None
    list(send_due(conn, config, NOW))
    last = cron.last_run(conn)
    assert (last.started_at, last.outcome, last.detail) == (NOW, "idle", "")
    assert last.finished_at >= NOW

    add_subscribers(conn, 2)
    config["content"]["dir"] = str(SEED.parent)
    issue_id = issues.create(conn, config.content_dir, [SEED.stem], send_at=NOW - timedelta(minutes=1))
    list(send_due(conn, config, NOW + timedelta(minutes=5)))  # outbox backend: really sent
    last = cron.last_run(conn)
    assert last.outcome == "sent" and "sent 2, failed 0" in last.detail

    other = store.connect(config)  # another send-due, holding the lock
    lock = delivery.SendLock(config, other)
    assert lock.acquire()
    try:
        assert delivery.senders_at_work(config, conn, issue_id) == [holder(other)]
        list(send_due(conn, config, NOW + timedelta(minutes=10)))
    finally:
        lock.release()
        other.close()
    assert cron.last_run(conn).outcome == "locked"
    assert delivery.senders_at_work(config, conn, issue_id) == []  # released: no sender


def holder(conn) -> str:
    """How :func:`delivery.senders_at_work` names a sender working over ``conn``: this process
    (SQLite: the lock file's pid), or its database session (PostgreSQL)."""
    if conn.dialect == "postgresql":
        return f"database session {conn.execute('SELECT pg_backend_pid()').fetchone()[0]}"
    return f"process {os.getpid()}"


def test_a_sender_is_alive_while_its_process_or_session_lives(config, conn):
    """SQLite: the send lock's holder, whatever the issue. PostgreSQL: the senders that hold
    rows of that issue, from any host; a sender's rows outlive it, its liveness does not."""
    add_subscribers(conn, 3)
    first = issues.create(conn, CONTENT, ["the-emergency-fund-ladder"])
    second = issues.create(conn, CONTENT, ["the-emergency-fund-ladder"])
    for issue_id in (first, second):
        ledger.create_rows(conn, issue_id, mail.message_ids(config))
    sender = store.connect(config)
    lock = delivery.sender_lock(config, sender)
    lock.__enter__()
    owner = ledger.register_sender(sender)
    if sender.dialect == "postgresql":
        assert delivery.senders_at_work(config, conn, first) == []  # registered, holds no row yet
        assert len(ledger.reserve(sender, first, NOW, owner, 2)) == 2
    assert delivery.senders_at_work(config, conn, first) == [holder(sender)]
    if sender.dialect == "postgresql":
        assert delivery.senders_at_work(config, conn, second) == []  # at work on the first only
    lock.__exit__(None, None, None)
    backend = sender.execute("SELECT pg_backend_pid()").fetchone()[0] if sender.dialect == "postgresql" else None
    sender.close()  # the process ends: its session and lock go with it
    if backend is not None:  # the server ends the session (and frees its locks) just after the client hangs up
        for _ in range(200):
            if not conn.execute("SELECT 1 FROM pg_locks WHERE pid = ?", (backend,)).fetchone():
                break
            time.sleep(0.01)
    assert delivery.senders_at_work(config, conn, first) == []


def test_a_run_whose_server_is_down_is_an_error_and_the_issue_keeps_the_reason(config, conn):
    with smtp_server(Recorder()) as (port, _):
        pass  # the port is closed again
    smtp_config(config, port)
    config["content"]["dir"] = str(SEED.parent)
    add_subscribers(conn, 1)
    issue_id = issues.create(conn, config.content_dir, [SEED.stem], send_at=NOW)
    with pytest.raises(TransportError):
        list(send_due(conn, config, NOW))
    last = cron.last_run(conn)
    assert last.outcome == "error" and "cannot be reached" in last.detail
    outcome = issues.get(conn, issue_id).last_send
    assert outcome.status == 3 and "cannot be reached" in outcome.note and outcome.at == NOW


def test_old_runs_are_forgotten(config, conn):
    for days in (40, 1):
        run_id = cron.start(conn, NOW - timedelta(days=days))
        cron.finish(conn, run_id, NOW - timedelta(days=days), cron.RunOutcome.IDLE)
    cron.start(conn, NOW)
    assert conn.execute("SELECT count(*) FROM send_due_runs").fetchone()[0] == 2


@pytest.mark.parametrize("age,text,overdue", [
    (None, "last run: never", True),
    (timedelta(minutes=2), "last run: 2 min ago", False),
    (timedelta(hours=3), "last run: 3 h ago - overdue", True),
    (timedelta(days=3), "last run: 3 days ago - overdue", True),
])
def test_cron_status_words(age, text, overdue):
    last = None if age is None else cron.Run(NOW - age, NOW - age, cron.RunOutcome.IDLE, "")
    found = cron.cron_status(last, NOW, timedelta(minutes=5))
    assert (found.text, found.overdue) == (text, overdue)


def test_the_crontab_line_runs_send_due_with_this_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[schedule]\ncron_interval = "10m"\n')
    line = cron.crontab_line(load_config(path, environ={}), python="/usr/bin/python3")
    assert line.startswith(f"*/10 * * * * cd {tmp_path} && /usr/bin/python3 -m newsletter --config {path} send-due")
    assert line.endswith("send-due.log 2>&1")


def test_the_state_shown_while_a_send_now_process_starts():
    assert shown_state(IssueState.DRAFT, True) == IssueState.SENDING
    assert shown_state(IssueState.SENT, True) == IssueState.SENT  # reaching newcomers: still sent
    assert shown_state(IssueState.DRAFT, False) == IssueState.DRAFT


# --- placeholders -------------------------------------------------------------------------------

def test_placeholders_only_matter_when_mail_leaves_the_machine(config):
    assert placeholder_problems(config) == []  # the outbox: fine
    config["smtp"]["backend"] = "smtp"
    problems = placeholder_problems(config)
    assert len(problems) == 3 and problems[0].startswith("newsletter.sender is still the built-in")
    config["newsletter"].update(sender="Staging <news@example.com>", postal_address="1 Real Road",
                                base_url="https://staging.example.com")
    assert placeholder_problems(config) == []  # other example addresses are fine
    config["newsletter"]["base_url"] = "http://localhost:8000"
    assert placeholder_problems(config)[0].startswith("newsletter.base_url is http://localhost:8000")
    config["smtp"]["backend"] = "outbox"
    assert not [f for f in check_article(SEED, config) if f.rule == "placeholder"]


def test_send_and_send_due_refuse_placeholders_with_one_line_and_status_2(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\npath = "nl.db"\n[smtp]\nbackend = "smtp"\nport = 2\n'
                   f'[content]\ndir = "{SEED.parent}"\n')
    env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg), "NEWSLETTER_SECRET_KEY": "k"}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    assert run("issue", "create", SEED.stem, "--send-at", "2020-01-01T00:00Z").returncode == 2  # stale
    assert run("issue", "create", SEED.stem).returncode == 0
    sent = run("send", "1")
    assert sent.returncode == 2 and sent.stdout == ""
    assert sent.stderr.count("\n") == 1 and sent.stderr.startswith("error: not sending: newsletter.sender")
    assert run("issue", "schedule", "1", "--at", datetime.now(timezone.utc).isoformat()).returncode == 0
    due = run("send-due")
    assert due.returncode == 2 and due.stderr.startswith("error: issue 1: not sending:")
    assert "exit status 2" in run("issue", "show", "1").stdout  # the last send's reason is kept


# --- List-Id ------------------------------------------------------------------------------------

def test_list_id_is_stable_when_the_sender_changes(config):
    config["newsletter"]["base_url"] = "https://news.example.org/"
    assert mail.list_id(config) == "the-newsletter.news.example.org"
    before = mail.MessageTemplate(sample_rendered(), config, 1).sample()
    config["newsletter"]["sender"] = "Other <other@example.net>"
    after = mail.MessageTemplate(sample_rendered(), config, 1).sample()
    line = b"List-Id: The Newsletter <the-newsletter.news.example.org>\r\n"
    assert line in before and line in after
    config["newsletter"]["list_id"] = "weekly.example.org"
    assert b"<weekly.example.org>" in mail.MessageTemplate(sample_rendered(), config, 1).sample()
    config["newsletter"].update(list_id="", base_url="http://127.0.0.1:5000")
    assert mail.list_id(config) == "the-newsletter.localhost"


def test_a_list_id_that_is_not_a_domain_is_a_config_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[newsletter]\nlist_id = "my list"\n')
    with pytest.raises(ConfigError, match="newsletter.list_id"):
        load_config(path, environ={})


# --- test tokens --------------------------------------------------------------------------------

def test_test_tokens_are_recognisable_signed_and_name_what_was_tested(config):
    token = signing.test_token(config, "issue", 5)
    assert token.startswith("test-issue-5.") and signing.is_test_token(token)
    assert signing.read_test_token(config, token) == signing.TestCopy("issue", "5")
    assert signing.read_test_token(config, signing.test_token(config, "article", "a-b")).ref == "a-b"
    with pytest.raises(InputError):
        signing.read_test_token(config, token.replace("issue-5", "issue-6"))
    with pytest.raises(InputError):  # an unsubscribe token is no test token
        signing.read_test_token(config, signing.subscriber_signer(config, "unsubscribe")("abc"))


def test_a_test_copy_links_to_test_pages(config):
    token = signing.test_token(config, "article", "streets")
    raw = mail.MessageTemplate(sample_rendered(), config, None, test=True, test_token=token).sample()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["List-Unsubscribe"] == f"<{config.base_url}/unsubscribe/{token}>"
    assert message["Subject"].startswith("[TEST] ")
    for part in ("html", "plain"):
        body = message.get_body((part,)).get_content()
        assert f"/test/{token}" in body and f"/unsubscribe/{token}" in body
        assert f"/preferences/{token}" in body


def test_a_test_copy_opens_the_pages_of_what_it_tested_and_nothing_else(config, conn):
    """An issue's test copy links to that issue's own copy of its articles (``/issues/ID/read``)
    before it is sent; an article's test copy to that article's page; its preferences link
    opens no one's preferences."""
    a, b = "passkeys-without-the-jargon", "the-emergency-fund-ladder"  # b has no published URL
    issue_id = issues.create(conn, CONTENT, [a, b])
    other = issues.create(conn, CONTENT, [b])
    copy, token = testcopy.of_issue(conn, config, issues.get(conn, issue_id))
    assert f"/issues/{issue_id}/read/{b}?t={token}" in copy.html
    client = create_app({"NEWSLETTER": config, "TESTING": True}).test_client()
    page = client.get(f"/issues/{issue_id}/read/{b}?t={token}")
    assert page.status_code == 200 and "Test copy: this article has not been sent yet" in page.get_data(as_text=True)
    other_token = testcopy.of_issue(conn, config, issues.get(conn, other))[1]
    assert client.get(f"/issues/{issue_id}/read/{b}?t={other_token}").status_code == 404
    assert client.get(f"/issues/{issue_id}/read/{b}").status_code == 404  # not sent: not public
    assert client.get(f"/read/{b}?t={token}").status_code == 404  # an issue's token, not the article's
    article_token = testcopy.of_article(config, issues.articles_of(conn, config, issues.get(conn, other))[0])[1]
    assert client.get(f"/read/{b}?t={article_token}").status_code == 200
    assert client.get(f"/read/{a}?t={article_token}").status_code == 404
    for method in (client.get, client.post):
        answer = method(f"/preferences/{token}")
        assert answer.status_code == 200 and "This is a test copy" in answer.get_data(as_text=True)


# --- editing issues, subjects -------------------------------------------------------------------

def test_only_draft_and_scheduled_issues_can_be_edited(config, conn):
    a, b = "the-emergency-fund-ladder", "passkeys-without-the-jargon"
    issue_id = issues.create(conn, CONTENT, [a, b])
    edited = issues.edit(conn, CONTENT, issue_id, [b, a], "  New subject ")
    assert (edited.articles, edited.subject) == ((b, a), "New subject")
    assert [x.slug for x in issues.articles_of(conn, config, edited)] == [b, a]  # its copy follows
    with pytest.raises(InputError, match="at least one article"):
        issues.edit(conn, CONTENT, issue_id, [], "")
    with pytest.raises(InputError):  # a web form names slugs of the content folder only
        issues.edit(conn, CONTENT, issue_id, [str(SEED)], "", allow_paths=False)
    issues.mark_sending(conn, issue_id, NOW)
    with pytest.raises(InputError, match="only draft or scheduled"):
        issues.edit(conn, CONTENT, issue_id, [a], "")


def test_editing_keeps_the_copy_of_articles_the_issue_already_had(config, conn, tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "kept.md").write_text("---\ntitle: As made\n---\nFirst words.\n")
    issue_id = issues.create(conn, folder, ["kept"])
    (folder / "kept.md").write_text("---\ntitle: Edited later\n---\nOther words.\n")
    (folder / "added.md").write_text("---\ntitle: Added\n---\nNew words.\n")
    edited = issues.edit(conn, folder, issue_id, ["added", "kept"], "")
    assert [a.title for a in issues.articles_of(conn, config, edited)] == ["Added", "As made"]
    assert issues.subject(conn, config, edited) == "Added"


def test_the_subject_is_the_one_subscribers_get(config, conn):
    config["content"]["dir"] = str(SEED.parent)
    issue_id = issues.create(conn, config.content_dir, [SEED.stem])
    lead = issues.article_refs(conn, config, issues.get(conn, issue_id))[0].title
    assert lead and issues.subject(conn, config, issues.get(conn, issue_id)) == lead
    issues.freeze(conn, issue_id, sample_rendered("Frozen title"))
    assert issues.subject(conn, config, issues.get(conn, issue_id)) == "Frozen title"  # as it was sent
    with store.transaction(conn):  # an issue made before copies were kept, whose file is gone
        conn.execute("INSERT INTO issues (subject, articles, created_at) VALUES ('', '[\"gone\"]', ?)",
                     (store.to_db_time(NOW),))
    missing = conn.execute("SELECT max(id) FROM issues").fetchone()[0]
    assert issues.subject(conn, config, issues.get(conn, missing)) == "[gone: cannot be read]"


def test_cli_issue_edit_list_and_show_use_titles(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[database]\npath = "nl.db"\n[content]\ndir = "{SEED.parent}"\n')
    env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    assert run("issue", "create", SEED.stem).returncode == 0
    title = "Trump Rejects Maduro Amnesty in Tense Phone Call"
    assert run("issue", "list").stdout.split("\t")[3] == title
    shown = run("issue", "show", "1").stdout
    assert f"subject: {title}\n" in shown and f"articles: {SEED.stem} ({title})" in shown
    edited = run("issue", "edit", "1", "--subject", "Monday")
    assert edited.returncode == 0 and edited.stdout.startswith("issue 1: Monday")
    assert run("issue", "edit", "1").returncode == 2
    assert run("issue", "edit", "1", "no-such-article").returncode == 2


# --- branding -----------------------------------------------------------------------------------

def test_the_accent_colour_is_checked_on_white_and_on_the_dark_card(config):
    assert check_accent(config) == []  # the default passes both
    config["branding"]["accent_color"] = "#ffcc00"  # yellow: unreadable on white
    assert [f.message.split(" has ")[1][:4] for f in check_accent(config)] == ["1.5:"]
    config["branding"]["accent_color"] = "#1d4ed8"  # dark blue: vanishes on the dark card
    assert "dark-mode background" in check_accent(config)[0].message


@pytest.mark.parametrize("key,value", [("accent_color", "blue"), ("logo_url", "logo.png"),
                                       ("logo_width", 2000), ("templates", "no-such-folder")])
def test_bad_branding_is_a_config_error_naming_the_key(tmp_path, key, value):
    path = tmp_path / "c.toml"
    path.write_text(f"[branding]\n{key} = {value!r}\n".replace("'", '"'))
    with pytest.raises(ConfigError, match=f"branding.{key}"):
        load_config(path, environ={})


def test_send_records_how_each_run_ended(config, conn):
    add_subscribers(conn, 2)
    config["content"]["dir"] = str(SEED.parent)
    issue_id = issues.create(conn, config.content_dir, [SEED.stem])
    with smtp_server(Recorder()) as (port, _):
        smtp_config(config, port)
        delivery.send_issue(conn, config, issue_id, now=NOW)
    outcome = issues.get(conn, issue_id).last_send
    assert outcome.status == 0 and outcome.note.startswith(f"issue {issue_id}: sent 2, failed 0")
