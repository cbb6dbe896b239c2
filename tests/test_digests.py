"""Recurring digests: schedules, the pure decision, and runs over a week of fake time."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from newsletter import issues
from newsletter.config import load_config
from newsletter.digests import Candidate, Digest, decide, parse_schedule
from newsletter.errors import ConfigError
from newsletter.store import connect

from httpserver import http_site

ROOT = Path(__file__).resolve().parent.parent
PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


@pytest.mark.parametrize("text, cron", [
    ("every Monday 08:00", "0 8 * * 1"),
    ("every monday at 8:05", "5 8 * * 1"),
    ("Every day 07:30", "30 7 * * *"),
    ("every weekday 09:00", "0 9 * * 1-5"),
    ("every Sunday 18:00", "0 18 * * 0"),
    ("every mon, thu 06:15", "15 6 * * 1,4"),
    ("every Tuesdays 12:00", "0 12 * * 2"),
    ("0 8 * * 1", "0 8 * * 1"),
    ("*/30 6-9 1 * *", "*/30 6-9 1 * *"),
])
def test_schedules(text, cron):
    assert parse_schedule(text).cron == cron


@pytest.mark.parametrize("text, says", [
    ("every Funday 08:00", "'funday' is not a day"),
    ("every Monday 25:00", "not a time of day"),
    ("every Monday", "write it as"),
    ("weekly", "five-field cron"),
    ("0 8 * * 1 2025", "five-field cron"),
    ("61 8 * * *", "five-field cron"),
])
def test_bad_schedules_say_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=says):
        parse_schedule(text)


def test_slots_follow_the_wall_clock_across_daylight_saving():
    daily = parse_schedule("every day 02:30")
    # 2025-03-30: 02:30 does not exist in Paris (clocks jump to 03:00); the slot that day is 03:00
    assert daily.latest(paris(2025, 3, 30, 12, 0), PARIS) == paris(2025, 3, 30, 3, 0)
    # 2025-10-26: 02:30 happens twice; it is one slot, the first (summer time)
    first = datetime(2025, 10, 26, 2, 30, tzinfo=PARIS, fold=0).astimezone(UTC)
    assert daily.latest(first + timedelta(hours=1, minutes=10), PARIS) == first
    weekly = parse_schedule("every Monday 08:00")
    assert weekly.latest(paris(2025, 10, 6, 8, 0), PARIS) == paris(2025, 10, 6, 8, 0)  # on the dot counts
    assert weekly.previous(paris(2025, 10, 6, 8, 0), PARIS) == paris(2025, 9, 29, 8, 0)


def test_decide():
    weekly = Digest("weekly", parse_schedule("every Monday 08:00"), max_items=2)
    late = timedelta(hours=6)
    items = [Candidate("old", paris(2025, 9, 20, 9, 0)), Candidate("a", paris(2025, 10, 1, 9, 0)),
             Candidate("b", paris(2025, 10, 3, 9, 0)), Candidate("c", paris(2025, 10, 4, 9, 0))]

    def at(now, **kw):
        kw.setdefault("last_slot", paris(2025, 9, 29, 8, 0))
        kw.setdefault("last_issue_at", paris(2025, 9, 29, 8, 5))
        return decide(weekly, now, PARIS, late, candidates=kw.pop("candidates", items), **kw)

    due = at(paris(2025, 10, 6, 8, 10))
    assert (due.kind, due.slot, due.items) == ("due", paris(2025, 10, 6, 8, 0), ("c", "b"))  # newest, at most 2
    assert at(paris(2025, 10, 5, 8, 10)).kind == "wait"  # before the slot
    assert at(paris(2025, 10, 6, 8, 10), last_slot=paris(2025, 10, 6, 8, 0)).kind == "wait"  # handled
    assert at(paris(2025, 10, 6, 8, 10), already=frozenset({"c", "b"})).items == ("a",)
    assert at(paris(2025, 10, 6, 8, 10), candidates=items[:1]).kind == "wait"  # nothing new: wait
    missed = at(paris(2025, 10, 6, 14, 1))
    assert (missed.kind, missed.late) == ("missed", timedelta(hours=6, minutes=1))
    assert at(paris(2025, 10, 6, 14, 1), candidates=items[:1]).kind == "lapsed"
    first_ever = at(paris(2025, 10, 6, 8, 10), last_slot=None, last_issue_at=None)
    assert first_ever.items == ("c", "b")  # since the slot before: "old" is not new
    assert at(paris(2025, 10, 6, 15, 0), last_slot=None, last_issue_at=None).kind == "lapsed"


def feed_xml(items: list[tuple[str, str]]) -> bytes:
    """An RSS feed of (slug-ish title, RFC 822 date) items."""
    entries = "".join(
        f"<item><title>{title}</title><link>https://blog.example/{title.lower().replace(' ', '-')}</link>"
        f"<pubDate>{day}</pubDate><description>About {title}.</description></item>"
        for title, day in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>'
            f'<link>https://blog.example/</link>{entries}</channel></rss>').encode()


def test_three_send_due_runs_over_a_week_of_fake_time(tmp_path):
    """`send-due` (the real command, with a fake clock) pulls and makes what is due: the Monday
    drafts, the Wednesday automatic digest (sent in the same run), nothing on a quiet day, and
    a Monday run too late to make its digest."""
    served = {"/blog": feed_xml([("Post A", "Fri, 03 Oct 2025 10:00:00 +0000"),
                                 ("Post B", "Sun, 05 Oct 2025 10:00:00 +0000")]),
              "/news": feed_xml([("News One", "Sun, 05 Oct 2025 12:00:00 +0000")])}
    with http_site() as site:
        site.routes.update({path: (lambda h, p=path: _serve(h, served[p])) for path in served})
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            '[newsletter]\nname = "Field Notes"\n[content]\ndir = "content"\n[database]\npath = "nl.db"\n'
            '[smtp]\noutbox = "outbox"\n[schedule]\ntimezone = "Europe/Paris"\nmax_lateness = "6h"\n'
            f'[[feeds]]\nname = "blog"\nurl = "{site.url("/blog")}"\n'
            f'[[feeds]]\nname = "news"\nurl = "{site.url("/news")}"\n'
            '[[digests]]\nname = "Weekly"\nschedule = "every Monday 08:00"\nfeeds = ["blog"]\n'
            'subject = "{newsletter}: the week to {date:%d %B}"\n'
            '[[digests]]\nname = "Midweek"\nschedule = "0 9 * * 3"\nfeeds = ["blog"]\nauto = true\n'
            '[[digests]]\nname = "Daily"\nschedule = "every day 07:00"\nfeeds = ["news"]\n'
        )
        env = {**os.environ, "NEWSLETTER_CONFIG": str(cfg), "NEWSLETTER_SECRET_KEY": "k"}

        def run(*args: str, now: datetime | None = None) -> subprocess.CompletedProcess:
            extra = {"NEWSLETTER_NOW": now.isoformat()} if now else {}
            return subprocess.run([sys.executable, "-m", "newsletter", *args], cwd=ROOT, env={**env, **extra},
                                  capture_output=True, text=True, timeout=120)

        assert run("subscribers", "add", "reader@example.com").returncode == 0
        # Monday 08:30: the weekly digest (A, B) and the daily one (News One), drafts; the
        # midweek one's last Wednesday is long gone and it never ran: it starts silently
        monday = run("send-due", now=paris(2025, 10, 6, 8, 30))
        assert (monday.returncode, monday.stderr) == (0, "")
        assert monday.stdout.splitlines() == [
            "feed 'blog': 2 new article(s): post-a, post-b",
            "feed 'news': 1 new article(s): news-one",
            "digest 'Weekly': issue 1 made of 2 article(s), a draft waiting for an editor (send it with `send 1`)",
            "digest 'Daily': issue 2 made of 1 article(s), a draft waiting for an editor (send it with `send 2`)",
        ]
        # Wednesday 09:10: Post C is new; the automatic digest takes everything new to it and
        # is sent in the same run
        served["/blog"] = feed_xml([("Post A", "Fri, 03 Oct 2025 10:00:00 +0000"),
                                    ("Post B", "Sun, 05 Oct 2025 10:00:00 +0000"),
                                    ("Post C", "Tue, 07 Oct 2025 10:00:00 +0000")])
        wednesday = run("send-due", now=paris(2025, 10, 8, 9, 10))
        assert (wednesday.returncode, wednesday.stderr) == (0, "")
        lines = wednesday.stdout.splitlines()
        assert lines[:2] == [
            "feed 'blog': 1 new article(s): post-c",
            "digest 'Midweek': issue 3 made of 3 article(s), scheduled for 2025-10-08 09:00 CEST (+02:00)"]
        assert len(lines) == 3 and lines[2].startswith("issue 3")  # and sent: the send's summary
        # a quiet Thursday: nothing new, nothing due, nothing printed
        quiet = run("send-due", now=paris(2025, 10, 9, 12, 0))
        assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
        # next Monday 15:00, 7 h after the weekly slot: not made late, reported; the daily slot
        # had nothing new: nothing at all
        served["/blog"] = feed_xml([("Post C", "Tue, 07 Oct 2025 10:00:00 +0000"),
                                    ("Post D", "Sat, 11 Oct 2025 10:00:00 +0000")])
        late = run("send-due", now=paris(2025, 10, 13, 15, 0))
        assert (late.returncode, late.stdout) == (0, "feed 'blog': 1 new article(s): post-d\n")
        assert late.stderr == ("digest 'Weekly': the run of 2025-10-13 08:00 CEST (+02:00) was 7.0 h late"
                               " (max_lateness 6h), so it was not made; its articles go into the next one\n")

        conn = connect(load_config(cfg, environ={}).database_path)
        made = {i.id: i for i in issues.list_issues(conn)}
        assert sorted(made) == [1, 2, 3]
        assert (made[1].state, made[1].subject, made[1].articles) == (
            "draft", "Field Notes: the week to 06 October", ("post-b", "post-a"))
        assert (made[2].state, made[2].subject, made[2].articles) == ("draft", "Daily — 2025-10-06", ("news-one",))
        assert (made[3].state, made[3].send_at, made[3].articles) == (
            "sent", paris(2025, 10, 8, 9, 0), ("post-c", "post-b", "post-a"))

        # nothing is lost: the Monday after, C and D (new since the last weekly issue) go out;
        # no run saw Wednesday the 15th, when midweek had D: missed, reported
        after = run("send-due", now=paris(2025, 10, 20, 8, 0))
        assert after.stdout.splitlines() == [
            "digest 'Weekly': issue 4 made of 2 article(s), a draft waiting for an editor (send it with `send 4`)"]
        assert "digest 'Midweek': the run of 2025-10-15 09:00 CEST (+02:00)" in after.stderr
        assert issues.get(conn, 4).articles == ("post-d", "post-c")
        again = run("send-due", now=paris(2025, 10, 20, 8, 1))
        assert (again.stdout, again.stderr) == ("", "")  # once per slot
        conn.close()


def _serve(handler, body: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.mark.parametrize("entry, named", [
    ('[[digests]]\nname = "w"\n', "digests.schedule is required"),
    ('[[digests]]\nname = "w"\nschedule = "every Funday 08:00"\n', "'funday' is not a day"),
    ('[[digests]]\nname = "w"\nschedule = "0 8 * * 1"\nfeeds = ["nope"]\n', "'nope', which is no [[feeds]] name"),
    ('[[digests]]\nname = "w"\nschedule = "0 8 * * 1"\nsubject = "{title}"\n', "unknown field {title}"),
    ('[[digests]]\nname = "w"\nschedule = "0 8 * * 1"\nmax_items = 0\n', "max_items must be at least 1"),
    ('[[digests]]\nname = "w"\nschedule = "0 8 * * 1"\nauto = "yes"\n', "digests.auto must be bool"),
    ('[[digests]]\nname = "w"\nschedule = "0 8 * * 1"\nfeeds = "blog"\n', "digests.feeds must be a list"),
    ('[[feeds]]\nname = "a"\nurl = "x"\n[[feeds]]\nname = "a"\nurl = "y"\n', "feeds.name 'a' is used twice"),
    ('[[feeds]]\nname = "a"\n', "[[feeds]] #1: feeds.url is required"),
    ('[[feeds]]\nname = "a"\nurl = "x"\nuser = "me"\n', "unknown key feeds.user"),
    ('feeds = "x"\n', "feeds must be written as [[feeds]] tables"),
])
def test_bad_entries_name_the_entry_and_key(tmp_path, entry, named):
    path = tmp_path / "config.toml"
    path.write_text(entry)
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert str(path) in str(err.value) and named in str(err.value) and "\n" not in str(err.value)
