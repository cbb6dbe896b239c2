"""The ``python -m newsletter`` command line: a thin click layer over the library.

Each area's commands live in a module of this package and are registered here. A domain
exception (:mod:`newsletter.errors`) ends the command as one ``error: ...`` line on stderr and
the contract's exit status; no traceback for an expected failure.
"""
from __future__ import annotations

from typing import Any

import click

from ..errors import NewsletterError
from ..store import database_errors, storage_error
from ..terminal import printable
from . import bounces, check, content, db, doctor, feeds, issues, send, serve, subscribers
from .context import State
from .output import echo


class Root(click.Group):
    """The top-level group: turns a domain error from any command, or a failure of the
    database (locked too long, disk full), into one line and its status. Click's own usage
    errors quote arguments: they are made printable too (:mod:`.output`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            except database_errors() as exc:
                raise storage_error(exc, ctx.find_object(State).config) from None
        except NewsletterError as exc:
            echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.message = printable(exc.message)
            raise


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="NEWSLETTER_CONFIG",
    help="Config file (default: $NEWSLETTER_CONFIG, else ./config.toml, else built-in defaults).",
)
@click.version_option(package_name=None, version="0.1.0", prog_name="newsletter")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Turn articles into an email newsletter, preview it, and mail it to subscribers."""
    if not isinstance(ctx.obj, State):  # else handed in by a program embedding the commands
        ctx.obj = State(config_path)
    ctx.call_on_close(ctx.obj.close)


for module in (content, check, subscribers, issues, send, serve, feeds, bounces, doctor, db):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="python -m newsletter")
