"""Template filters: times in the configured zone, sizes, and article text (the email's own
filter, so the public article page shows the parser's sanitised HTML exactly as the email does)."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app

from ..compose import inline_html


def local_time(value: datetime | str | None, fmt: str = "%a %-d %b %Y, %H:%M %Z") -> str:
    """A stored UTC time shown in ``[schedule] timezone``, with its zone."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(current_app.config["NEWSLETTER"].timezone).strftime(fmt)


def input_time(value: datetime | str | None) -> str:
    """The value for an ``<input type=datetime-local>`` in the configured zone."""
    return local_time(value, "%Y-%m-%dT%H:%M")


def day(value: date | None) -> str:
    return value.strftime("%-d %b %Y") if value else ""


def size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} bytes"


FILTERS = {"local_time": local_time, "input_time": input_time, "day": day, "size": size,
           "inline_html": inline_html}
