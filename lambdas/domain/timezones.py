"""VTIMEZONE components that hold for any year: the zone's current rule as yearly RRULEs.

Every TZif file (RFC 8536) that ``zoneinfo`` reads ends with a POSIX TZ string, the rule that
zoneinfo itself applies after the file's last transition (``CET-1CEST,M3.5.0,M10.5.0/3``). That
rule becomes one ``STANDARD`` and one ``DAYLIGHT`` part with a yearly ``RRULE`` (a single
``STANDARD`` for a zone without daylight saving time), so the VTIMEZONE is a few hundred bytes and
true for 2026 as for 2400, which a list of transition dates (icalendar's ``from_tzid``, 1970–2037)
is not.

The rule parts start at the earliest transition from which the file's transitions follow the rule
(1996 for the EU zones; October 2022 for Mexico City, which then dropped DST). Only an event that
starts before that carries the zone's older transitions too, as one-off observances from the one in
effect at its start: the component depends on the zone and on how far back the calendar reaches,
and for every event after the current rule began it is one cached value per zone. Offsets come from
``zoneinfo`` itself, so the VTIMEZONE and the rest of the code agree on every instant.
"""

from __future__ import annotations

import calendar
import importlib.resources
import os
import re
import struct
import zoneinfo
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from dateutil import rrule
from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from lambdas.domain.frozen import frozen

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Where an observance with no earlier transition starts: Windows' conventional origin, which every
# client accepts; a calendar reaching further back starts at year 1 instead.
_ORIGIN = datetime(1601, 1, 1)
_ANCIENT_ORIGIN = datetime(1, 1, 1)
_FIRST_INSTANT = datetime(1, 1, 2, tzinfo=UTC)  # TZif files may hold "the big bang" (-2**59)
_LAST_INSTANT = datetime(9999, 12, 30, tzinfo=UTC)

_WEEKDAYS = (rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA)  # POSIX: 0 = Sunday
_DAY_NAMES = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")

# RFC 8536 §3.3: std offset [dst [offset] [,start[/time],end[/time]]]
_NAME = r"<[A-Za-z0-9+-]+>|[A-Za-z]{3,}"
_OFFSET = r"[+-]?\d{1,3}(?::\d{1,2}){0,2}"
_DATE = r"M\d{1,2}\.\d\.\d|J\d{1,3}|\d{1,3}"
_POSIX_TZ = re.compile(
    rf"(?P<std>{_NAME})(?P<std_offset>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dst_offset>{_OFFSET})?"
    rf"(?:,(?P<start>{_DATE})(?:/(?P<start_time>{_OFFSET}))?,(?P<end>{_DATE})(?:/(?P<end_time>{_OFFSET}))?)?)?"
)
_MONTH_WEEK_DAY = re.compile(r"M(\d{1,2})\.(\d)\.(\d)")


class UnsupportedZone(ValueError):
    """The zone's rule has a form that a yearly RRULE cannot express (none in tzdata 2026)."""


# ------------------------------------------------------------------------------------ POSIX rules


@frozen
class Onset:
    """One yearly change: weekday ``weekday`` (0 = Sunday) of week ``week`` (5 = last) of ``month``,
    ``seconds`` after that day's midnight in the local time in effect before it (may be negative or
    more than a day, RFC 8536 §3.3.1)."""

    month: int
    week: int
    weekday: int
    seconds: int

    def local(self, year: int) -> datetime:
        first_weekday = (calendar.weekday(year, self.month, 1) + 1) % 7  # POSIX counts from Sunday
        day = 1 + (self.weekday - first_weekday) % 7 + 7 * (self.week - 1)
        last = calendar.monthrange(year, self.month)[1]
        while day > last:
            day -= 7
        return datetime(year, self.month, day) + timedelta(seconds=self.seconds)


@frozen
class PosixRule:
    std_name: str
    std_offset: timedelta  # east of UTC, as iCalendar writes it (POSIX writes the opposite sign)
    dst_name: str = ""
    dst_offset: timedelta | None = None
    dst_start: Onset | None = None  # from std_offset to dst_offset
    dst_end: Onset | None = None  # from dst_offset back to std_offset

    @property
    def has_dst(self) -> bool:
        return self.dst_start is not None

    def changes(self, year: int) -> list[tuple[datetime, timedelta, timedelta, str]]:
        """(UTC instant, offset before, offset after, name after) of the year's changes."""
        if not self.has_dst:
            return []
        into = self.dst_start.local(year) - self.std_offset
        back = self.dst_end.local(year) - self.dst_offset
        return sorted(
            [
                (into.replace(tzinfo=UTC), self.std_offset, self.dst_offset, self.dst_name),
                (back.replace(tzinfo=UTC), self.dst_offset, self.std_offset, self.std_name),
            ]
        )


