"""What each reply fixture says, read by hand from the fixture (see tests/fixtures/replies/README.md).

One entry per fixture file: the mail-level facts, and the answers in the order they appear.
"""

from __future__ import annotations

from datetime import UTC, datetime

UID = "kickoff-2026@example.com"
GOOGLE = "-//Google Inc//Google Calendar 70.9054//EN"
EXCHANGE = "Microsoft Exchange Server 2010"
MOZILLA = "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN"


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def answer(**fields) -> dict:
    base = {
        "method": "REPLY",
        "uid": UID,
        "sequence": 0,
        "recurrence_id": None,
        "comment": "",
        "proposed": {},
        "delegated_to": (),
        "dtstamp_from": "DTSTAMP",
    }
    return {**base, **fields}


def mail(from_address: str, *answers: dict, automatic: str = "", calendar_error: str | None = None) -> dict:
    return {
        "from_address": from_address,
        "automatic_reason": automatic,
        "calendar_error": calendar_error,
        "answers": list(answers),
    }


EXPECTED: dict[str, dict] = {
    "gmail-accepted.eml": mail(
        "ana@example.org",
        answer(
            attendee="ana@example.org",
            attendee_name="Ana Lima",
            partstat="ACCEPTED",
            dtstamp=at(11, 24, 12),
            prodid=GOOGLE,
        ),
    ),
    "gmail-tentative.eml": mail(
        "ana@example.org",
        answer(
            attendee="ana@example.org",
            attendee_name="Ana Lima",
            partstat="TENTATIVE",
            dtstamp=at(11, 25, 10),
            prodid=GOOGLE,
            comment="Bringing a colleague, may have to leave early",
        ),
    ),
    "gmail-declined.eml": mail(
        "fatima.zahra@example.com",
        answer(
            attendee="fatima.zahra@example.com",
            attendee_name="fatima.zahra@example.com",  # Google writes the address as CN when it has no name
            partstat="DECLINED",
            dtstamp=at(11, 25, 10),
            prodid=GOOGLE,
        ),
    ),
    "gmail-human-answer.eml": mail("ana@example.org"),
    "outlook-declined.eml": mail(
        "ben@example.org",
        answer(
            attendee="ben@example.org",
            attendee_name="Ben Okafor",
            partstat="DECLINED",
            dtstamp=at(11, 24, 13, 15),
            prodid=EXCHANGE,
            comment="See you there, I'll bring the numbers.",
        ),
    ),
    "outlook-tentative.eml": mail(
        "erin@example.org",
        answer(
            attendee="erin@example.org",
            attendee_name="Erin Walsh",
            partstat="TENTATIVE",
            dtstamp=at(11, 24, 16, 15),
            prodid=EXCHANGE,
            comment="I may be 10 minutes late, my train arrives at 15:50.\nWill confirm on Monday.",
        ),
    ),
    "outlook-counter.eml": mail(
        "ben@example.org",
        answer(
            method="COUNTER",
            attendee="ben@example.org",
            attendee_name="Ben Okafor",
            partstat="TENTATIVE",
            dtstamp=at(11, 24, 17),
            prodid=EXCHANGE,
            comment="Could we start an hour later? I have a client call until 11.",
            # 11:00-12:00 "Eastern Standard Time" (its own VTIMEZONE: -05:00 in December)
            proposed={
                "start": "2026-12-01T16:00:00+00:00",
                "end": "2026-12-01T17:00:00+00:00",
                "summary": "New Time Proposed: Project kickoff",
                "location": "Room 4",
            },
        ),
    ),
    "outlook-out-of-office.eml": mail("hana@example.org", automatic="auto-submitted"),
    "apple-mail-accepted.eml": mail(
        "carla@example.org",
        answer(
            attendee="carla@example.org",
            attendee_name="Carla Díaz",
            partstat="ACCEPTED",
            dtstamp=at(11, 24, 14, 1, 2),
            prodid="-//Apple Inc.//macOS 15.1//EN",
        ),
    ),
    "iphone-declined.eml": mail(
        "carla@example.org",
        answer(
            attendee="carla@example.org",
            attendee_name="Carla Díaz",
            partstat="DECLINED",
            dtstamp=at(11, 25, 8, 15),
            prodid="-//Apple Inc.//iPhone OS 18.1//EN",
        ),
    ),
    "thunderbird-accepted.eml": mail(
        "dan@example.net",
        answer(
            attendee="dan@example.net",
            attendee_name="Dan Müller",
            partstat="ACCEPTED",
            sequence=1,
            dtstamp=at(11, 24, 15, 12, 33),
            prodid=MOZILLA,
        ),
    ),
    "thunderbird-delegated.eml": mail(
        "dan@example.net",
        answer(
            attendee="dan@example.net",
            attendee_name="Dan Müller",
            partstat="DELEGATED",
            sequence=1,
            dtstamp=at(11, 24, 16, 5),
            prodid=MOZILLA,
            delegated_to=("jane@example.net",),
        ),
    ),
    "evolution-refresh.eml": mail(
        "kim@example.com",
        answer(
            method="REFRESH",
            attendee="kim@example.com",
            attendee_name="Kim Lee",
            partstat=None,
            dtstamp=at(11, 24, 18),
            prodid="-//Ximian//NONSGML Evolution Calendar//EN",
            comment="I deleted it by mistake, could you send it again?",
        ),
    ),
    "notes-latin1-accepted.eml": mail(
        "jose@example.org",
        answer(
            attendee="jose@example.org",
            attendee_name="José Ñúñez/Sales/ACME",
            partstat="ACCEPTED",
            dtstamp=at(11, 24, 20),
            prodid="-//Lotus Development Corporation//NONSGML Notes 9.0.1//EN_C",
            comment="Allí estaré.",
        ),
    ),
    "forged-reply.eml": mail(
        "mallory@example.net",
        answer(
            attendee="ben@example.org",
            attendee_name="Ben Okafor",
            partstat="DECLINED",
            dtstamp=at(11, 26, 9),
            prodid=GOOGLE,
        ),
    ),
    "malformed-calendar.eml": mail("lee@example.org", calendar_error="no complete VCALENDAR"),
    "dsn-bounce.eml": mail("mailer-daemon@mx.example.org", automatic="report"),
}
