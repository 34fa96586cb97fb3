"""The organizer fixtures (tests/fixtures/organizer), read as the event address would read them, and
a table of event items in memory that applies decisions the way the adapter will: each write
conditioned on the event's sequence as it was read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambdas.domain.items import EventItem, as_dict
from lambdas.domain.organizer.decisions import Apply, OrganizerRecord, decide
from lambdas.domain.organizer.outcomes import OrganizerOutcome, Refused
from lambdas.domain.organizer.reading import (
    OrganizerMessage,
    OrganizerReading,
    read_organizer_calendar,
    read_organizer_email,
)
from lambdas.domain.vocabulary import EventStatus

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "organizer"


# The series calmailproc's test-03-2.eml (OWA's own CANCEL of one occurrence) belongs to. That
# REQUEST is not published: written here, in OWA's shape, with the UID, organizer, zone, times and
# rule the CANCEL and the repository's test/test-03.md give (weekly on Thursdays, 13 March to
# 28 August 2025, 15:00-16:00 in Berlin).
OWA_SERIES_UID = (
    "040000008200E00074C5B7101A82E0080000000044440AFCBB91DB01000000000000000"
    "01000000087598F58784D4541BAA76F1829CFE9A1"
)
OWA_SERIES = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "METHOD:REQUEST",
        "PRODID:Microsoft Exchange Server 2010",
        "VERSION:2.0",
        "BEGIN:VTIMEZONE",
        "TZID:W. Europe Standard Time",
        "BEGIN:STANDARD",
        "DTSTART:16010101T030000",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:16010101T020000",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        "ORGANIZER;CN=Markus Brechtel:MAILTO:markus.brechtel@uk-koeln.de",
        "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:MAILTO:brechtel@med.uni-frankfurt.de",
        "RRULE:FREQ=WEEKLY;UNTIL=20250828T130000Z;INTERVAL=1;BYDAY=TH;WKST=MO",
        f"UID:{OWA_SERIES_UID}",
        "SUMMARY;LANGUAGE=de-DE:Test 3",
        "DTSTART;TZID=W. Europe Standard Time:20250313T150000",
        "DTEND;TZID=W. Europe Standard Time:20250313T160000",
        "DTSTAMP:20250310T125700Z",
        "STATUS:CONFIRMED",
        "SEQUENCE:0",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)


def fixture_path(name: str) -> Path:
    return FIXTURES / name


def reading(name: str) -> OrganizerReading:
    """A fixture read as the event address reads it: an .eml whole, a bare .ics as the calendar part
    of a mail whose MIME ``method=`` is REQUEST (what a client would send it with)."""
    path = FIXTURES / name
    if path.suffix == ".ics":
        return read_organizer_calendar(path.read_text(encoding="utf-8"), "REQUEST")
    _, found = read_organizer_email(path.read_bytes())
    assert found is not None, f"{name}: no calendar"
    return found


def message(name: str) -> OrganizerMessage:
    found = reading(name)
    assert found.message is not None, f"{name}: {found.reason}"
    return found.message


class Table:
    """Event items by UID, as plain stored mappings (what DynamoDB would hold)."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.refused_writes = 0

    def read(self, uid: str) -> tuple[EventItem | None, OrganizerRecord]:
        stored = self.items.get(uid)
        if stored is None:
            return None, OrganizerRecord()
        return EventItem.read(stored, uid=uid), OrganizerRecord.read(stored)

    def write(self, uid: str, change: Apply) -> bool:
        """The decision written if the event's sequence is still the one it was decided on."""
        current = self.items.get(uid)
        if change.outcome is OrganizerOutcome.CREATED:
            as_read = current is None
        else:
            as_read = current is not None and current.get("sequence") == change.read_sequence
        if not as_read:
            self.refused_writes += 1
            return False
        item = dict(current or {})
        if change.event is not None:
            for name in ("description", "location", "timezone", "rrule", "exdates"):
                item.pop(name, None)  # what the new version leaves out is gone
            item.update(change.event.as_dict())
        item["sequence"] = change.attendee_sequence
        item.update(as_dict(change.record))
        if change.outcome is OrganizerOutcome.CANCELLED:
            item["status"] = EventStatus.CANCELLED.value
        item.setdefault("status", EventStatus.CONFIRMED.value)
        self.items[uid] = item
        return True

    def receive(self, msg: OrganizerMessage) -> Apply | Refused:
        """Decide, write; decided again on the item as it is now when the write is refused."""
        for _ in range(5):
            stored, record = self.read(msg.uid)
            decision = decide(msg, stored, record)
            if isinstance(decision, Refused) or self.write(msg.uid, decision):
                return decision
        raise AssertionError("the write kept being refused")
