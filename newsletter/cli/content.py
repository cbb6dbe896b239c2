"""``articles`` and ``compose``: read articles and write the email they make."""
from __future__ import annotations

from pathlib import Path

import click

from .. import content
from ..compose import render_issue
from ..errors import InputError
from ..mail import SAMPLE, MessageTemplate
from .context import current_config
from .output import echo


@click.group(invoke_without_command=True)
@click.pass_context
def articles(ctx: click.Context) -> None:
    """List the articles in the content folder: slug, date, title and author, newest first,
    with any parse warnings indented under each. Files that cannot be read are reported on
    stderr (exit status 1)."""
    if ctx.invoked_subcommand is not None:
        return
    config = current_config()
    found, errors = content.load_articles_report(config.content_dir)
    width = max((len(a.slug) for a in found), default=0)
    for article in found:
        day = article.date.isoformat() if article.date else "-"
        by = f"  by {article.author}" if article.author else ""
        echo(f"{article.slug:<{width}}  {day:<10}  {article.title}{by}")
        for warning in article.warnings:
            echo(f"    warning: {warning}")
    for error in errors:
        echo(f"error: {error}", err=True)
    if not found and not errors:
        echo(f"no articles in {config.content_dir}", err=True)
    if errors:
        click.get_current_context().exit(1)


@click.command()
@click.argument("slugs_or_paths", metavar="SLUG_OR_PATH...", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    default="out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to write the files into.",
)
@click.option(
    "--digest",
    is_flag=True,
    help="Render all the articles as one issue (the first is the lead), named after the lead.",
)
@click.option("--subject", default=None, help="Subject line (default: the lead article's title).")
def compose(slugs_or_paths: tuple[str, ...], out_dir: str, digest: bool, subject: str | None) -> None:
    """Write the email each article makes: OUT/<slug>.html (inlined email HTML), OUT/<slug>.txt
    (the text part) and OUT/<slug>.eml (the full message to a sample subscriber); prints the
    paths. With --digest, one issue of all the articles instead."""
    config = current_config()
    chosen = [content.resolve(item, config.content_dir) for item in slugs_or_paths]
    groups = [chosen] if digest else [[article] for article in chosen]
    folder = Path(out_dir)
    for group in groups:
        rendered = render_issue(group, config, subject=subject)
        template = MessageTemplate(rendered, config)
        html, text = rendered.fill(template.recipient_values(*SAMPLE[1:]))
        stem = folder / group[0].slug
        files = {".html": html.encode("utf-8"), ".txt": text.encode("utf-8"), ".eml": template.sample()}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for suffix, data in files.items():
                stem.with_name(stem.name + suffix).write_bytes(data)
        except OSError as exc:
            raise InputError(f"{out_dir}: cannot write: {exc.strerror or exc}") from None
        for suffix in files:
            echo(str(stem) + suffix)


COMMANDS = (articles, compose,)
