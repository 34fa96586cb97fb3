"""Recurring series: the contract's ``rrule`` and ``exdates``, validated and expanded.

An ``rrule`` is an RFC 5545 RRULE value limited to what every calendar client we target reads
(FREQ DAILY/WEEKLY/MONTHLY/YEARLY, INTERVAL, COUNT or UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS,
WKST). ``start`` must itself be an occurrence: RFC 5545 leaves a series whose DTSTART is not one
undefined, and clients disagree on it. Each problem is a FieldError naming ``event.rrule`` (and the
rule part) or ``event.exdates[i]``. Expansion is dateutil's, always bounded.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule as dateutil_rrule

from lambdas.domain.frozen import frozen

# The readers the contract uses too, so that an exdate is read exactly as start is.
from lambdas.domain.readers import ErrorCollector, read_when
from lambdas.domain.validation import CONTROL, FieldError

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_RRULE = 500
MAX_INTERVAL = 1000
MAX_COUNT = 1000
MAX_EXDATES = 1000
# How far exdates are looked for: expansion stays bounded whatever the rule.
MAX_EXPANSION = 5000
MAX_SPAN_YEARS = 200

_BYDAY = re.compile(r"([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_INTEGER = re.compile(r"[+-]?\d{1,4}")
_UNTIL_DATE = re.compile(r"\d{8}")
_UNTIL_UTC = re.compile(r"\d{8}T\d{6}Z")


@frozen
class Recurrence:
    """A validated series: its RRULE value (normalised), its start and the starts it leaves out."""

    rrule: str
    start: date | datetime
    exdates: tuple[date | datetime, ...] = ()

    @property
    def bounded(self) -> bool:
        return "COUNT=" in self.rrule or "UNTIL=" in self.rrule

    def includes(self, value: date | datetime) -> bool:
        """Whether ``value`` is the start of one of the series' occurrences (exdates aside),
        looked for among the first MAX_EXPANSION within MAX_SPAN_YEARS."""
        if isinstance(value, datetime) != isinstance(self.start, datetime) or value < self.start:
            return False
        horizon = _shifted(self.start, MAX_SPAN_YEARS)
        for occurrence in islice(_expand(self.rrule, self.start), MAX_EXPANSION):
            if occurrence >= value or occurrence > horizon:
                return occurrence == value
        return False

    def occurrences(self, limit: int = MAX_EXPANSION) -> list[date | datetime]:
        """The series' starts, in order, without the exdates: at most ``limit`` of them."""
        excluded = set(self.exdates)
        found = (o for o in _expand(self.rrule, self.start) if o not in excluded)
        return list(islice(found, limit))


def parse_recurrence(
    raw_rrule: Any, raw_exdates: Any, start: date | datetime, timezone: str
) -> tuple[Recurrence | None, list[FieldError]]:
    """Validate ``rrule`` and ``exdates`` of an event whose (already valid) start is ``start``.

    ``start`` is a date or an aware date-time (in the event's zone when it has one)."""
    errors: list[FieldError] = []
    value = _rrule(raw_rrule, start, errors)
    exdates = _exdates(raw_exdates, start, timezone, errors)
    if value is None or exdates is None:
        return None, errors
    recurrence = Recurrence(value, start, exdates)
    _check_occurrences(recurrence, errors)
    return (None if errors else recurrence), errors


# ------------------------------------------------------------------------------------------- rrule


def _rrule(raw: Any, start: date | datetime, errors: list[FieldError]) -> str | None:
    name = "event.rrule"
    if not isinstance(raw, str) or not raw.strip():
        errors.append(FieldError(name, "must be an RRULE value such as FREQ=WEEKLY;BYDAY=TU;COUNT=8"))
        return None
    if len(raw) > MAX_RRULE or CONTROL.search(raw):
        errors.append(FieldError(name, f"must be at most {MAX_RRULE} characters, without control characters"))
        return None
    text = raw.strip().upper().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    problems: list[str] = []
    for item in text.split(";"):
        key, equals, value = item.partition("=")
        if not equals or not value:
            problems.append(f"{item or '(empty)'}: must be NAME=VALUE")
        elif key not in PARTS:
            problems.append(f"{key}: is not supported (use {', '.join(PARTS)})")
        elif key in parts:
            problems.append(f"{key}: given twice")
        else:
            parts[key] = value
    if not problems:
        problems = _check_parts(parts, start)
    if problems:
        errors.extend(FieldError(name, problem) for problem in problems)
        return None
    ordered = ";".join(f"{key}={parts[key]}" for key in PARTS if key in parts)
    try:
        _rule(ordered, start)
    except ValueError as error:  # what dateutil still refuses
        errors.append(FieldError(name, f"is not a valid rule ({error})"))
        return None
    return ordered


