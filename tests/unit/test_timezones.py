"""VTIMEZONEs from the zone's current rule, checked against zoneinfo by parsers that did not write
them: dateutil's VTIMEZONE reader (icalendar's ``to_tz``) and Mozilla's ical.js."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Timezone

from lambdas.domain.timezones import (
    Onset,
    UnsupportedZone,
    load_zone,
    onset_rrules,
    parse_posix_tz,
    vtimezone,
)
from tests.fuzz.strategies import FUZZ
from tests.support.icaljs import instants_of_local_times

ZONES = sorted(zoneinfo.available_timezones())
# Every zone through 2100 takes about 45 s: the scale tier checks them all (make test-scale), and
# make test these, each a different kind of rule: northern and southern DST, a half-hour and a
# 45-minute offset, DST of half an hour, negative DST (Dublin), the date line, no DST any more.
SAMPLE_ZONES = (
    "America/New_York",
    "America/Sao_Paulo",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "Europe/Dublin",
    "Europe/London",
    "Pacific/Apia",
    "Pacific/Chatham",
    "UTC",
)
EVERY_ZONE = [
    pytest.param(tzid, marks=pytest.mark.scale) if tzid not in SAMPLE_ZONES else tzid for tzid in ZONES
]
SPAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2100, 12, 31, tzinfo=UTC))
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@cache
def zoneinfo_changes(tzid: str, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """zoneinfo's own offset changes, found by weekly steps and bisection to the second (no zone
    changes twice within a week)."""
    zone = zoneinfo.ZoneInfo(tzid)
    changes, step = [], timedelta(days=7)
    moment, offset = start, start.astimezone(zone).utcoffset()
    while moment < end:
        following = moment + step
        next_offset = following.astimezone(zone).utcoffset()
        if next_offset != offset:
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = (low + (high - low) / 2).replace(microsecond=0)
                low, high = (middle, high) if middle.astimezone(zone).utcoffset() == offset else (low, middle)
            changes.append(high)
        moment, offset = following, next_offset
    return tuple(changes)


@cache
def samples(
    tzid: str, start: datetime = SPAN[0], end: datetime = SPAN[1], every_days: int = 11
) -> tuple[datetime, ...]:
    """Instants around every change of the zone in the span, and every few days between."""
    instants = [start + timedelta(days=every_days * i) for i in range((end - start).days // every_days)]
    for change in zoneinfo_changes(tzid, start, end):
        instants += [change + timedelta(seconds=s) for s in (-3601, -1, 0, 1, 3600)]
    return tuple(sorted(instants))


def dateutil_disagreements(tzid: str, ics: bytes, instants) -> list:
    """Instants whose local wall time (with its fold) dateutil's reader maps to another offset."""
    reader = Timezone.from_ical(ics).to_tz(lookup_tzid=False)  # reads the component, not the name
    zone = zoneinfo.ZoneInfo(tzid)
    wrong = []
    for instant in instants:
        local = instant.astimezone(zone)
        if local.replace(tzinfo=reader).utcoffset() != local.utcoffset():
            wrong.append((instant, local))
    return wrong


@pytest.mark.parametrize("tzid", EVERY_ZONE)
def test_every_zone_agrees_with_zoneinfo_through_2100(tzid):
    assert dateutil_disagreements(tzid, vtimezone(tzid, SPAN[0]), samples(tzid)) == []


@pytest.mark.parametrize(
    "zones",
    [pytest.param(SAMPLE_ZONES, id="sample"), pytest.param(ZONES, id="every", marks=pytest.mark.scale)],
)
def test_ical_js_reads_the_zones_as_zoneinfo_does_through_2100(zones):
    vtimezones = {tzid: vtimezone(tzid, SPAN[0]) for tzid in zones}
    local_times, expected = {}, {}
    for tzid in zones:
        zone = zoneinfo.ZoneInfo(tzid)
        # Local times that happen twice (a fall-back hour) name no single instant: left out.
        pairs = [(i, i.astimezone(zone)) for i in samples(tzid, every_days=97)]
        pairs = [(i, t) for i, t in pairs if t.replace(fold=1).utcoffset() == t.utcoffset()]
        local_times[tzid] = [t.replace(tzinfo=None).isoformat() for _, t in pairs]
        expected[tzid] = [int(i.timestamp()) for i, _ in pairs]
    assert instants_of_local_times(vtimezones, local_times) == expected


@settings(FUZZ, max_examples=60)
@given(st.sampled_from(ZONES), st.datetimes(datetime(1850, 1, 1), datetime(2025, 12, 31)))
def test_an_earlier_event_carries_the_history_it_needs(tzid, since):
    since = since.replace(tzinfo=UTC)
    ics = vtimezone(tzid, since)
    instants = samples(tzid, since, datetime(2040, 1, 1, tzinfo=UTC), every_days=29)
    assert dateutil_disagreements(tzid, ics, instants) == []


def observances(ics: bytes) -> list:
    return Timezone.from_ical(ics).subcomponents


