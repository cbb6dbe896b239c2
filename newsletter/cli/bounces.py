"""``bounces process|fetch``: read bounce and complaint messages and apply them."""
from __future__ import annotations

import sys

import click

from ..bounces.intake import Processor, Summary, mailbox_messages, read_file, read_limited
from ..errors import InputError
from .context import current_config, current_db
from .output import echo


@click.group()
def bounces() -> None:
    """Read bounces and spam complaints; clean the subscriber list with them."""


def _report(summary: Summary) -> None:
    for line in summary.lines:
        echo(line)
    for line in summary.errors:
        echo(f"error: {line}", err=True)
    click.get_current_context().exit(summary.exit_code)


def _files(files: tuple[str, ...]):
    for name in files or ("-",):
        try:
            raw = read_limited(sys.stdin.buffer, "stdin") if name == "-" else read_file(name)
        except InputError as exc:
            raw = exc
        yield ("stdin" if name == "-" else name), raw


@bounces.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--recipient",
    default="",
    metavar="ADDR",
    help="The address the message was delivered to, when the mail server passes it "
    "(Postfix pipe: ${original_recipient}); read for the VERP token.",
)
def process(files: tuple[str, ...], recipient: str) -> None:
    """Read bounce and complaint messages: one per FILE, or one on stdin (for a Postfix pipe
    transport, procmail or .forward).

    A hard bounce makes the subscriber bounced; soft bounces do after [bounces] soft_limit on
    distinct issues; a spam complaint makes them complained; auto-replies are ignored; what is
    not understood is kept for the editor. One line per message. Exit status 0 when every
    message was read, 2 when one could not be (too large, empty, a forged VERP token).
    """
    config = current_config()
    processor = Processor(current_db(), config)
    _report(processor.run(_files(files), recipient))


@bounces.command()
def fetch() -> None:
    """Read the bounce mailbox: [bounces] maildir, or the IMAP mailbox at [bounces] imap_host
    (TLS, certificate verified; password from NEWSLETTER_IMAP_PASSWORD).

    Each message read is moved to [bounces] processed_folder, never deleted. Exit status 0
    when every message was read, 2 when one could not be, 3 when the IMAP server could not be
    reached or refused the login.
    """
    config = current_config()
    processor = Processor(current_db(), config)
    _report(processor.run(mailbox_messages(config)))


COMMANDS = (bounces,)