def _check_parts(parts: dict[str, str], start: date | datetime) -> list[str]:
    problems: list[str] = []
    freq = parts.get("FREQ")
    if freq is None:
        problems.append("FREQ: is required")
    elif freq not in FREQUENCIES:
        problems.append(f"FREQ: must be one of {', '.join(FREQUENCIES)}")
    if "INTERVAL" in parts:
        _integers(parts, "INTERVAL", 1, MAX_INTERVAL, problems, signed=False, many=False)
    if "COUNT" in parts:
        _integers(parts, "COUNT", 1, MAX_COUNT, problems, signed=False, many=False)
        if "UNTIL" in parts:
            problems.append("COUNT: give COUNT or UNTIL, not both")
    if "UNTIL" in parts:
        problems += _until(parts["UNTIL"], start)
    if "BYDAY" in parts:
        for item in parts["BYDAY"].split(","):
            match = _BYDAY.fullmatch(item)
            if not match:
                problems.append(f"BYDAY: {item!r} is not a weekday (MO..SU, optionally with an ordinal)")
                continue
            if match[2] is None:
                continue
            limit = {"MONTHLY": 5, "YEARLY": 53}.get(freq or "")
            if limit is None:
                problems.append(f"BYDAY: an ordinal ({item}) needs FREQ=MONTHLY or FREQ=YEARLY")
            elif not 1 <= int(match[2]) <= limit:
                problems.append(f"BYDAY: the ordinal of {item} must be 1..{limit} or -{limit}..-1")
    if "BYMONTHDAY" in parts:
        _integers(parts, "BYMONTHDAY", 1, 31, problems)
        if freq == "WEEKLY":
            problems.append("BYMONTHDAY: cannot be used with FREQ=WEEKLY")
    if "BYMONTH" in parts:
        _integers(parts, "BYMONTH", 1, 12, problems, signed=False)
    if "BYSETPOS" in parts:
        _integers(parts, "BYSETPOS", 1, 366, problems)
        if not {"BYDAY", "BYMONTHDAY", "BYMONTH"} & set(parts):
            problems.append("BYSETPOS: needs BYDAY, BYMONTHDAY or BYMONTH to choose among")
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        problems.append(f"WKST: must be one of {', '.join(WEEKDAYS)}")
    return problems


def _integers(
    parts: dict[str, str], key: str, low: int, high: int, problems: list[str], *, signed=True, many=True
) -> None:
    items = parts[key].split(",") if many else [parts[key]]
    for item in items:
        if not _INTEGER.fullmatch(item) or (not signed and item[0] in "+-"):
            problems.append(f"{key}: {item!r} is not {'a list of integers' if many else 'an integer'}")
        elif not low <= abs(int(item)) <= high or (not signed and int(item) < low):
            allowed = f"{low}..{high}" + (f" or -{high}..-{low}" if signed else "")
            problems.append(f"{key}: {item} must be {allowed}")


def _until(value: str, start: date | datetime) -> list[str]:
    """RFC 5545 §3.3.10: UNTIL has DTSTART's kind, and is in UTC when DTSTART is zoned or UTC."""
    if not isinstance(start, datetime):
        if not _UNTIL_DATE.fullmatch(value):
            return ["UNTIL: must be a date (YYYYMMDD) because start is a date"]
        parse = "%Y%m%d"
    else:
        if not _UNTIL_UTC.fullmatch(value):
            return ["UNTIL: must be a UTC date-time (YYYYMMDDTHHMMSSZ) because start is a date-time"]
        parse = "%Y%m%dT%H%M%SZ"
    try:
        datetime.strptime(value, parse)
    except ValueError:
        return [f"UNTIL: {value} is not a real date"]
    return []


# ----------------------------------------------------------------------------------------- exdates