def parse_posix_tz(text: str) -> PosixRule:
    match = _POSIX_TZ.fullmatch(text)
    if not match:
        raise UnsupportedZone(f"not a POSIX TZ string: {text!r}")
    std_offset = -_seconds(match["std_offset"])
    if not match["dst"]:
        return PosixRule(_name(match["std"]), std_offset)
    if not match["start"]:
        raise UnsupportedZone(f"daylight saving time without its rule: {text!r}")
    dst_offset = -_seconds(match["dst_offset"]) if match["dst_offset"] else std_offset + timedelta(hours=1)
    return PosixRule(
        _name(match["std"]),
        std_offset,
        _name(match["dst"]),
        dst_offset,
        _onset(match["start"], match["start_time"]),
        _onset(match["end"], match["end_time"]),
    )


def _name(text: str) -> str:
    return text.strip("<>")


def _seconds(text: str) -> timedelta:
    sign = -1 if text.startswith("-") else 1
    hours, minutes, seconds = ([int(p) for p in text.lstrip("+-").split(":")] + [0, 0])[:3]
    return sign * timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _onset(date_text: str, time_text: str | None) -> Onset:
    match = _MONTH_WEEK_DAY.fullmatch(date_text)
    if not match:  # Jn and n (day of the year): tzdata has used neither since 2023
        raise UnsupportedZone(f"day-of-year rule {date_text!r}")
    month, week, weekday = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= week <= 5 and 0 <= weekday <= 6):
        raise UnsupportedZone(f"no such day {date_text!r}")
    seconds = int(_seconds(time_text).total_seconds()) if time_text else 2 * 3600
    return Onset(month, week, weekday, seconds)


# --------------------------------------------------------------------------- RRULEs of one onset


def onset_rrules(onset: Onset) -> list[dict]:
    """icalendar RRULE values whose union is exactly the onset's days, and its time of day.

    ``M3.5.0`` is ``BYMONTH=3;BYDAY=-1SU``. A time past midnight moves the day: Jerusalem's
    ``M3.4.4/26`` (the Friday after the fourth Thursday, 02:00) is the Friday among the 23rd to the
    29th, ``BYDAY=FR;BYMONTHDAY=23,...,29``; a run of days that crosses into the next month (Cairo's
    ``M10.5.4/24``) takes one RRULE per month.
    """
    shift = onset.seconds // 86400
    if shift == 0:
        ordinal = -1 if onset.week == 5 else onset.week
        return [{"freq": "yearly", "bymonth": onset.month, "byday": f"{ordinal}{_DAY_NAMES[onset.weekday]}"}]
    weekday = _DAY_NAMES[(onset.weekday + shift) % 7]
    by_month: dict[int, list[int]] = {}
    for month, day in (_month_day(onset, i + shift) for i in range(7)):
        by_month.setdefault(month, []).append(day)
    return [
        {"freq": "yearly", "bymonth": month, "byday": weekday, "bymonthday": days}
        for month, days in sorted(by_month.items(), key=lambda item: (item[0] - onset.month) % 12)
    ]


def _month_day(onset: Onset, offset: int) -> tuple[int, int]:
    """(month, BYMONTHDAY) of the ``offset``-th day of the onset's week of candidate days.

    Days are counted from the month's start (weeks 1–4) or end (week 5, as negative BYMONTHDAYs
    when the month's length varies), so that each one names the same day in every year."""
    month, length = onset.month, calendar.monthrange(2001, onset.month)[1]  # 2001: not a leap year
    if onset.week == 5 and month == 2:
        day = -7 + offset  # from the end: -1 is the last day
        if -28 <= day <= -1:
            return month, day
    elif onset.week == 5:
        day = length - 6 + offset
    else:
        day = 7 * onset.week - 6 + offset
    if month == 2 and day > 28:
        raise UnsupportedZone("a run of days across the end of February")
    if day > length:
        return month % 12 + 1, day - length
    if day < 1:
        return (month - 2) % 12 + 1, day - 1  # 0 is the previous month's last day: -1
    if month != 2 or onset.week != 5:
        return month, day
    raise UnsupportedZone("a run of days across the start of February")


# --------------------------------------------------------------------------------- TZif and zones