def test_a_dst_zone_is_one_standard_and_one_daylight_rule():
    ics = vtimezone("Europe/Paris", NOW)
    daylight, standard = observances(ics)
    assert (daylight.name, standard.name) == ("DAYLIGHT", "STANDARD")
    assert daylight["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
    assert standard["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
    assert (str(daylight["TZNAME"]), str(standard["TZNAME"])) == ("CEST", "CET")
    assert b"RDATE" not in ics
    assert len(ics) < 400


def test_a_zone_without_dst_is_a_single_standard():
    [standard] = observances(vtimezone("Asia/Kolkata", NOW))
    assert standard.name == "STANDARD"
    assert standard["TZOFFSETTO"].td == timedelta(hours=5, minutes=30)
    assert "RRULE" not in standard


def test_a_zone_that_dropped_dst_starts_at_its_last_change():
    [standard] = observances(vtimezone("America/Mexico_City", NOW))
    assert standard.decoded("DTSTART") == datetime(2022, 10, 30, 2, 0)
    assert standard["TZOFFSETTO"].td == timedelta(hours=-6)


def test_a_zone_that_never_changed_starts_in_1601():
    [standard] = observances(vtimezone("Etc/GMT-3", NOW))
    assert standard.decoded("DTSTART") == datetime(1601, 1, 1)
    assert standard["TZOFFSETFROM"].td == standard["TZOFFSETTO"].td == timedelta(hours=3)


def test_negative_dst_is_written_with_daylight_ahead_of_standard():
    parts = {part.name: part for part in observances(vtimezone("Europe/Dublin", NOW))}
    daylight, standard = parts["DAYLIGHT"], parts["STANDARD"]
    assert (daylight.name, str(daylight["TZNAME"]), daylight["TZOFFSETTO"].td) == (
        "DAYLIGHT",
        "IST",
        timedelta(hours=1),
    )
    assert (standard.name, str(standard["TZNAME"]), standard["TZOFFSETTO"].td) == (
        "STANDARD",
        "GMT",
        timedelta(0),
    )


def test_a_change_after_midnight_is_a_weekday_among_month_days():
    jerusalem = parse_posix_tz("IST-2IDT,M3.4.4/26,M10.5.0")
    assert onset_rrules(jerusalem.dst_start) == [
        {"freq": "yearly", "bymonth": 3, "byday": "FR", "bymonthday": [23, 24, 25, 26, 27, 28, 29]}
    ]
    nuuk = parse_posix_tz("<-02>2<-01>,M3.5.0/-1,M10.5.0/0")
    assert onset_rrules(nuuk.dst_start) == [
        {"freq": "yearly", "bymonth": 3, "byday": "SA", "bymonthday": [24, 25, 26, 27, 28, 29, 30]}
    ]


def test_a_run_of_days_across_two_months_is_one_rule_per_month():
    cairo = parse_posix_tz("EET-2EEST,M4.5.5/0,M10.5.4/24")
    assert onset_rrules(cairo.dst_end) == [
        {"freq": "yearly", "bymonth": 10, "byday": "FR", "bymonthday": [26, 27, 28, 29, 30, 31]},
        {"freq": "yearly", "bymonth": 11, "byday": "FR", "bymonthday": [1]},
    ]
    assert len(observances(vtimezone("Africa/Cairo", NOW))) == 3


def test_posix_offsets_are_west_positive_and_dst_defaults_to_one_hour_ahead():
    rule = parse_posix_tz("EST5EDT,M3.2.0,M11.1.0")
    assert (rule.std_offset, rule.dst_offset) == (timedelta(hours=-5), timedelta(hours=-4))
    assert rule.dst_start == Onset(3, 2, 0, 7200)  # 02:00 unless told
    assert parse_posix_tz("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45").dst_start.seconds == 9900
    assert parse_posix_tz("<-00>0").std_name == "-00"


@pytest.mark.parametrize("text", ["", "EST", "EST5EDT", "EST5EDT,J60,J300", "EST5EDT,59,300", "X1"])
def test_rules_a_yearly_rrule_cannot_express_are_refused(text):
    with pytest.raises(UnsupportedZone):
        onset_rrules(parse_posix_tz(text).dst_start)


def test_one_component_per_zone_for_every_event_after_its_rule_began():
    assert vtimezone("Europe/Paris", NOW) is vtimezone("Europe/Paris", datetime(2480, 6, 1, tzinfo=UTC))
    earlier = vtimezone("Europe/Paris", datetime(1990, 6, 1, tzinfo=UTC))
    assert len(earlier) > len(vtimezone("Europe/Paris", NOW))
    assert load_zone("Europe/Paris").changes[load_zone("Europe/Paris").rule_from].instant.year == 1996


def test_an_event_before_the_first_change_gets_local_mean_time():
    ics = vtimezone("Europe/Paris", datetime(1500, 1, 1, tzinfo=UTC))
    first = observances(ics)[0]
    assert first.decoded("DTSTART") == datetime(1, 1, 1)
    assert first["TZOFFSETTO"].td == timedelta(minutes=9, seconds=21)
    calendar = Calendar()
    calendar.add_component(Timezone.from_ical(ics))
    assert calendar.get_missing_tzids() == set()
