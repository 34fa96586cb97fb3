"""The sequence the attendees are sent an organizer's change at always goes up, also after a change
of one occurrence, which leaves the event's own sequence (the series') as it was."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from lambdas.domain.items import EventItem
from lambdas.domain.organizer.decisions import OrganizerRecord, decide
from lambdas.domain.organizer.outcomes import OrganizerOutcome
from tests.unit.organizer.fixtures import message

SERIES, MOVED = "comm-central/repeat-event.eml", "comm-central/exception-major.eml"
UID = "cal-x@example.com"


def test_a_whole_update_after_an_occurrence_change_goes_out_above_it():
    created = decide(message(SERIES), None, OrganizerRecord(), UID)
    stored = EventItem.read({**created.event.as_dict(), "status": "CONFIRMED"}, uid=UID)
    moved = decide(message(MOVED), stored, created.record, UID)
    assert (moved.outcome, moved.attendee_sequence) == (OrganizerOutcome.OCCURRENCES_CHANGED, 2)
    assert stored.sequence == 0 and moved.record.organizer_sent_sequence == 2

    # The organizer edits the series' title: the same SEQUENCE as the move, a later DTSTAMP.
    retitled = dataclasses.replace(
        message(SERIES), sequence=2, dtstamp=message(MOVED).dtstamp + timedelta(minutes=5)
    )
    update = decide(retitled, stored, moved.record, UID)

    assert update.outcome is OrganizerOutcome.UPDATED
    assert update.attendee_sequence == 3  # above the move's 2, which the attendees were sent
