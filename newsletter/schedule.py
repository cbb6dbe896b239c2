"""Send times: parsing in the configured zone, display with the zone, and what is due.

A time written with an offset (``2025-03-30T09:00+02:00``, ``…Z``) is taken as given. A time
without one is wall-clock time in ``[schedule] timezone``:

- a wall time that does not exist (skipped when clocks go forward) is refused, naming the
  nearest valid times;
- a wall time that happens twice (clocks go back) means the first of the two (``fold=0``,
  still on summer time), and a note says so.

Times are stored in UTC. Nothing here reads the clock: every function takes ``now``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from .errors import InputError


@dataclass(frozen=True)
class When:
    """A parsed send time: the UTC instant and any note worth telling the user."""

    utc: datetime
    note: str = ""


def parse_when(text: str, tz: ZoneInfo) -> When:
    """Parse an ISO-8601 date and time (see module docstring). Bad input is an InputError."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(
            f"{text!r} is not an ISO-8601 time such as 2025-03-30T09:00 or 2025-03-30T09:00+02:00"
        ) from None
    if len(raw) <= 10:  # a date alone: midnight is rarely what was meant
        raise InputError(f"{text!r} has no time of day; write it as {raw}T09:00 (for example)")
    if moment.tzinfo is not None:
        return When(moment.astimezone(timezone.utc))
    return _localize(moment, tz)


def _localize(wall: datetime, tz: ZoneInfo) -> When:
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    back = first.astimezone(timezone.utc).astimezone(tz)
    if back.replace(tzinfo=None) != wall:  # in the gap: no instant has this wall time
        raise InputError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {tz.key} (clocks go forward then);"
            f" choose a time outside the gap, e.g. {format_when(back, tz)}"
        )
    if first.utcoffset() != second.utcoffset():
        return When(
            first.astimezone(timezone.utc),
            f"note: {wall:%Y-%m-%d %H:%M} happens twice in {tz.key} (clocks go back);"
            f" using the first, {format_when(first, tz)}",
        )
    return When(first.astimezone(timezone.utc))


def format_when(moment: datetime | None, tz: ZoneInfo) -> str:
    """``2025-03-30 09:00 CEST (+02:00)``; ``-`` for no time."""
    if moment is None:
        return "-"
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({offset[:3]}:{offset[3:]})"


def due_state(send_at: datetime, now: datetime, max_lateness: timedelta) -> str:
    """For a scheduled issue: ``wait`` (not yet), ``due`` (send now) or ``missed`` (too late)."""
    if send_at > now:
        return "wait"
    return "missed" if now - send_at > max_lateness else "due"
