"""``serve``: the editor web app on the development server; ``login-link`` for a new login."""
from __future__ import annotations

import click

from .context import current_config, current_db
from .output import echo


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Run the editor web app (development server).

    With no NEWSLETTER_EDITOR_PASSWORD set, prints a one-time login link for the editor.
    """
    from ..web import create_app
    from ..web.auth import announce

    config = current_config()
    app = create_app({"NEWSLETTER": config})
    announce(config, host, port)
    app.run(host=host, port=port)


@click.command("login-link")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the server listens on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Port the server listens on.")
def login_link(host: str, port: int) -> None:
    """Print a new one-time editor login link for a running server (no password set)."""
    from ..web.auth import login_link as make_link

    link = make_link(current_config(), host, port)
    if link is None:
        raise click.UsageError("NEWSLETTER_EDITOR_PASSWORD is set: log in with the password")
    echo(link)


COMMANDS = (serve, login_link,)