def _exdates(raw: Any, start: date | datetime, timezone: str, errors: list[FieldError]):
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_EXDATES:
        errors.append(FieldError("event.exdates", f"must be a list of at most {MAX_EXDATES} starts"))
        return None
    values: list[date | datetime] = []
    for index, item in enumerate(raw):
        name = f"event.exdates[{index}]"
        value = read_occurrence_start(item, start, timezone)
        if isinstance(value, str):
            errors.append(FieldError(name, value))
        else:
            values.append(value)
    if len(values) != len(raw):
        return None
    return tuple(sorted(set(values)))


def read_occurrence_start(raw: Any, start: date | datetime, timezone: str) -> date | datetime | str:
    """An occurrence's start written like ``start``, or the reason it is not."""
    read = ErrorCollector()
    value = read_when(raw, "exdate", read)
    if read.errors:
        return read.errors[0].reason
    if isinstance(value, datetime) != isinstance(start, datetime):
        return "must be a date, as start is" if not isinstance(start, datetime) else "must be a date-time"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            if not timezone:
                return "a local time needs event.timezone (or give an offset or Z)"
            value = value.replace(tzinfo=ZoneInfo(timezone))
        try:
            value = value.astimezone(start.tzinfo)
        except (OverflowError, ValueError):
            return "is out of the range a calendar can represent"
    return value


# ------------------------------------------------------------------------------------- occurrences


def _check_occurrences(recurrence: Recurrence, errors: list[FieldError]) -> None:
    start, value = recurrence.start, recurrence.rrule
    if not _is_occurrence(value, start):
        errors.append(FieldError("event.rrule", "start must be an occurrence of the rule (its first one)"))
        return
    if not list(islice(_expand(value, start), 1)):
        errors.append(FieldError("event.rrule", "UNTIL is before start: the rule yields no occurrence"))
        return
    if not recurrence.exdates:
        return
    horizon = _shifted(start, MAX_SPAN_YEARS)
    last = recurrence.exdates[-1]
    wanted = len(recurrence.exdates) + 1  # one more than the exdates: then one is left
    expanded = []
    for occurrence in islice(_expand(value, start), MAX_EXPANSION):
        if occurrence > horizon or (occurrence > last and len(expanded) >= wanted):
            break
        expanded.append(occurrence)
    known = set(expanded)
    for index, exdate in enumerate(recurrence.exdates):
        if exdate not in known:
            reason = (
                f"is more than {MAX_SPAN_YEARS} years after start"
                if exdate > horizon
                else "is not the start of an occurrence of the rule"
            )
            errors.append(FieldError(f"event.exdates[{index}]", reason))
    if not errors and len(expanded) < wanted and known <= set(recurrence.exdates):
        errors.append(FieldError("event.exdates", "leave out every occurrence: the series would be empty"))


def _shifted(start: date | datetime, years: int) -> date | datetime:
    return start.replace(year=min(start.year + years, 9999), month=1, day=1)


def _rule(value: str, start: date | datetime) -> dateutil_rrule.rrule:
    dtstart = start if isinstance(start, datetime) else datetime(start.year, start.month, start.day)
    # UNTIL is written in UTC (RFC 5545); dateutil compares it with the zoned occurrences.
    until = re.search(r"UNTIL=(\d{8}(?:T\d{6}Z)?)", value)
    rule_text = re.sub(r";?UNTIL=[^;]*", "", value)
    rule = dateutil_rrule.rrulestr(rule_text, dtstart=dtstart)
    if until:
        text = until[1]
        if isinstance(start, datetime):
            limit = datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            limit = datetime.strptime(text, "%Y%m%d")
        rule = rule.replace(until=limit)
    return rule


def _expand(value: str, start: date | datetime):
    rule = _rule(value, start)
    if isinstance(start, datetime):
        return iter(rule)
    return (moment.date() for moment in rule)


def _is_occurrence(value: str, start: date | datetime) -> bool:
    """Whether start matches the rule, looking at start's own period only (bounded)."""
    rule = _rule(value, start)
    probe_until = start if isinstance(start, datetime) else datetime(start.year, start.month, start.day)
    probe = rule.replace(count=None, until=probe_until + timedelta(seconds=1))
    return list(islice(probe, 1)) == [probe_until]
