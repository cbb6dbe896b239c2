"""The config loader: defaults, file, relative paths, unknown keys and wrong types."""
from __future__ import annotations

import pytest

from newsletter.config import load_config
from newsletter.errors import ConfigError

from helpers import ROOT


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSLETTER_CONFIG", raising=False)
    cfg = load_config(environ={})
    assert cfg.source is None
    assert cfg["smtp"]["backend"] == "outbox"
    assert cfg.database_path == tmp_path / "instance" / "newsletter.db"
    assert cfg.max_lateness.total_seconds() == 6 * 3600


def test_paths_are_relative_to_the_config_file(tmp_path):
    sub = tmp_path / "site"
    sub.mkdir()
    (sub / "config.toml").write_text('[database]\npath = "data/n.db"\n[smtp]\nconnections = 2\n')
    cfg = load_config(sub / "config.toml", environ={})
    assert cfg.database_path == sub / "data" / "n.db"
    assert cfg["smtp"]["connections"] == 2


@pytest.mark.parametrize(
    "text, named",
    [
        ("[smtp]\nhots = 'x'\n", "smtp.hots"),
        ("[smtp]\nport = '25'\n", "smtp.port"),
        ("[content]\nfull_text = 1\n", "content.full_text"),
        ("[mystery]\na = 1\n", "[mystery]"),
        ("[schedule]\ntimezone = 'Mars/Olympus'\n", "schedule.timezone"),
        ("[schedule]\nmax_lateness = 'soon'\n", "schedule.max_lateness"),
        ("[smtp]\nsecurity = 'ssl'\n", "smtp.security"),
        ("[smtp\n", "invalid TOML"),
        # AUTH in clear text to a host across the network (issue 10.11)
        ("[smtp]\nbackend = 'smtp'\nhost = 'mail.example.com'\nsecurity = 'none'\nusername = 'u'\n",
         "smtp.security"),
        ("[smtp]\nbackend = 'smtp'\nhost = '10.0.0.1'\nsecurity = 'none'\nusername = 'u'\n", "smtp.security"),
        # numbers and durations too big to use (issue 10.13)
        ("[smtp]\ntimeout = inf\n", "smtp.timeout"),
        ("[smtp]\ntimeout = nan\n", "smtp.timeout"),
        ("[smtp]\ntimeout = 1e300\n", "smtp.timeout"),
        ("[smtp]\nrate_limit = inf\n", "smtp.rate_limit"),
        ("[smtp]\nrate_limit = nan\n", "smtp.rate_limit"),
        ("[smtp]\nrate_limit = 1e-300\n", "smtp.rate_limit"),
        ("[smtp]\nconnections = 100000000000\n", "smtp.connections"),
        ("[schedule]\nmax_lateness = '99999999999d'\n", "schedule.max_lateness"),
        ("[schedule]\nmax_lateness = '1e400s'\n", "schedule.max_lateness"),
        pytest.param("a = " + "[" * 100_000, "invalid TOML", id="100000-nested-arrays"),
    ],
)
def test_bad_config_names_the_file_and_key(tmp_path, text, named):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    message = str(err.value)
    assert str(path) in message and named in message and "\n" not in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "::1"])
def test_plain_auth_is_fine_to_a_loopback_host(tmp_path, host):
    path = tmp_path / "config.toml"
    path.write_text(f"[smtp]\nbackend = 'smtp'\nhost = '{host}'\nsecurity = 'none'\nusername = 'u'\n")
    assert load_config(path, environ={})["smtp"]["host"] == host


def test_plain_auth_error_names_the_key_and_what_to_do(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[smtp]\nbackend = 'smtp'\nhost = 'mail.example.com'\nsecurity = 'none'\nusername = 'u'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert "smtp.security" in str(err.value) and "starttls" in str(err.value)


def test_a_bad_byte_in_the_config_file_is_reported_with_its_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"[newsletter]\nname = 'News'\npostal_address = 'Stra\xdfe 1'\n")
    with pytest.raises(ConfigError, match=r"config.toml:3: config file is not UTF-8"):
        load_config(path, environ={})


def test_secrets_come_only_from_the_environment(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[smtp]\npassword = 'hunter2'\n")
    with pytest.raises(ConfigError, match="smtp.password"):
        load_config(path, environ={})
    cfg = load_config(None, environ={"NEWSLETTER_SMTP_PASSWORD": "s3cret"})
    assert cfg.secret("smtp_password") == "s3cret"


def test_cli_reports_config_errors_in_one_line(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "bad.toml"
    path.write_text("[smtp]\nport = 'x'\n")
    proc = subprocess.run(
        [sys.executable, "-m", "newsletter", "--config", str(path), "serve", "--port", "1"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "smtp.port" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [["routes"], ["run", "--port", "1"]])
def test_flask_cli_reports_config_errors_in_one_line(tmp_path, args):
    """`flask --app newsletter COMMAND` with a bad $NEWSLETTER_CONFIG: one line, exit 2, no traceback."""
    import os
    import subprocess
    import sys

    path = tmp_path / "bad.toml"
    path.write_text("[newsletter]\nnmae = 'x'\n")
    env = dict(os.environ, NEWSLETTER_CONFIG=str(path), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", "newsletter", *args],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"error: {path}: unknown key newsletter.nmae"


def test_example_config_documents_every_key_with_its_default():
    """config.example.toml loads as is and equals the built-in defaults, key for key."""
    import tomllib

    from newsletter.config import DEFAULTS

    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    assert example == DEFAULTS


def test_example_config_documents_the_feeds_and_digests_entries(tmp_path):
    """The commented [[feeds]] and [[digests]] examples, uncommented, load and name every key."""
    import re

    from newsletter.config import ENTRIES

    text = (ROOT / "config.example.toml").read_text()
    blocks = re.findall(r"^# (\[\[\w+\]\]\n(?:# \w+ = .*\n)+)", text, re.M)
    uncommented = "".join(re.sub(r"^# ", "", block, flags=re.M) for block in blocks)
    path = tmp_path / "config.toml"
    path.write_text(uncommented)
    cfg = load_config(path, environ={})
    assert [set(cfg.feeds[0]), set(cfg.digests[0])] == [set(ENTRIES["feeds"]), set(ENTRIES["digests"])]
    assert {k: v for k, v in cfg.digests[0].items() if k not in ("name", "schedule", "feeds")} == {
        k: v for k, v in ENTRIES["digests"].items() if k not in ("name", "schedule", "feeds")}
