"""The ``python -m newsletter`` command line: a thin click layer over the library.

Each area's commands live in a module of this package. Domain exceptions become a one-line
``error: …`` on stderr and the contract's exit status; no traceback for an expected failure.
"""
from __future__ import annotations

import click

from ..config import Config, load_config
from ..errors import NewsletterError


class State:
    """What the top-level options set: the config file, loaded on first use."""

    def __init__(self, config_path: str | None):
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


def current_config() -> Config:
    """The config of the running command, under ``python -m newsletter`` or ``flask``."""
    ctx = click.get_current_context()
    state = ctx.find_object(State)
    if state is not None:
        return state.config
    from flask.cli import ScriptInfo  # running as `flask --app newsletter COMMAND`

    return ctx.ensure_object(ScriptInfo).load_app().config["NEWSLETTER"]


class Command(click.Command):
    """A command whose domain errors end as one line and the contract's exit status."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


class Group(click.Group):
    command_class = Command
    group_class = type  # subgroups are of this same class

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NewsletterError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
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
    ctx.obj = State(config_path)


def main() -> None:
    cli(prog_name="python -m newsletter")


# Register each area's commands (imported for their side effect on `cli`).
from . import content as _content  # noqa: E402,F401
from . import serve as _serve  # noqa: E402,F401
from . import subscribers as _subscribers  # noqa: E402,F401
from . import issues as _issues  # noqa: E402,F401
from . import check as _check  # noqa: E402,F401
from . import send as _send  # noqa: E402,F401
