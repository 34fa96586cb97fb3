"""A second opinion on every organizer fixture: Mozilla's ical.js (Thunderbird's parser), reading
the calendars the stdlib's own full MIME parse finds, sees the same event: UID, SEQUENCE, the
instants of DTSTART, DTEND and RECURRENCE-ID (each zone resolved through the mail's own VTIMEZONE,
Outlook's Windows names included), the rule and the EXDATEs."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email import policy

import pytest

from lambdas.domain.contract import EventDetails
from lambdas.domain.inbound.email import CALENDAR_TYPES
from tests.support.icaljs import run_icaljs
from tests.unit.organizer.fixtures import FIXTURES, message

NAMES = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.suffix in (".eml", ".ics"))

READ = """
const out = [];
for (const text of input) {
  const root = new ICAL.Component(ICAL.parse(text));
  ICAL.TimezoneService.reset();
  for (const vtimezone of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(vtimezone);
  const iso = (time) => time ? time.toJSDate().toISOString() : null;
  for (const vevent of root.getAllSubcomponents('vevent')) {
    const event = new ICAL.Event(vevent);
    const rrule = vevent.getFirstPropertyValue('rrule');
    out.push({
      uid: String(vevent.getFirstPropertyValue('uid')),
      sequence: Number(vevent.getFirstPropertyValue('sequence') || 0),
      start: iso(event.startDate),
      end: iso(event.endDate),
      allDay: event.startDate.isDate,
      recurrenceId: iso(vevent.getFirstPropertyValue('recurrence-id')),
      rrule: rrule ? rrule.toString() : '',
      exdates: vevent.getAllProperties('exdate').flatMap((p) => p.getValues().map(iso)),
    });
  }
}
return out;
"""


def calendar_texts(name: str) -> list[str]:
    path = FIXTURES / name
    if path.suffix == ".ics":
        return [path.read_text(encoding="utf-8")]
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    texts = []
    for part in parsed.walk():
        if part.get_content_type() in CALENDAR_TYPES:
            raw = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            payload = raw.replace("\r\n", "\n")
            if payload not in texts:  # Google's inline copy and its invite.ics
                texts.append(payload)
    return texts


@pytest.fixture(scope="module")
def icaljs_readings() -> dict[str, list[dict]]:
    texts = {name: calendar_texts(name) for name in NAMES}
    flat = [text for name in NAMES for text in texts[name]]
    readings = iter(run_icaljs(READ, flat))
    events: dict[str, list[dict]] = {}
    for name in NAMES:
        for text in texts[name]:
            count = text.count("BEGIN:VEVENT")
            events.setdefault(name, []).extend(next(readings) for _ in range(count))
    return events


def _iso(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value.isoformat()


def _rule(text: str) -> dict[str, str]:
    parts = dict(part.split("=", 1) for part in text.split(";") if part)
    if parts.get("INTERVAL") == "1":  # the default, which ical.js leaves out
        del parts["INTERVAL"]
    return parts


def _same(event: EventDetails, theirs: dict) -> None:
    assert event.sequence == theirs["sequence"]
    if theirs["allDay"]:
        assert (event.start.isoformat(), event.end.isoformat()) == (theirs["start"][:10], theirs["end"][:10])
    else:
        assert (_iso(event.start), _iso(event.end)) == (theirs["start"], theirs["end"])
    assert _rule(event.rrule) == _rule(theirs["rrule"])
    assert [_iso(x) for x in event.exdates] == theirs["exdates"]


@pytest.mark.parametrize("name", NAMES)
def test_icaljs_sees_the_same_event(name, icaljs_readings):
    msg = message(name)
    theirs = icaljs_readings[name]
    assert {t["uid"] for t in theirs} == {msg.uid}
    assert max(t["sequence"] for t in theirs) == msg.sequence
    masters = [t for t in theirs if t["recurrenceId"] is None]
    instances = {t["recurrenceId"]: t for t in theirs if t["recurrenceId"] is not None}
    if msg.event is not None:
        (master,) = masters
        _same(msg.event, master)
    for occurrence in msg.occurrences:
        _same(occurrence, instances[_iso(occurrence.occurrence)])
    if msg.cancelled:
        assert sorted(_iso(c) for c in msg.cancelled) == sorted(instances)
    assert len(msg.occurrences) + len(msg.cancelled) == len(instances)
