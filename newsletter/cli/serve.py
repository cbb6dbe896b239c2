"""``serve``: the editor web app on the development server."""
from __future__ import annotations

import click

from . import cli, current_config


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Run the editor web app (development server)."""
    from ..web import create_app

    app = create_app({"NEWSLETTER": current_config()})
    app.run(host=host, port=port)
