"""What each reply fixture says, read by hand from the fixture (see tests/fixtures/replies/README.md).

One entry per fixture file: the mail-level facts, and the answers in the order they appear.
"""

from __future__ import annotations

from datetime import UTC, datetime

UID = "kickoff-2026@example.com"


def answer(**fields) -> dict:
    base = {
        "method": "REPLY",
        "uid": UID,
        "sequence": 0,
        "recurrence_id": None,
        "comment": "",
        "proposed": {},
        "delegated_to": (),
    }
    return {**base, **fields}


EXPECTED: dict[str, dict] = {
    "gmail-accepted.eml": {
        "from_address": "ana@example.org",
        "automatic": False,
        "calendar_error": None,
        "answers": [
            answer(
                attendee="ana@example.org",
                attendee_name="Ana Lima",
                partstat="ACCEPTED",
                dtstamp=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
                prodid="-//Google Inc//Google Calendar 70.9054//EN",
            )
        ],
    },
    "outlook-declined.eml": {
        "from_address": "ben@example.org",
        "automatic": False,
        "calendar_error": None,
        "answers": [
            answer(
                attendee="ben@example.org",
                attendee_name="Ben Okafor",
                partstat="DECLINED",
                dtstamp=datetime(2026, 11, 24, 13, 15, tzinfo=UTC),
                prodid="Microsoft Exchange Server 2010",
                comment="See you there, I'll bring the numbers.",
            )
        ],
    },
}
