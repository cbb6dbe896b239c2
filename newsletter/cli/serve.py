"""``serve``: the editor and public web app on a production server; ``login-link`` for a new login."""
from __future__ import annotations

import click

from .context import current_config
from .output import echo


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port, printed when listening).")
@click.option("--workers", type=click.IntRange(1, 64), metavar="N",
              help="Processes answering requests (default: [server] workers).")
@click.option("--threads", type=click.IntRange(1, 64), metavar="N",
              help="Threads per process (default: [server] threads).")
def serve(host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Run the editor and public web app on a production server (gunicorn).

    Prints where it listens and, with no NEWSLETTER_EDITOR_PASSWORD set, a one-time login link
    for the editor. Behind a reverse proxy, set [server] trusted_proxies. Stops on Ctrl-C or
    SIGTERM, finishing the requests under way.
    """
    from ..web import create_app
    from ..web.auth import announce
    from ..web.server import run

    config = current_config()
    app = create_app({"NEWSLETTER": config})

    def ready(bound_host: str, bound_port: int) -> None:
        echo(f" * Running on http://{bound_host}:{bound_port}", err=True)
        announce(config, host, bound_port)

    run(app, host, port, workers=workers or config["server"]["workers"],
        threads=threads or config["server"]["threads"], on_ready=ready)


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
