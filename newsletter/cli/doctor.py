"""``doctor``: the sender domain and setup against Gmail's and Yahoo's bulk-sender rules."""
from __future__ import annotations

import click

from ..doctor.checks import run_checks
from ..doctor.dns import resolver
from .context import current_config
from .output import echo


@click.command()
def doctor() -> None:
    """Check the sender domain's DNS (SPF covering the relay, DKIM, DMARC aligned with the From
    domain) and the setup (https links, one-click unsubscribe) against bulk-sender rules.

    Prints one check a line: `ok|warning|error  CHECK  MESSAGE`; each problem says exactly
    which DNS record to add. Set [doctor] dkim_selector, and relay_ip when the relay is this
    machine. Exit status 1 when any check is an error.
    """
    config = current_config()
    findings = run_checks(config, resolver(config["doctor"]["nameserver"]))
    for finding in findings:
        echo(finding.line())
    if any(f.severity == "error" for f in findings):
        click.get_current_context().exit(1)


COMMANDS = (doctor,)
