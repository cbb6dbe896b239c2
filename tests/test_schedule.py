"""Send times in the configured zone (DST gaps and overlaps), display, and the due/missed rule."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from newsletter.errors import InputError
from newsletter.schedule import due_state, format_when, parse_when

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc


@pytest.mark.parametrize(
    "text, zone, expected",
    [
        ("2025-01-15T09:00", PARIS, datetime(2025, 1, 15, 8, 0, tzinfo=UTC)),       # CET, +01:00
        ("2025-07-15 09:00", PARIS, datetime(2025, 7, 15, 7, 0, tzinfo=UTC)),       # CEST, +02:00
        ("2025-07-15T09:00:00-04:00", PARIS, datetime(2025, 7, 15, 13, 0, tzinfo=UTC)),  # offset wins
        ("2025-07-15T09:00Z", NEW_YORK, datetime(2025, 7, 15, 9, 0, tzinfo=UTC)),
        ("2025-03-09T03:30", NEW_YORK, datetime(2025, 3, 9, 7, 30, tzinfo=UTC)),    # just after the gap
    ],
)
def test_times_without_offset_are_in_the_configured_zone(text, zone, expected):
    when = parse_when(text, zone)
    assert when.utc == expected and when.utc.tzinfo is not None
    assert when.note == ""


def test_a_time_in_the_spring_forward_gap_is_refused_with_a_suggestion():
    with pytest.raises(InputError) as err:
        parse_when("2025-03-30T02:30", PARIS)
    message = str(err.value)
    assert "does not exist in Europe/Paris" in message and "03:30 CEST" in message


def test_a_time_in_the_fall_back_overlap_means_the_first_one_and_says_so():
    when = parse_when("2025-11-02T01:30", NEW_YORK)  # happens at 05:30 UTC (EDT) and 06:30 UTC (EST)
    assert when.utc == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)
    assert "happens twice" in when.note and "EDT" in when.note


@pytest.mark.parametrize("text", ["tomorrow", "2025-13-01T09:00", "2025-06-01", ""])
def test_bad_times_are_input_errors(text):
    with pytest.raises(InputError):
        parse_when(text, PARIS)


@pytest.mark.parametrize("text,zone", [
    ("9999-12-31T23:59-01:00", PARIS), ("0001-01-01T00:30+01:00", PARIS), ("0001-01-01T00:00", PARIS),
    ("9999-12-31T23:59", NEW_YORK),
])
def test_times_beyond_the_calendar_in_utc_are_input_errors_not_tracebacks(text, zone):
    with pytest.raises(InputError, match="out of range"):
        parse_when(text, zone)


def test_times_are_shown_with_their_zone():
    assert format_when(datetime(2025, 7, 15, 7, 0, tzinfo=UTC), PARIS) == "2025-07-15 09:00 CEST (+02:00)"
    assert format_when(datetime(2025, 1, 15, 8, 0, tzinfo=UTC), PARIS) == "2025-01-15 09:00 CET (+01:00)"
    when = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)
    assert format_when(when, ZoneInfo("Asia/Kolkata")) == "2025-01-15 13:30 IST (+05:30)"
    assert format_when(None, PARIS) == "-"


def test_due_state_honours_max_lateness():
    at = datetime(2025, 3, 30, 7, 0, tzinfo=UTC)
    six = timedelta(hours=6)
    assert due_state(at, at - timedelta(seconds=1), six) == "wait"
    assert due_state(at, at, six) == "due"
    assert due_state(at, at + six, six) == "due"
    assert due_state(at, at + six + timedelta(seconds=1), six) == "missed"
    assert due_state(at, at + timedelta(days=2), six) == "missed"
