"""TLS: STARTTLS and implicit TLS verify the server's certificate and never fall back to plain text."""
from __future__ import annotations

import pytest

from helpers import add_subscribers, make_issue, open_db, run, states, write_config
from smtpserver import smtp_server, tls_files


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return tls_files(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_self_signed_refused_by_default_accepted_with_ca_file(tmp_path, tls, security):
    server_args = {"starttls_context" if security == "starttls" else "tls_context": tls.server_context}
    with smtp_server(**server_args) as (port, server):
        refused = write_config(tmp_path, port, security=security)
        cfg, conn = open_db(refused)
        add_subscribers(conn, 5)
        issue = make_issue(conn)
        result = run(refused, "send", str(issue))
        assert result.exit_code == 3
        assert "TLS failed" in result.stderr and "CERTIFICATE_VERIFY_FAILED" in result.stderr
        assert server.received == [] and states(conn, issue) == {"pending": 5}

        trusted = write_config(tmp_path, port, security=security, ca_file=str(tls.ca_file))
        result = run(trusted, "send", str(issue))
        assert result.exit_code == 0, result.output
        assert len(server.received) == 5 and all(r.tls for r in server.received)


def test_starttls_required_but_not_offered_is_refused(tmp_path):
    with smtp_server() as (port, server):  # a plain server: no STARTTLS in its EHLO
        cfg_path = write_config(tmp_path, port, security="starttls")
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 3)
        issue = make_issue(conn)
        result = run(cfg_path, "send", str(issue))
        assert result.exit_code == 3 and "does not offer STARTTLS" in result.stderr
        assert server.received == [] and states(conn, issue) == {"pending": 3}


def test_implicit_tls_against_a_plain_server_fails_closed(tmp_path, tls):
    with smtp_server() as (port, server):
        cfg_path = write_config(tmp_path, port, security="tls", ca_file=str(tls.ca_file), timeout=2.0)
        cfg, conn = open_db(cfg_path)
        add_subscribers(conn, 2)
        issue = make_issue(conn)
        result = run(cfg_path, "send", str(issue))
        assert result.exit_code == 3 and server.received == []
