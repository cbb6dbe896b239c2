"""``subscribers import|add|remove|list|export``."""
from __future__ import annotations

import sys

import click

from .. import subscriber_import
from .. import subscribers as subscriber_list
from ..states import SubscriberStatus
from .context import current_config, current_db
from .output import PrintableStream, echo


@click.group()
def subscribers() -> None:
    """Manage the subscriber list."""


@subscribers.command("import")
@click.argument("file", type=click.Path(dir_okay=True))
def import_(file: str) -> None:
    """Import subscribers from a CSV file with an `email` column (`name` optional).

    Each rejected row is reported as FILE:LINE: reason and the rest are imported. Importing the
    same file again changes nothing; an unsubscribed address stays unsubscribed; a different,
    non-empty name updates the stored name; an address erased at its owner's request is not
    imported (named on a line of its own). Exit status 1 when any row was rejected.
    """
    special_use = current_config()["newsletter"]["special_use_domains"]
    report = subscriber_import.import_csv(current_db(), file, special_use=special_use,
                                          on_reject=lambda line: echo(line, err=True))
    echo(report.summary)
    if report.renamed:
        echo(f"updated the name of {report.renamed} existing subscriber{'s' * (report.renamed != 1)}")
    if report.suppressed:
        echo(report.suppressed_note)
    if report.rejected:
        click.get_current_context().exit(1)


@subscribers.command()
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option(
    "--resubscribe",
    is_flag=True,
    help="Re-activate an address that had unsubscribed, bounced, complained or was erased "
         "(only when they asked to come back).",
)
def add(email: str, name: str, resubscribe: bool) -> None:
    """Add one subscriber.

    An address that unsubscribed, bounced or complained stays so, and one erased at its
    owner's request is not added, unless --resubscribe is given (they asked to come back).
    """
    sub, outcome = subscriber_list.add(current_db(), email, name, resubscribe=resubscribe,
                                       special_use=current_config()["newsletter"]["special_use_domains"])
    if outcome == "suppressed":
        echo(f"{email} was erased at its owner's request; not added"
             " (use --resubscribe if they asked to come back)", err=True)
    elif outcome == "added":
        echo(f"added {sub.email}")
    elif outcome == "exists":
        echo(f"{sub.email} is already subscribed")
    elif outcome == "resubscribed":
        echo(f"resubscribed {sub.email}")
    else:
        since = f" on {sub.unsubscribed_at[:10]}" if sub.unsubscribed_at else ""
        echo(
            f"{sub.email} {sub.status}{since}; left {sub.status}"
            " (use --resubscribe if they asked to come back)",
            err=True,
        )


@subscribers.command()
@click.argument("email")
def remove(email: str) -> None:
    """Unsubscribe an address. It is kept (marked unsubscribed), so no import brings it back."""
    sub, changed = subscriber_list.remove(current_db(), email)
    echo(f"unsubscribed {sub.email}" if changed else f"{sub.email} was already unsubscribed")


@subscribers.command("list")
@click.option("--status", type=click.Choice([s.value for s in SubscriberStatus]),
              help="Only subscribers with this status.")
def list_(status: str | None) -> None:
    """List subscribers, one a line: email, name, status (tab-separated)."""
    out = PrintableStream(sys.stdout)
    for sub in subscriber_list.iter_subscribers(current_db(), status):
        out.write(f"{sub.email}\t{sub.name}\t{sub.status}\n")


@subscribers.command()
def export() -> None:
    """Write all subscribers as CSV to stdout: email, name, status, subscribed_at,
    unsubscribed_at, then the consent record: consent_source, consent_at, confirmed_at, consent_ip.

    A cell that a spreadsheet would run as a formula (starting with = + - @, tab or CR) is
    written with a ' before it; `subscribers import` takes it off again.
    """
    subscriber_list.export_csv(current_db(), PrintableStream(sys.stdout))


COMMANDS = (subscribers,)
