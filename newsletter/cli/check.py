"""``check``: email-safety and deliverability findings for articles or a saved message."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..check import Finding, check_article, check_html, check_message, sort_findings
from ..errors import InputError
from .context import current_config
from .output import echo


@click.command("check")
@click.argument("targets", nargs=-1, metavar="SLUG_OR_PATH...")
@click.option("--eml", "emls", multiple=True, metavar="FILE",
              help="Check a saved message (.eml), or an email's HTML (.html), instead of "
                   "composing an article.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON list.")
@click.pass_context
def check_command(ctx: click.Context, targets: tuple[str, ...], emls: tuple[str, ...],
                  as_json: bool) -> None:
    """Check the email each article composes to (or a saved message with --eml FILE).

    Prints one finding a line, errors first: `error|warning  RULE  MESSAGE`. With several
    articles or files, each message starts with the one it is about. Exits 1 when any
    finding is an error, 2 for a missing file or an unknown slug.
    """
    if not targets and not emls:
        raise click.UsageError("give at least one SLUG_OR_PATH or --eml FILE")
    config = current_config()
    results: list[tuple[str, list[Finding]]] = []
    for name in emls:
        try:
            raw = Path(name).read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot read message: {exc.strerror}") from None
        if Path(name).suffix.lower() in (".html", ".htm"):
            results.append((name, check_html(raw.decode("utf-8", "replace"), config=config)))
        else:
            results.append((name, check_message(raw, config=config)))
    for target in targets:
        results.append((target, check_article(target, config)))
    several = len(results) > 1
    findings = sort_findings(
        Finding(f.severity, f.rule, f"{name}: {f.message}" if several else f.message)
        for name, found in results for f in found
    )
    if as_json:
        echo(json.dumps([f.as_dict() for f in findings], indent=2, ensure_ascii=False))
    else:
        for finding in findings:
            echo(finding.line())
    if any(f.severity == "error" for f in findings):
        ctx.exit(1)


COMMANDS = (check_command,)