@frozen
class Change:
    """One transition of the zone, as zoneinfo reads it."""

    instant: datetime  # UTC
    before: timedelta
    after: timedelta
    name: str
    daylight: bool


@frozen
class Zone:
    tzid: str
    rule: PosixRule
    changes: tuple[Change, ...]  # the file's transitions that change the offset, oldest first
    rule_from: int  # index of the first change from which the changes follow the rule (or len)
    initial: timedelta  # the offset before the first change
    initial_name: str

    def first_needed(self, since: datetime) -> int:
        """Index of the change in effect at ``since`` (-1: before all), or where the rule starts."""
        index = bisect_right(self.changes, since, key=lambda change: change.instant) - 1
        return min(index, self.rule_from)


def read_tzif(tzid: str) -> bytes:
    """The TZif file zoneinfo reads for ``tzid``: the first on zoneinfo.TZPATH, else tzdata's."""
    if tzid != os.path.normpath(tzid) or os.path.isabs(tzid) or tzid.startswith(".."):
        raise ValueError(f"not a zone key: {tzid!r}")
    for directory in zoneinfo.TZPATH:
        path = os.path.join(directory, tzid)
        if os.path.isfile(path):
            with open(path, "rb") as file:
                return file.read()
    return importlib.resources.files("tzdata.zoneinfo").joinpath(*tzid.split("/")).read_bytes()


def tzif_transitions_and_footer(data: bytes) -> tuple[list[int], str]:
    """Transition times (seconds since the epoch) and the POSIX TZ footer of a TZif v2+ file."""
    if data[:4] != b"TZif" or data[4:5] < b"2":
        raise UnsupportedZone("not a TZif file of version 2 or later")
    isut, isstd, leap, times, types, chars = struct.unpack(">6l", data[20:44])
    second_header = 44 + times * 5 + types * 6 + chars + leap * 8 + isstd + isut
    isut, isstd, leap, times, types, chars = struct.unpack(
        ">6l", data[second_header + 20 : second_header + 44]
    )
    body = second_header + 44
    transitions = list(struct.unpack(f">{times}q", data[body : body + times * 8]))
    footer_at = body + times * 9 + types * 6 + chars + leap * 12 + isstd + isut
    return transitions, data[footer_at:].strip(b"\n").decode("ascii")


@lru_cache(maxsize=128)
def load_zone(tzid: str) -> Zone:
    seconds, footer = tzif_transitions_and_footer(read_tzif(tzid))
    rule = parse_posix_tz(footer)
    zone = zoneinfo.ZoneInfo(tzid)
    changes = []
    for second in seconds:
        instant = _EPOCH + timedelta(seconds=second)
        if not _FIRST_INSTANT <= instant <= _LAST_INSTANT:
            continue
        before = (instant - timedelta(seconds=1)).astimezone(zone)
        after = instant.astimezone(zone)
        if before.utcoffset() != after.utcoffset():
            changes.append(
                Change(instant, before.utcoffset(), after.utcoffset(), after.tzname(), _ahead(after.dst()))
            )
    if changes:
        first = (changes[0].instant - timedelta(seconds=1)).astimezone(zone)
        initial, initial_name = first.utcoffset(), first.tzname()
    else:
        initial, initial_name = rule.std_offset, rule.std_name
    return Zone(tzid, rule, tuple(changes), _rule_from(rule, changes), initial, initial_name)


def _rule_from(rule: PosixRule, changes: list[Change]) -> int:
    """How far back the file's changes are the rule's own: walk back while each change is one the
    rule makes, and the rule makes none between it and the next (fat TZif files list the rule's
    changes up to 2037; slim ones stop where the rule takes over)."""
    if not changes:
        return 0
    if not rule.has_dst:
        return len(changes) - 1 if changes[-1].after == rule.std_offset else len(changes)
    index = len(changes)
    following = None
    while index > 0:
        change = changes[index - 1]
        year = change.instant.year
        made = [c for y in (year - 1, year, year + 1) for c in rule.changes(y)]
        if (change.instant, change.before, change.after) not in {(i, b, a) for i, b, a, _ in made}:
            break
        if following is not None:
            years = range(year, following.instant.year + 1)
            made_between = [i for y in years for i, *_ in rule.changes(y)]
            if any(change.instant < i < following.instant for i in made_between):
                break
        following = change
        index -= 1
    return index


# ------------------------------------------------------------------------------------ components


def vtimezone(tzid: str, since: datetime) -> bytes:
    """The serialised VTIMEZONE for a calendar whose earliest time is ``since`` (aware)."""
    zone = load_zone(tzid)
    since = since.astimezone(UTC)
    return _serialised(tzid, zone.first_needed(since), since.year < _ORIGIN.year)


