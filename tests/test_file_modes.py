"""Files that hold subscriber data are the owner's alone: the database and its -wal and -shm,
lock files, send logs and outbox messages are created 0600, folders the program creates 0700,
whatever the umask; a database left readable by an older version is made owner-only."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from newsletter import issues, store
from newsletter.config import load_config
from newsletter.web import sending

from helpers import CONTENT, run, write_config


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The most permissive umask: nothing may rely on it."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_what_a_send_leaves_behind_is_owner_only(tmp_path, open_umask):
    path = write_config(tmp_path, backend="outbox")
    path.write_text(path.read_text() + f'[content]\ndir = "{CONTENT}"\n')
    assert run(path, "subscribers", "add", "reader@example.com").exit_code == 0
    assert run(path, "issue", "create", "the-emergency-fund-ladder").exit_code == 0
    assert run(path, "send", "1").exit_code == 0
    state = tmp_path / "state"
    conn = store.connect(state / "news.db")  # an open database has its -wal and -shm
    conn.execute("INSERT INTO test_addresses (email, added_at) VALUES ('t@example.com', '')")
    files = [state / "news.db", state / "news.db-wal", state / "news.db-shm", state / "news.db.lock",
             *(state / "outbox" / "new").iterdir()]
    folders = [state, *(state / "outbox" / sub for sub in ("tmp", "new", "cur")), state / "outbox"]
    assert len(files) == 5
    assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
    assert {str(d): oct(mode(d)) for d in folders} == {str(d): "0o700" for d in folders}
    conn.close()


def test_send_log_of_the_web_app_is_owner_only(tmp_path, open_umask):
    config = load_config(overrides={"database": {"path": str(tmp_path / "instance" / "news.db")},
                                    "content": {"dir": str(CONTENT)},
                                    "smtp": {"outbox": str(tmp_path / "instance" / "outbox")}}, environ={})
    conn = store.connect(config.database_path)
    issue_id = issues.create(conn, config.content_dir, ["the-emergency-fund-ladder"])
    log = sending.start(config, issue_id)
    assert mode(log) == 0o600 and mode(log.parent) == 0o700
    assert mode(config.instance_path / "send-config.toml") == 0o600


def test_a_database_left_readable_is_made_owner_only(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    site.chmod(0o755)
    db = site / "news.db"
    store.connect(db).close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").touch()
        os.chmod(f"{db}{suffix}", 0o644)
    conn = store.connect(db)  # (on close SQLite removes the -wal and -shm: look while open)
    assert {suffix: oct(mode(Path(f"{db}{suffix}"))) for suffix in ("", "-wal", "-shm")} == \
        {suffix: "0o600" for suffix in ("", "-wal", "-shm")}
    conn.close()
    assert mode(site) == 0o755  # a folder that was there already is left as it was
