"""What the organizer is sent back: the event address's REPLY (ACCEPTED) for their calendar, and
a short plain confirmation for them (docs/organizer.md, "Wiring plan", step 5).

The REPLY answers the organizer's own REQUEST, so it carries their UID and SEQUENCE, them as
ORGANIZER and the event address as the one ATTENDEE (RFC 5546 §3.2.3). Times are written in UTC:
the organizer's calendar matches the answer by UID (and RECURRENCE-ID), and UTC needs no VTIMEZONE.
Built with icalendar, which escapes every TEXT value and quotes parameters.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress

from lambdas.domain.calendar import PRODID
from lambdas.domain.frozen import frozen
from lambdas.domain.icaltime import add_time
from lambdas.domain.organizer.reading import OrganizerMessage
from lambdas.domain.vocabulary import Method, PartStat


def acceptance(message: OrganizerMessage, event_address: str, dtstamp: datetime, name: str = "") -> bytes:
    """The REPLY, PARTSTAT=ACCEPTED, to a REQUEST ``message`` carrying the event (``ChangeKind.EVENT``);
    ``name`` is the event address's CN (the organizer's calendar shows it in its guest list)."""
    if message.method is not Method.REQUEST or message.event is None:
        raise ValueError("only a REQUEST carrying the event is accepted")
    event = message.event
    vevent = Event()
    vevent.add("uid", message.organizer_uid or message.uid)
    vevent.add("sequence", message.sequence)
    vevent.add("dtstamp", dtstamp.astimezone(UTC))
    add_time(vevent, "dtstart", event.start, "")
    add_time(vevent, "dtend", event.end, "")
    vevent.add("summary", event.summary)
    organizer = vCalAddress(f"mailto:{message.organizer.email}")
    if message.organizer.name:
        organizer.params["CN"] = message.organizer.name
    vevent.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{event_address}")
    attendee.params["PARTSTAT"] = PartStat.ACCEPTED
    if name:
        attendee.params["CN"] = name
    vevent.add("attendee", attendee)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "REPLY")
    calendar.add_component(vevent)
    return calendar.to_ical()


@frozen
class Confirmation:
    subject: str
    text: str


def confirmation(
    message: OrganizerMessage, event_id: str, invite_queue: str = "<the invite queue URL>"
) -> Confirmation:
    """The plain mail that tells the organizer the server holds their event and how attendees are
    added: by the event's id, through the queue contract or ``cisctl``."""
    summary = message.event.summary if message.event is not None else message.uid
    body = "\n".join(
        [
            f'The event "{summary}" is held by the Calendar Invite Server.',
            "",
            f"Its id: {event_id}",
            "",
            "Invite attendees by that id; each gets the event as your calendar sends it, and every",
            "change or cancellation you make there:",
            "",
            f"  cisctl invite --uid {event_id} --attendee someone@example.org",
            "",
            f"or put this on the invite queue ({invite_queue}):",
            "",
            '  {"event": {"uid": "' + event_id + '"}, "attendee": {"email": "someone@example.org"}}',
            "",
            "People you invite yourself in your calendar get your invitation only: the server",
            "sends them nothing, so nobody holds the event twice.",
        ]
    )
    return Confirmation(subject=f"Event held: {summary}", text=body + "\n")
