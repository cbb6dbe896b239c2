"""``feeds pull`` and ``articles import``: articles from feeds and web pages."""
from __future__ import annotations

import click

from .content import articles
from .context import current_config, current_db
from .issues import _now
from .output import echo


@click.group()
def feeds() -> None:
    """Articles from the RSS and Atom feeds of the config's [[feeds]] entries."""


@feeds.command()
@click.pass_context
def pull(ctx: click.Context) -> None:
    """Fetch every [[feeds]] entry and write its new items as articles in the content folder;
    prints their slugs, one a line. An item is pulled once, even if its feed entry changes
    later. A feed that fails is reported on stderr in one line and the others are still
    pulled (exit status 1)."""
    from ..feeds import pull as pull_all

    config = current_config()
    if not config.feeds:
        echo("no [[feeds]] in the config", err=True)
        return
    results = pull_all(current_db(), config, _now())
    for result in results:
        for slug in result.slugs:
            echo(slug)
    failed = [result for result in results if result.error]
    for result in failed:
        echo(f"error: feed {result.feed!r}: {result.error}", err=True)
    ctx.exit(1 if failed else 0)


@articles.command("import")
@click.argument("source", metavar="URL_OR_FILE")
def import_(source: str) -> None:
    """Make an article in the content folder from a web page (an http(s) URL) or a saved .html
    file: its main text (menus, banners and comments dropped), with title, author, date,
    description and lead image from the page's metadata. Prints the new article's slug."""
    from ..content import slug_for
    from ..extract import import_page

    config = current_config()
    path = import_page(config, source, _now().astimezone(config.timezone).date())
    echo(slug_for(path.name))


COMMANDS = (feeds,)
