"""Valid recurring series for property tests, and the calendar we would write for them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume
from hypothesis import strategies as st
from icalendar import Calendar, Event

from lambdas.domain.icaltime import add_time
from lambdas.domain.recurrence import Recurrence, parse_recurrence
from lambdas.domain.series import Override, add_recurrence, earliest_time, override_vevent
from lambdas.domain.timezones import vtimezone

ZONES = ["Europe/Paris", "America/New_York", "Australia/Sydney", "America/Santiago", "Asia/Kolkata", ""]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
DURATION = timedelta(hours=1)


@st.composite
def series(draw) -> tuple[Recurrence, str]:
    """A valid request: a rule built from every supported part, a start that is its first
    occurrence (2026–2090, at times that fall in DST gaps too), some occurrences left out."""
    timezone = draw(st.sampled_from(ZONES))
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 3))}")
    if freq == "WEEKLY" and draw(st.booleans()):
        parts.append("BYDAY=" + ",".join(draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True))))
    if freq == "MONTHLY" and draw(st.booleans()):
        choice = draw(st.sampled_from(["ordinal", "monthday", "setpos"]))
        if choice == "ordinal":
            parts.append(f"BYDAY={draw(st.sampled_from(['1', '2', '-1']))}{draw(st.sampled_from(WEEKDAYS))}")
        elif choice == "monthday":
            parts.append(f"BYMONTHDAY={draw(st.sampled_from(['1', '15', '-1', '1,15']))}")
        else:
            parts.append(f"BYDAY=MO,TU,WE,TH,FR;BYSETPOS={draw(st.sampled_from(['1', '-1']))}")
    if freq == "YEARLY" and draw(st.booleans()):
        parts.append(f"BYMONTH={draw(st.integers(1, 12))};BYDAY=1{draw(st.sampled_from(WEEKDAYS))}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(['MO', 'SU']))}")
    bound = draw(st.sampled_from(["count", "until", "none"]))
    day = draw(st.dates(date(2026, 1, 1), date(2090, 12, 31)))
    hour = draw(st.sampled_from([0, 2, 9, 23]))  # 02:00 falls in a DST gap in some zones
    start = datetime(day.year, day.month, day.day, hour, 30, tzinfo=ZoneInfo(timezone or "UTC"))
    if bound == "count":
        parts.append(f"COUNT={draw(st.integers(1, 40))}")
    elif bound == "until":
        until = (start + timedelta(days=draw(st.integers(0, 3000)))).astimezone(UTC)
        parts.append(f"UNTIL={until:%Y%m%dT%H%M%SZ}")
    rule = ";".join(parts)
    # The first occurrence on or after the drawn day becomes the start, as the contract requires.
    first = Recurrence(rule, start).occurrences(limit=1)
    assume(bool(first))
    recurrence, found = parse_recurrence(rule, None, first[0], timezone)
    assume(recurrence is not None)
    everything = recurrence.occurrences(limit=60)
    left_out = draw(st.lists(st.sampled_from(everything), max_size=4, unique=True))
    if len(left_out) == len(everything):
        left_out = left_out[:-1]
    recurrence, found = parse_recurrence(rule, [v.isoformat() for v in left_out], first[0], timezone)
    assert found == [], found
    return recurrence, timezone


@st.composite
def series_with_overrides(draw):
    """A series and up to three occurrences moved by -3 h .. +3 days (some across a DST change)."""
    recurrence, timezone = draw(series())
    kept = recurrence.occurrences(limit=60)
    moved = draw(st.lists(st.sampled_from(kept), max_size=3, unique=True))
    overrides = []
    for occurrence in moved:
        shift = timedelta(minutes=draw(st.integers(-180, 3 * 24 * 60)))
        overrides.append(Override(occurrence, occurrence + shift, occurrence + shift + DURATION, 1))
    return recurrence, timezone, tuple(overrides)


def master_vevent(recurrence: Recurrence, timezone: str) -> Event:
    event = Event()
    event.add("uid", "series@example.com")
    event.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
    event.add("sequence", 0)
    event.add("summary", "Weekly sync")
    add_time(event, "dtstart", recurrence.start, timezone)
    add_time(event, "dtend", recurrence.start + DURATION, timezone)
    add_recurrence(event, recurrence, timezone)
    return event


def written(recurrence: Recurrence, timezone: str, overrides: tuple[Override, ...] = ()) -> bytes:
    """The calendar we would send for the series: VTIMEZONE, master, overrides."""
    calendar = Calendar()
    calendar.add("prodid", "-//test//EN")
    calendar.add("version", "2.0")
    head = calendar.to_ical().removesuffix(b"END:VCALENDAR\r\n")
    zone = vtimezone(timezone, earliest_time(recurrence, overrides)) if timezone else b""
    master = master_vevent(recurrence, timezone)
    events = [master, *(override_vevent(master, o, timezone) for o in overrides)]
    return head + zone + b"".join(e.to_ical() for e in events) + b"END:VCALENDAR\r\n"
