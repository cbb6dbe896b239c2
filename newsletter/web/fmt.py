"""Template filters: times in the configured zone, sizes, and article text (the email's own
filter, so the public article page shows the parser's sanitised HTML exactly as the email does)."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from flask import current_app
from markupsafe import Markup, escape

from ..compose import inline_html


def local_time(value: datetime | str | None, fmt: str = "%a %-d %b %Y, %H:%M %Z") -> str:
    """A stored UTC time shown in ``[schedule] timezone``, with its zone."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(current_app.config["NEWSLETTER"].timezone).strftime(fmt)


def send_time(value: datetime | str | None) -> str:
    """A send time in ``[schedule] timezone`` with its zone, and the same moment in UTC:
    ``Thu 4 Dec 2025, 09:00 CET (08:00 UTC)`` (no UTC twin when the zone is UTC)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    shown = local_time(value)
    if current_app.config["NEWSLETTER"].timezone.key in ("UTC", "Etc/UTC"):
        return shown
    utc = value.astimezone(timezone.utc)
    same_day = utc.date() == value.astimezone(current_app.config["NEWSLETTER"].timezone).date()
    return f"{shown} ({utc.strftime('%H:%M' if same_day else '%a %H:%M')} UTC)"


def input_time(value: datetime | str | None) -> str:
    """The value for an ``<input type=datetime-local>`` in the configured zone."""
    return local_time(value, "%Y-%m-%dT%H:%M")


def day(value: date | None) -> str:
    return value.strftime("%-d %b %Y") if value else ""


def size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} bytes"


def ticks(text: str) -> Markup:
    """Plain text with its `backticked` words shown as code (the rest escaped)."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


FILTERS = {"ticks": ticks, "local_time": local_time, "send_time": send_time, "input_time": input_time, "day": day,
           "size": size, "inline_html": inline_html}
