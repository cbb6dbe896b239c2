"""``articles`` and ``compose``: read articles and write the email they make."""
from __future__ import annotations

from pathlib import Path

import click

from .. import content, links
from ..compose import render_issue
from ..errors import InputError
from ..mail import MessageTemplate
from . import cli, current_config

SAMPLE_ID = 0
SAMPLE_NAME = "Sample Subscriber"
SAMPLE_EMAIL = "subscriber@example.com"


@cli.command()
def articles() -> None:
    """List the articles in the content folder: slug, date, title and author, newest first,
    with any parse warnings indented under each. Files that cannot be read are reported on
    stderr (exit status 1)."""
    config = current_config()
    found, errors = content.load_articles_report(config.content_dir)
    width = max((len(a.slug) for a in found), default=0)
    for article in found:
        day = article.date.isoformat() if article.date else "-"
        by = f"  by {article.author}" if article.author else ""
        click.echo(f"{article.slug:<{width}}  {day:<10}  {article.title}{by}")
        for warning in article.warnings:
            click.echo(f"    warning: {warning}")
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if not found and not errors:
        click.echo(f"no articles in {config.content_dir}", err=True)
    if errors:
        click.get_current_context().exit(1)


@cli.command()
@click.argument("slugs_or_paths", metavar="SLUG_OR_PATH...", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    default="out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to write the files into.",
)
@click.option("--subject", default=None, help="Subject line (default: the lead article's title).")
def compose(slugs_or_paths: tuple[str, ...], out_dir: str, subject: str | None) -> None:
    """Render the articles as one newsletter issue (the first is the lead) and write
    OUT/<slug>.html (inlined email HTML), OUT/<slug>.txt (the text part) and OUT/<slug>.eml
    (the full message to a sample subscriber), named after the lead article; prints the paths."""
    config = current_config()
    chosen = [content.resolve(item, config.content_dir) for item in slugs_or_paths]
    rendered = render_issue(chosen, config, subject=subject)
    values = sample_values(config)
    html, text = rendered.fill(values)
    message = MessageTemplate(rendered, config).personalize(SAMPLE_ID, SAMPLE_EMAIL, SAMPLE_NAME)
    folder = Path(out_dir)
    stem = chosen[0].slug
    paths = [folder / f"{stem}.html", folder / f"{stem}.txt", folder / f"{stem}.eml"]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths[0].write_text(html, encoding="utf-8")
        paths[1].write_text(text, encoding="utf-8")
        paths[2].write_bytes(message)
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot write: {exc.strerror or exc}") from None
    for path in paths:
        click.echo(str(path))


def sample_values(config) -> dict[str, str]:
    """The sample subscriber's values, as :meth:`mail.MessageTemplate.personalize` fills them."""
    return {
        "name": SAMPLE_NAME,
        "email": SAMPLE_EMAIL,
        "unsubscribe_url": links.unsubscribe_url(config, SAMPLE_ID, SAMPLE_EMAIL),
        "webview_url": f"{config.base_url}/",
    }