@lru_cache(maxsize=256)
def _serialised(tzid: str, first: int, ancient: bool) -> bytes:
    return build_vtimezone(load_zone(tzid), first, ancient).to_ical()


def build_vtimezone(zone: Zone, first: int, ancient: bool = False) -> Timezone:
    component = Timezone()
    component.add("tzid", zone.tzid)
    rule = zone.rule
    origin = _ANCIENT_ORIGIN if ancient else _ORIGIN
    if first < 0 and (zone.changes or not rule.has_dst):
        # Before the first change (local mean time), or a zone that never changed.
        offset = zone.initial
        component.add_component(_observance(False, origin, offset, offset, zone.initial_name))
    for observance in _grouped(list(zone.changes[max(first, 0) : zone.rule_from])):
        component.add_component(observance)
    if zone.rule_from < len(zone.changes):
        start = zone.changes[zone.rule_from].instant
        inclusive = True
    elif zone.changes:
        start, inclusive = zone.changes[-1].instant, False
    else:
        start, inclusive = origin.replace(tzinfo=UTC), True
    if not rule.has_dst:
        if zone.rule_from < len(zone.changes):
            change = zone.changes[zone.rule_from]
            local = (change.instant + change.before).replace(tzinfo=None)
            component.add_component(_observance(False, local, change.before, rule.std_offset, rule.std_name))
        return component
    daylight_is_ahead = rule.dst_offset > rule.std_offset  # Dublin: "IST-1GMT0", winter is the "DST"
    parts = (
        (rule.dst_start, rule.std_offset, rule.dst_offset, rule.dst_name, daylight_is_ahead),
        (rule.dst_end, rule.dst_offset, rule.std_offset, rule.std_name, not daylight_is_ahead),
    )
    for onset, before, after, name, daylight in parts:
        for recurrence in onset_rrules(onset):
            local_start = (start + before).replace(tzinfo=None)
            dtstart = _first_instance(recurrence, onset, local_start, inclusive)
            observance = _observance(daylight, dtstart, before, after, name)
            observance.add("rrule", recurrence)
            component.add_component(observance)
    return component


def _first_instance(recurrence: dict, onset: Onset, after: datetime, inclusive: bool) -> datetime:
    """The recurrence's first day on or after ``after`` (local time before the change)."""
    ordinal, day = recurrence["byday"][:-2], recurrence["byday"][-2:]
    weekday = _WEEKDAYS[_DAY_NAMES.index(day)]
    return rrule.rrule(
        rrule.YEARLY,
        dtstart=datetime(after.year - 1, 1, 1) + timedelta(seconds=onset.seconds % 86400),
        bymonth=recurrence["bymonth"],
        byweekday=weekday(int(ordinal)) if ordinal else weekday,
        bymonthday=recurrence.get("bymonthday"),
    ).after(after, inc=inclusive)


def _grouped(changes: list[Change]) -> list[TimezoneStandard | TimezoneDaylight]:
    """One observance per (kind, offsets, name): its first change as DTSTART, every change as an
    RDATE of its own.

    ical.js (Thunderbird) reads only the first value of an RDATE property and, once a component has
    RDATEs, no longer counts its DTSTART; RFC 5545 §3.8.5.2 counts an instance given twice once."""
    groups: dict[tuple, list[datetime]] = {}
    for change in changes:
        local = (change.instant + change.before).replace(tzinfo=None)
        groups.setdefault((change.daylight, change.before, change.after, change.name), []).append(local)
    observances = []
    for (daylight, before, after, name), starts in groups.items():
        observance = _observance(daylight, starts[0], before, after, name)
        if len(starts) > 1:
            for start in starts:
                observance.add("rdate", start)
        observances.append(observance)
    return observances


def _observance(daylight: bool, start: datetime, before: timedelta, after: timedelta, name: str):
    observance = TimezoneDaylight() if daylight else TimezoneStandard()
    observance.add("dtstart", start)
    observance.add("tzoffsetfrom", before)
    observance.add("tzoffsetto", after)
    if name:
        observance.add("tzname", name)
    return observance


def _ahead(dst: timedelta | None) -> bool:
    # Negative DST (Dublin's winter GMT, Casablanca's Ramadan +00) is written as STANDARD time:
    # DAYLIGHT is the part ahead of standard time, which is what parsers assume.
    return bool(dst) and dst > timedelta(0)
