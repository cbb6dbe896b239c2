"""Faults of the machine, not of the input: the database locked by another program for longer
than database.busy_timeout, or a disk that cannot take more. Each is one line on stderr and the
contract's exit status (a 503 page on the web), never a traceback, and nothing already recorded
is lost."""
from __future__ import annotations

import resource
import signal
import subprocess
import sys

from newsletter import create_app, store, subscribers
from newsletter.signing import subscriber_signer

from helpers import ENV, ROOT, open_db, run, write_config


def locked_config(tmp_path, database_url: str):
    """A config file with a 0.2 s busy timeout, on SQLite or the test's PostgreSQL database."""
    path = write_config(tmp_path, database_url=database_url)
    path.write_text(path.read_text().replace("[database]\n", "[database]\nbusy_timeout = 0.2\n"))
    return path


def hold_write_lock(conn) -> None:
    """Another program is writing, and takes its time."""
    conn.execute(conn.begin)
    if conn.dialect == "postgresql":
        conn.execute("LOCK TABLE subscribers IN EXCLUSIVE MODE")


def test_database_locked_past_the_busy_timeout_is_one_line(tmp_path, database_url):
    path = locked_config(tmp_path, database_url)
    config, holder = open_db(path)
    hold_write_lock(holder)
    try:
        result = run(path, "subscribers", "add", "ann@example.com")
    finally:
        holder.execute("ROLLBACK")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    where = config.database_url or config.database_path
    assert result.output.startswith(f"error: {where}: the database is locked"), result.output
    assert "database.busy_timeout (0.2 s)" in result.output
    assert run(path, "subscribers", "add", "ann@example.com").exit_code == 0  # free again: works


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_disk_that_takes_no_more_is_one_line_and_keeps_what_was_there(tmp_path):
    path = write_config(tmp_path)
    config, conn = open_db(path)
    subscribers.add(conn, "kept@example.com")
    conn.close()
    rows = "".join(f"reader{n}@example.com,Reader number {n} with a longish name\n" for n in range(20000))
    (tmp_path / "big.csv").write_text("email,name\n" + rows)
    proc = subprocess.run(
        [sys.executable, "-m", "newsletter", "--config", str(path), "subscribers", "import",
         str(tmp_path / "big.csv")],
        cwd=ROOT, env=ENV | {"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=120,
        preexec_fn=_limit_file_size(400_000),
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {config.database_path}: ")
    assert "disk I/O error" in proc.stderr or "full" in proc.stderr
    conn = store.connect(config.database_path)
    assert [s.email for s in subscribers.iter_subscribers(conn)] == ["kept@example.com"]  # all or nothing


def test_database_locked_past_the_busy_timeout_is_a_503_page(tmp_path, database_url):
    config, holder = open_db(locked_config(tmp_path, database_url))
    reader, _ = subscribers.add(holder, "reader@example.com")
    token = subscriber_signer(config, "unsubscribe")(reader.key)
    client = create_app({"NEWSLETTER": config, "TESTING": False}).test_client()
    hold_write_lock(holder)
    try:
        response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    finally:
        holder.execute("ROLLBACK")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "Traceback" not in response.get_data(as_text=True)
    assert subscribers.find(holder, "reader@example.com").status == "active"
    assert client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
