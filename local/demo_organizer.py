"""The organizer part of ``make demo``: an event run from the organizer's own calendar.

It runs when the synthesized stacks have an event address (``eventEmail``, the organizer function;
``make demo`` synthesizes with ``CONTEXT``). Marge creates an event in Outlook and a Google user a
Meet meeting, each inviting the event address (real messages of tests/fixtures/organizer, through
the local SES receiving); three attendees are added to Marge's event by its id, as
``cisctl invite --uid`` does; Marge moves the event in Outlook, then cancels it, and the attendees
get the update and the cancellation (docs/organizer.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.names import ORGANIZER_RULE_NAME
from lambdas.domain.organizer.identity import attendee_uid
from lambdas.domain.organizer.reading import read_organizer_email
from local.assembly import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "organizer"
# On top of cdk.json's: the event address, and the fixtures' organizers' domains allowed.
CONTEXT = {"eventEmail": "events@example.com", "allowedOrganizers": "example.org,gmail.com"}
ATTENDEES = [
    {"email": "eve@example.org", "name": "Eve Laurent"},
    {"email": "finn@example.org", "name": "Finn Berg"},
    {"email": "gus@example.net", "name": "Gus Novak"},
]
OUTLOOK_CREATE, OUTLOOK_UPDATE = "comm-central/outlook-test-invite.eml", "derived/outlook-update.eml"
OUTLOOK_CANCEL, GOOGLE_CREATE = "derived/outlook-cancel.eml", "comm-central/meet-meeting-invite.eml"


@dataclass(frozen=True)
class OrganizerMail:
    title: str
    fixture: str  # a file of FIXTURES
    recipient: str  # the event address

    @property
    def raw(self) -> bytes:
        return (FIXTURES / self.fixture).read_bytes()


def event_address(runtime) -> str | None:
    """The event address's receipt rule recipient, or None: the stacks have no event address."""
    rules = [rule for rule in runtime.inventory.receipt_rules if rule.name == ORGANIZER_RULE_NAME]
    return rules[0].recipients[0] if rules and rules[0].recipients else None


def event_id(fixture: str, address: str) -> str:
    """The id the server holds the organizer's event under (identity.attendee_uid), as the
    confirmation mail tells the organizer."""
    _, reading = read_organizer_email((FIXTURES / fixture).read_bytes())
    message = reading.message
    return attendee_uid(message.organizer.email, message.uid, address.rpartition("@")[2])


def mails(address: str) -> tuple[OrganizerMail, ...]:
    return (
        OrganizerMail(
            "Marge creates an event in Outlook, inviting the event address", OUTLOOK_CREATE, address
        ),
        OrganizerMail(
            "A Google Calendar user creates a Meet meeting, inviting it too", GOOGLE_CREATE, address
        ),
        OrganizerMail("Marge moves the event in Outlook", OUTLOOK_UPDATE, address),
        OrganizerMail("Marge cancels the event in Outlook", OUTLOOK_CANCEL, address),
    )


def invite_by_id(address: str) -> dict:
    """What `cisctl invite --uid <id> --attendee ...` puts on the invite queue for Marge's event."""
    return {"event": {"uid": event_id(OUTLOOK_CREATE, address)}, "attendees": ATTENDEES}


def setup_lines(runtime) -> list[str]:
    address = event_address(runtime)
    return [] if address is None else [f"  event address {address}: organizers allowed by allowedOrganizers"]
