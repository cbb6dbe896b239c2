"""Every line the commands print goes through :func:`echo`: text from input (titles, subjects,
names, addresses, errors quoting an argument) reaches the terminal without control characters
(:func:`~newsletter.terminal.printable`)."""
from __future__ import annotations

from typing import IO

import click

from ..terminal import printable


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` of ``message`` made printable."""
    click.echo(printable(str(message)), err=err, nl=nl)


class PrintableStream:
    """A text stream for writers that print many lines (CSV, listings): each write made printable."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(printable(text))
