"""Recurring digests: ``[[digests]]`` entries that turn new articles into an issue on a schedule.

A schedule is ``every <day> HH:MM`` (``day``: ``day``, ``weekday`` for Monday to Friday, or a
day name such as ``Monday``/``mon``; ``at`` before the time is optional) or a five-field cron
expression (read by ``croniter``), in the newsletter's time zone. Each scheduled time is a
*slot*; a slot is handled once (``digest_runs``):

- due (no more than ``max_lateness`` ago) with new items: an issue of them is created, a draft,
  or scheduled at the slot when ``auto``; due without items: nothing yet (items pulled later
  within ``max_lateness`` still make it);
- later than ``max_lateness``: not sent late; recorded ``missed`` (reported) when it had items,
  ``lapsed`` (silent) when it had none or the digest never ran before. Items are never lost:
  the next slot takes everything newer than the last issue of the digest.

Items are articles: those pulled from the digest's ``feeds`` (by pull time), or with no
``feeds`` every article in the content folder (by pull time for pulled ones, else the start of
their date). Newest first, at most ``max_items``, none already in an earlier issue of the digest.
:func:`decide` is pure (it takes ``now``); :func:`run` does the reading and writing.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from croniter import croniter

from .config import Config
from .store import Connection, from_db_time, to_db_time

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EVERY = re.compile(r"^every\s+([a-z,\s]+?)\s+(?:at\s+)?(\d{1,2}):(\d{2})$", re.I)
#: Fields a subject pattern may use.
SUBJECT_FIELDS = ("name", "newsletter", "date", "count")


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the cron expression it stands for, and the text as written."""

    cron: str
    text: str

    def latest(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The last slot at or before ``now`` (UTC). A wall time met twice (clocks going back)
        is one slot, the first."""
        it = croniter(self.cron, now.astimezone(tz) + timedelta(microseconds=1))
        slot = it.get_prev(datetime)
        before = it.get_prev(datetime)
        if before.replace(tzinfo=None) == slot.replace(tzinfo=None):
            slot = before
        return slot.astimezone(timezone.utc)

    def previous(self, slot: datetime, tz: ZoneInfo) -> datetime:
        """The slot before ``slot`` (UTC)."""
        return self.latest(slot - timedelta(microseconds=1), tz)


def parse_schedule(text: str) -> Schedule:
    """``every Monday 08:00`` or a cron expression; ValueError naming what is wrong."""
    raw = " ".join(text.split())
    match = _EVERY.match(raw)
    if match:
        hour, minute = int(match.group(2)), int(match.group(3))
        if hour > 23 or minute > 59:
            raise ValueError(f"schedule {text!r}: {match.group(2)}:{match.group(3)} is not a time of day")
        days = _cron_days(match.group(1), text)
        return Schedule(f"{minute} {hour} * * {days}", raw)
    if raw.lower().startswith("every"):
        raise ValueError(f"schedule {text!r}: write it as 'every Monday 08:00', 'every day 07:30'"
                         " or 'every weekday 09:00'")
    if len(raw.split()) != 5 or not croniter.is_valid(raw):
        raise ValueError(f"schedule {text!r} is neither 'every <day> HH:MM' nor a five-field cron"
                         " expression such as '0 8 * * 1'")
    return Schedule(raw, raw)


def _cron_days(words: str, text: str) -> str:
    """``monday, thu`` -> ``1,4``; ``day`` -> ``*``; ``weekday`` -> ``1-5``."""
    numbers: list[str] = []
    for word in re.split(r"[\s,]+", words.lower()):
        stem = word.removesuffix("s")
        if stem in ("", "and"):
            continue
        if stem == "day":
            return "*"
        found = [n for n, name in enumerate(_DAYS, 1) if len(stem) >= 3 and name.startswith(stem)]
        if stem == "weekday":
            numbers.append("1-5")
        elif found:
            numbers.append(str(found[0] % 7))
        else:
            raise ValueError(f"schedule {text!r}: {word!r} is not a day (Monday … Sunday, day, weekday)")
    return ",".join(dict.fromkeys(numbers))


def check_subject(pattern: str) -> None:
    """ValueError unless ``pattern`` formats with :data:`SUBJECT_FIELDS` only, on one line."""
    if "\n" in pattern or "\r" in pattern:
        raise ValueError("subject must be one line")
    try:
        pattern.format(name="n", newsletter="n", date=date(2025, 1, 1), count=1)
    except KeyError as exc:
        raise ValueError(f"subject {pattern!r}: unknown field {{{exc.args[0]}}};"
                         f" use {', '.join('{' + f + '}' for f in SUBJECT_FIELDS)}") from None
    except (ValueError, IndexError, AttributeError) as exc:
        raise ValueError(f"subject {pattern!r}: {exc}") from None


@dataclass(frozen=True)
class Digest:
    """One ``[[digests]]`` entry."""

    name: str
    schedule: Schedule
    feeds: tuple[str, ...] = ()
    max_items: int = 10
    subject: str = "{name} — {date}"
    auto: bool = False

    @classmethod
    def from_entry(cls, entry: dict) -> "Digest":
        return cls(entry["name"], parse_schedule(entry["schedule"]), tuple(entry["feeds"]),
                   entry["max_items"], entry["subject"], entry["auto"])


@dataclass(frozen=True)
class Candidate:
    """An article that could go into a digest, and the time it counts as new from (UTC)."""

    slug: str
    since: datetime


@dataclass(frozen=True)
class Decision:
    """What to do for a digest now.

    kind: ``wait`` (nothing to do), ``due`` (create an issue of ``items`` for ``slot``),
    ``missed`` (``slot`` is more than max_lateness past and had items: record and report) or
    ``lapsed`` (past, no items or never run: record silently).
    """

    kind: str
    slot: datetime | None = None
    items: tuple[str, ...] = ()
    late: timedelta = timedelta(0)


def decide(
    digest: Digest,
    now: datetime,
    tz: ZoneInfo,
    max_lateness: timedelta,
    *,
    last_slot: datetime | None,
    last_issue_at: datetime | None,
    candidates: list[Candidate],
    already: frozenset[str] = frozenset(),
) -> Decision:
    """Whether ``digest`` is due at ``now`` and with which items (see module docstring).

    ``last_slot``: the last slot handled; ``last_issue_at``: when its last issue was made
    (None: never; then the slot before this one stands for it); ``already``: slugs in
    earlier issues of this digest. New items: those from the start of that day (in ``tz``)
    on, not in ``already`` (so an article dated the day of the last issue but written after
    it still counts).
    """
    slot = digest.schedule.latest(now, tz)
    if last_slot is not None and slot <= last_slot:
        return Decision("wait")
    since = day_start((last_issue_at or digest.schedule.previous(slot, tz)).astimezone(tz).date(), tz)
    fresh = sorted((c for c in candidates if c.slug not in already and c.since >= since),
                   key=lambda c: (c.since, c.slug), reverse=True)
    items = tuple(dict.fromkeys(c.slug for c in fresh))[: digest.max_items]
    late = now - slot
    if late > max_lateness:
        return Decision("missed" if items and last_slot is not None else "lapsed", slot, items, late)
    return Decision("due", slot, items, late) if items else Decision("wait")


def subject_for(digest: Digest, slot: datetime, tz: ZoneInfo, newsletter: str, count: int) -> str:
    """The issue's subject from the digest's pattern (``{date}`` is the slot's local date)."""
    day = slot.astimezone(tz).date()
    return digest.subject.format(name=digest.name, newsletter=newsletter, date=day, count=count)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Midnight at the start of ``day`` in ``tz``, as UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


# --- reading and writing ------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What :func:`run` did for one digest: ``created`` (``issue_id``, ``count`` articles,
    ``scheduled`` when auto) or ``missed`` (``late``)."""

    digest: str
    kind: str
    slot: datetime
    issue_id: int | None = None
    count: int = 0
    scheduled: bool = False
    late: timedelta = timedelta(0)


def configured(config: Config) -> list[Digest]:
    """The config's ``[[digests]]`` as :class:`Digest` objects."""
    return [Digest.from_entry(entry) for entry in config.digests]


def run(conn: Connection, config: Config, now: datetime) -> list[Outcome]:
    """Create the issues of every digest due at ``now``; record missed and lapsed slots."""
    from . import issues
    from .content import load_articles

    outcomes: list[Outcome] = []
    digests = configured(config)
    if not digests:
        return outcomes
    tz, late = config.timezone, config.max_lateness
    pulled = _pulled(conn)
    present = _slugs_present(config.content_dir)
    articles = None
    for digest in digests:
        if digest.feeds:
            candidates = [Candidate(slug, at) for slug, (feed, at) in pulled.items()
                          if feed in digest.feeds and slug in present]
        else:
            if articles is None:
                articles = load_articles(config.content_dir)
            candidates = [Candidate(a.slug, pulled[a.slug][1] if a.slug in pulled else day_start(a.date, tz))
                          for a in articles if a.date or a.slug in pulled]
        last_slot, last_issue_at, already = _history(conn, digest.name)
        decision = decide(digest, now, tz, late, last_slot=last_slot, last_issue_at=last_issue_at,
                          candidates=candidates, already=already)
        if decision.kind == "wait" or not _claim(conn, digest.name, decision, now):
            continue  # nothing to do, or another run handled this slot
        if decision.kind == "due":
            items = list(decision.items)
            subject = subject_for(digest, decision.slot, tz, config["newsletter"]["name"], len(items))
            issue_id = issues.create(conn, config.content_dir, items, subject=subject,
                                     send_at=decision.slot if digest.auto else None, now=now)
            conn.execute("UPDATE digest_runs SET issue_id = ? WHERE digest = ? AND slot = ?",
                         (issue_id, digest.name, to_db_time(decision.slot)))
            outcomes.append(Outcome(digest.name, "created", decision.slot, issue_id, len(items), digest.auto))
        elif decision.kind == "missed":
            outcomes.append(Outcome(digest.name, "missed", decision.slot, late=decision.late))
    return outcomes


def _pulled(conn: Connection) -> dict[str, tuple[str, datetime]]:
    """slug -> (feed name, pull time) for every article pulled from a feed."""
    rows = conn.execute("SELECT slug, feed, pulled_at FROM feed_items")
    return {row["slug"]: (row["feed"], from_db_time(row["pulled_at"])) for row in rows}


def _history(conn: Connection, name: str) -> tuple[datetime | None, datetime | None, frozenset[str]]:
    """(last slot handled, when its last issue was made, slugs in its issues) for a digest."""
    last = conn.execute("SELECT MAX(slot) FROM digest_runs WHERE digest = ?", (name,)).fetchone()[0]
    rows = conn.execute(
        "SELECT i.created_at, i.articles FROM digest_runs r JOIN issues i ON i.id = r.issue_id"
        " WHERE r.digest = ? ORDER BY i.created_at", (name,)
    ).fetchall()
    already = frozenset(slug for row in rows for slug in json.loads(row["articles"]))
    return from_db_time(last), from_db_time(rows[-1]["created_at"]) if rows else None, already


def _claim(conn: Connection, name: str, decision: Decision, now: datetime) -> bool:
    """Record the slot as handled (before the issue is made: a crash then loses a digest run,
    never sends one twice). False when it was already recorded."""
    outcome = "created" if decision.kind == "due" else decision.kind
    cur = conn.execute(
        "INSERT INTO digest_runs (digest, slot, outcome, recorded_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (name, to_db_time(decision.slot), outcome, to_db_time(now)),
    )
    return cur.rowcount == 1


def _slugs_present(content_dir) -> set[str]:
    """Slugs of the files in the content folder (a pulled article may have been deleted)."""
    from .content import slug_for

    try:
        return {slug_for(name) for name in os.listdir(content_dir)}
    except OSError:
        return set()


@dataclass(frozen=True)
class Waiting:
    """A digest's draft issue waiting for an editor."""

    digest: str
    issue_id: int
    subject: str
    slot: datetime


def waiting_drafts(conn: Connection) -> list[Waiting]:
    """Draft issues made by digests (oldest first): what the dashboard asks an editor to review."""
    rows = conn.execute(
        "SELECT r.digest, r.slot, i.id, i.subject FROM digest_runs r JOIN issues i ON i.id = r.issue_id"
        " WHERE i.state = 'draft' ORDER BY r.slot, i.id"
    )
    return [Waiting(row["digest"], row["id"], row["subject"], from_db_time(row["slot"])) for row in rows]
