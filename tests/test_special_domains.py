"""Addresses at special-use domain names (.test, .local, .localhost, .invalid, .arpa, .onion)
are refused by default, as no public mail server delivers there; `newsletter.special_use_domains
= true` accepts them, for a staging setup at example.test or a company mail system on corp.local."""
from __future__ import annotations

import pytest

from newsletter import subscribers, testers
from newsletter.store import connect

from helpers import CONTENT, run, write_config

SPECIAL = ["ann@example.test", "bob@corp.local", "cy@localhost", "dee@mail.localhost",
           "eve@x.invalid", "fay@1.0.0.127.in-addr.arpa", "gus@abc.onion"]


@pytest.fixture
def conn(config):
    return connect(config.database_path)


@pytest.mark.parametrize("address", SPECIAL)
def test_refused_by_default(conn, address):
    with pytest.raises(Exception, match="special-use or reserved name|should have a period"):
        subscribers.add(conn, address)
    with pytest.raises(ValueError, match="special-use or reserved name|should have a period"):
        testers.add(conn, address)


@pytest.mark.parametrize("address", SPECIAL)
def test_accepted_when_the_switch_is_on(conn, address):
    sub, outcome = subscribers.add(conn, address, special_use=True)
    assert outcome == "added" and sub.email == address
    local, domain = address.split("@")
    assert testers.add(conn, address.upper(), special_use=True) == local.upper() + "@" + domain


def test_the_switch_keeps_every_other_check(conn):
    assert subscribers.normalize_email("Zoe@Bücher.LOCAL", special_use=True) == "Zoe@xn--bcher-kva.local"
    for bad in ("no-at.local", "a@@corp.local", "a@-corp.local", "a b@corp.local", "a@corp..local"):
        with pytest.raises(ValueError):
            subscribers.normalize_email(bad, special_use=True)
    assert subscribers.normalize_email("a@example.com", special_use=True) == "a@example.com"


def test_command_line_follows_the_config_switch(tmp_path):
    path = write_config(tmp_path, backend="outbox")
    path.write_text(path.read_text() + f'[content]\ndir = "{CONTENT}"\n')
    assert run(path, "subscribers", "add", "bob@corp.local").exit_code == 2
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("email\nann@example.test\ncy@example.com\n")
    refused = run(path, "subscribers", "import", str(csv_file))
    assert refused.exit_code == 1 and "list.csv:2: " in refused.output

    path.write_text(path.read_text().replace("[newsletter]\n", "[newsletter]\nspecial_use_domains = true\n"))
    assert run(path, "subscribers", "add", "bob@corp.local").exit_code == 0
    assert run(path, "subscribers", "import", str(csv_file)).exit_code == 0
    listed = run(path, "subscribers", "list").output
    assert "bob@corp.local" in listed and "ann@example.test" in listed
    sent = run(path, "send-test", "the-emergency-fund-ladder", "--to", "qa@staging.test")
    assert sent.exit_code == 0 and "qa@staging.test: sent" in sent.output
