"""The VEVENTs of a series: master, overrides and a cancelled occurrence, read back by
recurring-ical-events and by ical.js, which did not write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from hypothesis import given, settings
from icalendar import Calendar, Event

from lambdas.domain.recurrence import parse_recurrence
from lambdas.domain.series import Override, cancelled_occurrence_vevent, earliest_time
from tests.fuzz.strategies import FUZZ
from tests.support.icaljs import series_starts
from tests.support.series import DURATION, master_vevent, series_with_overrides, written

PARIS = ZoneInfo("Europe/Paris")


def expected_starts(recurrence, overrides, limit=60) -> list[datetime]:
    moved = {o.occurrence: o.start for o in overrides}
    return [moved.get(o, o) for o in recurrence.occurrences(limit)]


@settings(FUZZ, max_examples=100)
@given(series_with_overrides())
def test_a_series_with_overrides_expands_to_what_was_asked(case):
    recurrence, timezone, overrides = case
    ics = written(recurrence, timezone, overrides)
    calendar = Calendar.from_ical(ics)
    assert calendar.get_missing_tzids() == set()
    expected = expected_starts(recurrence, overrides)
    window = (min(expected) - timedelta(seconds=1), recurrence.occurrences(60)[-1] + timedelta(days=4))
    found = recurring_ical_events.of(calendar).between(*window)
    # The overrides move some of the first 60; the window also holds the next few, unmoved.
    in_window = sorted(s for s in expected_starts(recurrence, overrides, limit=100) if s < window[1])
    assert sorted(e.decoded("DTSTART") for e in found) == in_window


@settings(FUZZ, max_examples=40)
@given(series_with_overrides())
def test_ical_js_reads_the_same_series(case):
    recurrence, timezone, overrides = case
    [starts] = series_starts([written(recurrence, timezone, overrides)], limit=60)
    assert starts == [int(s.timestamp()) for s in expected_starts(recurrence, overrides)]


def weekly():
    recurrence, errors = parse_recurrence(
        "FREQ=WEEKLY;BYDAY=TU;COUNT=8", None, datetime(2037, 10, 6, 9, tzinfo=PARIS), "Europe/Paris"
    )
    assert errors == []
    return recurrence


def test_an_override_names_its_occurrence_as_dtstart_does_and_carries_no_recurrence():
    recurrence = weekly()
    third = recurrence.occurrences()[2]  # 2037-10-20, a week before the clocks go back
    moved = Override(third, third + timedelta(days=8), third + timedelta(days=8) + DURATION, 3, "Moved")
    ics = written(recurrence, "Europe/Paris", (moved,))
    assert b"RECURRENCE-ID;TZID=Europe/Paris:20371020T090000" in ics
    master, override = Calendar.from_ical(ics).walk("VEVENT")
    assert "RRULE" in master and "RRULE" not in override and "EXDATE" not in override
    assert (override["SEQUENCE"], str(override["SUMMARY"])) == (3, "Moved")
    # Moved past the change to winter time: still 09:00 in Paris.
    assert override.decoded("DTSTART") == datetime(2037, 10, 28, 9, tzinfo=PARIS)
    [starts] = series_starts([ics], limit=8)
    assert datetime.fromtimestamp(starts[2], UTC) == datetime(2037, 10, 28, 8, tzinfo=UTC)


def test_a_cancelled_occurrence_is_that_occurrence_with_status_cancelled():
    recurrence = weekly()
    master = master_vevent(recurrence, "Europe/Paris")
    fifth = recurrence.occurrences()[4]  # 2037-11-03, winter time
    cancelled = Event.from_ical(
        cancelled_occurrence_vevent(master, fifth, DURATION, 2, "Europe/Paris").to_ical()
    )
    assert cancelled.decoded("RECURRENCE-ID") == fifth == cancelled.decoded("DTSTART")
    assert cancelled.decoded("DTEND") == fifth + DURATION
    assert (str(cancelled["STATUS"]), cancelled["SEQUENCE"]) == ("CANCELLED", 2)
    assert "RRULE" not in cancelled and "EXDATE" not in cancelled
    assert str(cancelled["UID"]) == str(master["UID"])
    calendar = Calendar.from_ical(written(recurrence, "Europe/Paris"))
    calendar.add_component(cancelled)
    [occurrence] = recurring_ical_events.of(calendar).at(fifth.date())
    assert str(occurrence["STATUS"]) == "CANCELLED"


def test_the_vtimezone_reaches_back_to_an_override_moved_before_the_series():
    recurrence = weekly()
    first = recurrence.occurrences()[0]
    earlier = Override(
        first, datetime(1990, 6, 5, 9, tzinfo=PARIS), datetime(1990, 6, 5, 10, tzinfo=PARIS), 1
    )
    assert earliest_time(recurrence, (earlier,)) == earlier.start
    ics = written(recurrence, "Europe/Paris", (earlier,))
    reader = Calendar.from_ical(ics).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    assert datetime(1990, 6, 5, 9, tzinfo=reader).utcoffset() == timedelta(hours=2)
