"""The contract's rrule and exdates: one test per rule, and what we would write expanded by
recurring-ical-events (which did not write it) against dateutil's expansion of the request."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from hypothesis import given, settings
from icalendar import Calendar

from lambdas.domain.recurrence import parse_recurrence
from lambdas.domain.validation import FieldError
from tests.fuzz.strategies import FUZZ
from tests.support.series import series, written

PARIS = ZoneInfo("Europe/Paris")
TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)


def errors(rrule, exdates=None, start=TUESDAY, timezone="Europe/Paris") -> list[FieldError]:
    return parse_recurrence(rrule, exdates, start, timezone)[1]


def reasons(*args, **kwargs) -> str:
    return "; ".join(f"{e.field}: {e.reason}" for e in errors(*args, **kwargs))


def test_a_weekly_series_is_accepted_and_normalised():
    recurrence, found = parse_recurrence("freq=weekly;count=8;byday=TU,TH", None, TUESDAY, "Europe/Paris")
    assert found == []
    assert recurrence.rrule == "FREQ=WEEKLY;COUNT=8;BYDAY=TU,TH"
    assert len(recurrence.occurrences()) == 8


def test_an_unbounded_rule_is_allowed_and_expands_lazily():
    recurrence, found = parse_recurrence("FREQ=DAILY", None, TUESDAY, "Europe/Paris")
    assert found == [] and not recurrence.bounded
    assert len(recurrence.occurrences(limit=30)) == 30


@pytest.mark.parametrize(
    ("rrule", "expected"),
    [
        ("", "event.rrule: must be an RRULE value"),
        (7, "event.rrule: must be an RRULE value"),
        ("FREQ=WEEKLY;X\nY=1", "without control characters"),
        ("FREQ=HOURLY", "FREQ: must be one of DAILY, WEEKLY, MONTHLY, YEARLY"),
        ("COUNT=3", "FREQ: is required"),
        ("FREQ=WEEKLY;BYHOUR=9", "BYHOUR: is not supported"),
        ("FREQ=WEEKLY;FREQ=DAILY", "FREQ: given twice"),
        ("FREQ=WEEKLY;COUNT", "COUNT: must be NAME=VALUE"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL: 0 must be 1..1000"),
        ("FREQ=WEEKLY;INTERVAL=-2", "INTERVAL: '-2' is not an integer"),
        ("FREQ=WEEKLY;COUNT=1001", "COUNT: 1001 must be 1..1000"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20270101T000000Z", "COUNT: give COUNT or UNTIL, not both"),
        ("FREQ=WEEKLY;UNTIL=20270101", "UNTIL: must be a UTC date-time"),
        ("FREQ=WEEKLY;UNTIL=20270101T000000", "UNTIL: must be a UTC date-time"),
        ("FREQ=WEEKLY;UNTIL=20271301T000000Z", "UNTIL: 20271301T000000Z is not a real date"),
        ("FREQ=WEEKLY;UNTIL=20261130T000000Z", "UNTIL is before start: the rule yields no occurrence"),
        ("FREQ=WEEKLY;BYDAY=TUESDAY", "BYDAY: 'TUESDAY' is not a weekday"),
        ("FREQ=WEEKLY;BYDAY=1TU", "BYDAY: an ordinal (1TU) needs FREQ=MONTHLY or FREQ=YEARLY"),
        ("FREQ=MONTHLY;BYDAY=6TU", "BYDAY: the ordinal of 6TU must be 1..5"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY: 32 must be 1..31 or -31..-1"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY: cannot be used with FREQ=WEEKLY"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH: 13 must be 1..12"),
        ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS: needs BYDAY, BYMONTHDAY or BYMONTH"),
        ("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=0", "BYSETPOS: 0 must be 1..366"),
        ("FREQ=WEEKLY;WKST=XX", "WKST: must be one of MO"),
        ("FREQ=WEEKLY;BYDAY=WE", "start must be an occurrence of the rule"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "start must be an occurrence of the rule"),
    ],
)
def test_each_rule_of_the_rrule_is_named_in_its_error(rrule, expected):
    found = errors(rrule)
    assert found and all(e.field == "event.rrule" for e in found)
    assert expected in reasons(rrule)


def test_monthly_and_yearly_ordinals_setpos_and_wkst_are_accepted():
    assert errors("FREQ=MONTHLY;BYDAY=1TU") == []
    assert errors("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=1") == []
    assert errors("FREQ=YEARLY;BYMONTH=12;BYDAY=1TU") == []
    assert errors("FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU") == []
    assert errors("FREQ=MONTHLY;BYMONTHDAY=1,-31") == []


def test_until_of_an_all_day_series_is_a_date():
    start = date(2026, 12, 1)
    assert errors("FREQ=DAILY;UNTIL=20261210", start=start, timezone="") == []
    assert "UNTIL: must be a date (YYYYMMDD)" in reasons("FREQ=DAILY;UNTIL=20261210T000000Z", start=start)


def test_exdates_are_written_like_start_and_must_be_occurrences():
    rule = "FREQ=WEEKLY;BYDAY=TU;COUNT=8"
    recurrence, found = parse_recurrence(
        rule, ["2026-12-08T10:00:00", "2026-12-15T09:00:00Z"], TUESDAY, "Europe/Paris"
    )
    assert found == []
    assert datetime(2026, 12, 8, 10, tzinfo=PARIS) not in recurrence.occurrences()
    assert len(recurrence.occurrences()) == 6
    assert [e.field for e in errors(rule, ["2026-12-09T10:00:00"])] == ["event.exdates[0]"]
    assert "is not the start of an occurrence" in reasons(
        rule, ["2026-12-08T10:00:00", "2026-12-09T10:00:00"]
    )
    assert "must be a date-time" in reasons(rule, ["2026-12-08"])
    assert "must be a date, as start is" in reasons(
        "FREQ=DAILY", ["2026-12-02T00:00:00Z"], start=date(2026, 12, 1)
    )
    assert "a local time needs event.timezone" in reasons(
        rule, ["2026-12-08T10:00:00"], start=TUESDAY.astimezone(UTC), timezone=""
    )
    assert "must be an ISO 8601" in reasons(rule, ["next tuesday"])
    assert "must be a list" in reasons(rule, "2026-12-08T10:00:00")
    assert "is more than 200 years after start" in reasons("FREQ=WEEKLY;BYDAY=TU", ["2400-12-07T10:00:00"])


def test_exdates_that_leave_out_every_occurrence_are_refused():
    found = errors("FREQ=WEEKLY;COUNT=2", ["2026-12-01T10:00:00", "2026-12-08T10:00:00"])
    assert [(e.field, e.reason) for e in found] == [
        ("event.exdates", "leave out every occurrence: the series would be empty")
    ]


def test_a_sparse_rule_is_checked_in_bounded_time():
    start = datetime(2028, 2, 29, 10, tzinfo=UTC)
    assert errors("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29", ["2032-02-29T10:00:00Z"], start=start) == []


# ---------------------------------------------------------------- what we write, expanded by another


@settings(FUZZ, max_examples=150)
@given(series())
def test_what_we_write_expands_to_what_was_asked_across_dst_and_past_2038(case):
    recurrence, timezone = case
    expected = recurrence.occurrences(limit=60)
    ics = written(recurrence, timezone)
    calendar = Calendar.from_ical(ics)
    assert calendar.get_missing_tzids() == set()
    window_end = expected[-1] + timedelta(seconds=1)
    found = recurring_ical_events.of(calendar).between(recurrence.start, window_end)
    starts = sorted(e.decoded("DTSTART") for e in found)
    assert starts == expected
    # The same wall-clock time in the event's zone, through every DST change.
    zone = ZoneInfo(timezone or "UTC")
    assert {s.astimezone(zone).time() for s in starts} <= {recurrence.start.astimezone(zone).time()} | {
        (recurrence.start.astimezone(zone) + timedelta(hours=1)).time()  # a start in a DST gap
    }
