"""What the organizer's messages change, over the lives of real events: created, moved, a series
changed, one occurrence moved or cancelled, cancelled; and what changes nothing (a duplicate, a stale
version, another organizer's event, an event not held), under concurrent copies too."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lambdas.domain.contract import Person
from lambdas.domain.items import EventItem
from lambdas.domain.organizer.decisions import CALENDAR_SOURCE, Apply, OrganizerRecord, decide
from lambdas.domain.organizer.identity import attendee_uid
from lambdas.domain.organizer.outcomes import OrganizerOutcome, Refused
from lambdas.domain.organizer.reading import read_organizer_calendar
from lambdas.domain.vocabulary import EventStatus
from tests.unit.organizer.fixtures import OWA_SERIES, OWA_SERIES_UID, Table, message

KYIV = ZoneInfo("Europe/Kiev")
OUTLOOK_CREATE = "comm-central/outlook-test-invite.eml"
OUTLOOK_UPDATE = "derived/outlook-update.eml"
OUTLOOK_CANCEL = "derived/outlook-cancel.eml"
SERIES = "comm-central/repeat-event.eml"
OWA_CREATE, OWA_MOVE = "calmailproc/test-07-1.eml", "calmailproc/test-07-5.eml"
OWA_CANCELLED = "calmailproc/7c68e39/test-11-2.eml", "calmailproc/7c68e39/test-11-1.eml"
EXCHANGE_ONLINE_CREATE, EXCHANGE_ONLINE_CANCEL = "calmailproc/test-11-2.eml", "calmailproc/test-11-1.eml"


def receive(table: Table, *names: str) -> list[Apply | Refused]:
    return [table.receive(message(name)) for name in names]


def outcomes(decisions) -> list[OrganizerOutcome]:
    return [d.outcome for d in decisions]


# ------------------------------------------------------------------------------------ lives


def test_outlook_event_created_moved_and_cancelled():
    table = Table()
    created, moved, cancelled = receive(table, OUTLOOK_CREATE, OUTLOOK_UPDATE, OUTLOOK_CANCEL)
    assert outcomes([created, moved, cancelled]) == [
        OrganizerOutcome.CREATED,
        OrganizerOutcome.UPDATED,
        OrganizerOutcome.CANCELLED,
    ]
    # Nobody is invited when the event is created; every change after goes to those invited since.
    assert (created.fan_out, moved.fan_out, cancelled.fan_out) == (False, True, True)
    assert (created.attendee_sequence, moved.attendee_sequence, cancelled.attendee_sequence) == (0, 1, 2)
    stored, record = table.read(created.event.uid)
    assert stored.is_cancelled
    assert record == OrganizerRecord(
        source=CALENDAR_SOURCE,
        organizer_uid=created.event.uid,
        organizer_sequence=2,
        organizer_dtstamp="2021-11-22T09:15:00+00:00",
        organizer_sent_sequence=2,  # the cancellation's
    )
    # The update is what the attendees' copies now carry: new time, new place, the organizer's zone.
    assert (moved.event.start, moved.event.location) == (
        datetime(2021, 11, 28, 14, 0, tzinfo=KYIV),
        "Room 4, Main Library",
    )
    assert stored.details().start == datetime(2021, 11, 28, 14, 0, tzinfo=KYIV)


def test_after_the_cancellation_nothing_brings_the_event_back():
    table = Table()
    receive(table, OUTLOOK_CREATE, OUTLOOK_UPDATE, OUTLOOK_CANCEL)
    again = receive(table, OUTLOOK_CANCEL, OUTLOOK_UPDATE, OUTLOOK_CREATE)
    assert outcomes(again) == [
        OrganizerOutcome.DUPLICATE,
        OrganizerOutcome.CANCELLED_EVENT,
        OrganizerOutcome.CANCELLED_EVENT,
    ]


def test_series_moved_by_a_higher_sequence():
    table = Table()
    created, moved = receive(table, SERIES, "comm-central/repeat-update-major.eml")
    assert outcomes([created, moved]) == [OrganizerOutcome.CREATED, OrganizerOutcome.UPDATED]
    assert moved.attendee_sequence == 2
    assert moved.replaces_occurrences  # a whole REQUEST: changed occurrences it leaves out revert
    stored, _ = table.read("02e79b96")
    assert stored.details().recurrence.occurrences() == [
        datetime(2022, 3, 16, 5, 0, tzinfo=UTC) + timedelta(days=n) for n in range(3)
    ]


def test_series_with_an_occurrence_removed():
    table = Table()
    _, changed = receive(table, SERIES, "derived/repeat-event-exdate.eml")
    assert changed.outcome is OrganizerOutcome.UPDATED
    stored, _ = table.read("02e79b96")
    assert stored.details().recurrence.occurrences() == [
        datetime(2022, 3, 16, 11, 0, tzinfo=UTC),
        datetime(2022, 3, 18, 11, 0, tzinfo=UTC),
    ]


def test_one_occurrence_moved():
    table = Table()
    _, moved = receive(table, SERIES, "comm-central/exception-major.eml")
    assert moved.outcome is OrganizerOutcome.OCCURRENCES_CHANGED
    assert moved.event is None  # the series itself stays as stored
    (occurrence,) = moved.occurrences
    assert occurrence.occurrence == datetime(2022, 3, 17, 11, 0, tzinfo=UTC)
    assert occurrence.start == datetime(2022, 3, 17, 5, 0, tzinfo=UTC)
    assert (occurrence.sequence, moved.attendee_sequence, moved.fan_out) == (2, 2, True)


def test_one_occurrence_cancelled():
    table = Table()
    _, cancelled = receive(
        table, "sabre-vobject/recurring-series-romance.ics", "sabre-vobject/cancel-instance-of-recurring.ics"
    )
    assert cancelled.outcome is OrganizerOutcome.OCCURRENCES_CANCELLED
    assert cancelled.cancelled == (datetime(2018, 3, 20, 15, 0, tzinfo=UTC),)
    assert (cancelled.attendee_sequence, cancelled.fan_out) == (1, True)
    stored, _ = table.read("uid")
    assert not stored.is_cancelled


def test_whole_series_cancelled():
    table = Table()
    _, cancelled = receive(table, SERIES, "comm-central/cancel-repeat-event.eml")
    assert cancelled.outcome is OrganizerOutcome.CANCELLED
    assert table.read("02e79b96")[0].status is EventStatus.CANCELLED


def test_thunderbird_event_created_and_cancelled_at_the_same_sequence_and_dtstamp():
    """Thunderbird cancels a deleted event as it stored it: SEQUENCE and DTSTAMP are the REQUEST's.
    It is no copy of the REQUEST: the event is cancelled; a second copy of the CANCEL changes nothing."""
    table = Table()
    created, cancelled, again = receive(
        table, "calmailproc/test-05-1.eml", "derived/thunderbird-cancel.eml", "derived/thunderbird-cancel.eml"
    )
    assert outcomes([created, cancelled, again]) == [
        OrganizerOutcome.CREATED,
        OrganizerOutcome.CANCELLED,
        OrganizerOutcome.DUPLICATE,
    ]
    assert (cancelled.fan_out, cancelled.attendee_sequence) == (True, 1)  # above the 0 attendees hold
    assert table.read("0e4a0959-e1c7-4c5a-b353-d7abbd8ca8ac")[0].is_cancelled


def test_an_equal_version_request_after_a_request_is_still_a_duplicate():
    """Only a CANCEL is let through at the stored version: the same REQUEST again is a copy."""
    table = Table()
    receive(table, "calmailproc/test-05-1.eml")
    (again,) = receive(table, "calmailproc/test-05-1.eml")
    assert again.outcome is OrganizerOutcome.DUPLICATE


def test_icloud_event_created_and_cancelled_by_the_same_organizer():
    """iCloud's ORGANIZER routes through a token address; EMAIL= names the same person in both."""
    table = Table()
    created, cancelled = receive(table, "derived/icloud-request.eml", "derived/icloud-cancel.eml")
    assert outcomes([created, cancelled]) == [OrganizerOutcome.CREATED, OrganizerOutcome.CANCELLED]
    stored, _ = table.read("1E71F9C8-AEDA-48EB-98D0-76E898F6BB5C")
    assert stored.is_cancelled and stored.organizer.email == "user01@example.com"


def test_outlook_event_created_and_moved_by_its_organizer_in_owa():
    """Exchange's own mails of one event (calmailproc's test 7): created at SEQUENCE 0, moved a day
    and an hour later at 1; the creation arriving again is older than what is stored."""
    table = Table()
    created, moved, old = receive(table, OWA_CREATE, OWA_MOVE, OWA_CREATE)
    assert outcomes([created, moved, old]) == [
        OrganizerOutcome.CREATED,
        OrganizerOutcome.UPDATED,
        OrganizerOutcome.STALE,
    ]
    assert (moved.fan_out, moved.attendee_sequence) == (True, 1)
    stored, record = table.read(created.event.uid)
    assert stored.details().start == datetime(2025, 3, 18, 13, 0, tzinfo=UTC)
    assert record.organizer_sequence == 1


def test_outlook_event_created_and_cancelled_in_owa():
    """OWA's own CANCEL ("Abgesagt: Test 11"): one SEQUENCE up and STATUS:CANCELLED."""
    table = Table()
    created, cancelled = receive(table, *OWA_CANCELLED)
    assert outcomes([created, cancelled]) == [OrganizerOutcome.CREATED, OrganizerOutcome.CANCELLED]
    assert (cancelled.fan_out, cancelled.attendee_sequence) == (True, 1)
    assert table.read(created.event.uid)[0].is_cancelled


def test_one_occurrence_of_an_outlook_series_cancelled_in_owa():
    """OWA's own CANCEL of one Thursday (calmailproc's test-03-2.eml), against its series as the test
    writes it (OWA_SERIES: that REQUEST is not published). Without the series it is unknown."""
    cancel = message("calmailproc/test-03-2.eml")
    assert Table().receive(cancel).outcome is OrganizerOutcome.UNKNOWN_EVENT
    table = Table()
    created = table.receive(read_organizer_calendar(OWA_SERIES).message)
    cancelled = table.receive(cancel)
    assert (created.outcome, cancelled.outcome) == (
        OrganizerOutcome.CREATED,
        OrganizerOutcome.OCCURRENCES_CANCELLED,
    )
    assert cancelled.cancelled == (datetime(2025, 3, 27, 14, 0, tzinfo=UTC),)
    assert (cancelled.fan_out, cancelled.attendee_sequence) == (True, 2)  # the organizer's, above 0
    assert not table.read(OWA_SERIES_UID)[0].is_cancelled  # the other Thursdays stay


def test_exchange_online_cancel_at_the_same_sequence_is_ordered_by_its_dtstamp():
    """Exchange Online writes no SEQUENCE in its REQUEST or in its CANCEL (calmailproc's test 11):
    the CANCEL's later DTSTAMP makes it the newer version, so it cancels; a copy of it changes
    nothing, and the REQUEST arriving late does not bring the event back."""
    table = Table()
    created, cancelled, again, late = receive(
        table, EXCHANGE_ONLINE_CREATE, EXCHANGE_ONLINE_CANCEL, EXCHANGE_ONLINE_CANCEL, EXCHANGE_ONLINE_CREATE
    )
    assert outcomes([created, cancelled, again, late]) == [
        OrganizerOutcome.CREATED,
        OrganizerOutcome.CANCELLED,
        OrganizerOutcome.DUPLICATE,
        OrganizerOutcome.CANCELLED_EVENT,
    ]
    assert message(EXCHANGE_ONLINE_CANCEL).sequence == message(EXCHANGE_ONLINE_CREATE).sequence == 0
    assert (cancelled.fan_out, cancelled.attendee_sequence) == (True, 1)  # above the 0 attendees hold
    assert table.read(created.event.uid)[0].is_cancelled


# ------------------------------------------------------------------- what changes nothing


def test_a_duplicate_request_changes_nothing():
    table = Table()
    receive(table, OUTLOOK_CREATE, OUTLOOK_UPDATE)
    before = dict(table.items)
    (again,) = receive(table, OUTLOOK_UPDATE)
    assert again.outcome is OrganizerOutcome.DUPLICATE
    assert table.items == before


def test_a_stale_request_changes_nothing():
    table = Table()
    receive(table, SERIES, "comm-central/repeat-update-major.eml")
    before = dict(table.items)
    (old,) = receive(table, SERIES)
    assert old.outcome is OrganizerOutcome.STALE
    assert table.items == before


def test_a_cancel_older_than_the_stored_update_is_stale():
    """Thunderbird's CANCEL of 02e79b96 has SEQUENCE 1; its update-major has 2."""
    table = Table()
    receive(table, "comm-central/update-major.eml")
    (cancel,) = receive(table, "comm-central/cancel-single-event.eml")
    assert cancel.outcome is OrganizerOutcome.STALE
    assert not table.read("02e79b96")[0].is_cancelled


@pytest.mark.parametrize(
    ("shift", "expected"),
    [
        (timedelta(hours=1), OrganizerOutcome.UPDATED),  # same SEQUENCE, later DTSTAMP: a minor change
        (timedelta(0), OrganizerOutcome.DUPLICATE),
        (-timedelta(hours=1), OrganizerOutcome.STALE),
    ],
)
def test_dtstamp_breaks_a_tie_of_sequences(shift, expected):
    table = Table()
    receive(table, OUTLOOK_CREATE)
    created = message(OUTLOOK_CREATE)
    event = dataclasses.replace(created.event, location="Room 5")
    tied = dataclasses.replace(created, event=event, dtstamp=created.dtstamp + shift)
    decision = table.receive(tied)
    assert decision.outcome is expected
    if expected is OrganizerOutcome.UPDATED:
        # The attendees' copies still need a higher sequence than they were sent.
        assert decision.attendee_sequence == 1
        assert table.read(created.uid)[0].location == "Room 5"


def test_without_dtstamps_an_equal_sequence_is_a_duplicate():
    table = Table()
    created = dataclasses.replace(message(OUTLOOK_CREATE), dtstamp=None)
    table.receive(created)
    assert (
        table.receive(dataclasses.replace(created, event=created.event)).outcome is OrganizerOutcome.DUPLICATE
    )


def test_the_attendees_sequence_goes_up_even_when_the_organizers_does_not_keep_pace():
    """The event went to the attendees at sequence 7 (the server's own changes raised it past the
    organizer's): the next change goes out at 8, whether the organizer's SEQUENCE says 8 or 1."""
    stored = EventItem.read(
        {**message(OUTLOOK_CREATE).event.as_dict(), "sequence": 7, "status": "CONFIRMED"},
        uid=message(OUTLOOK_CREATE).uid,
    )
    update = dataclasses.replace(message(OUTLOOK_UPDATE), sequence=8)
    record = OrganizerRecord(
        CALENDAR_SOURCE, organizer_sequence=1, organizer_dtstamp="2021-11-22T08:15:00+00:00"
    )
    assert decide(update, stored, record).attendee_sequence == 8
    record = OrganizerRecord(CALENDAR_SOURCE, organizer_sequence=0)
    assert decide(message(OUTLOOK_UPDATE), stored, record).attendee_sequence == 8


def test_an_event_created_through_the_queue_is_ordered_by_its_own_sequence():
    msg = message(OUTLOOK_UPDATE)  # SEQUENCE 1
    for stored_sequence, expected in ((0, OrganizerOutcome.UPDATED), (1, OrganizerOutcome.DUPLICATE)):
        stored = EventItem.read(
            {**message(OUTLOOK_CREATE).event.as_dict(), "sequence": stored_sequence, "status": "CONFIRMED"},
            uid=msg.uid,
        )
        decision = decide(msg, stored, OrganizerRecord())
        assert decision.outcome is expected
    assert (
        decide(
            msg, EventItem.read({**msg.event.as_dict(), "sequence": 0}, uid=msg.uid), OrganizerRecord()
        ).record.source
        == ""
    )


def test_another_organizers_event_is_not_changed():
    table = Table()
    receive(table, OUTLOOK_CREATE)
    before = dict(table.items)
    theirs = dataclasses.replace(message(OUTLOOK_UPDATE), organizer=Person("lisa@example.org", "Lisa"))
    decision = table.receive(theirs)
    assert decision.outcome is OrganizerOutcome.OWNED_BY_ANOTHER
    assert "marge@example.org" in decision.reason and "lisa@example.org" in decision.reason
    assert table.items == before
    cancel = dataclasses.replace(message(OUTLOOK_CANCEL), organizer=Person("lisa@example.org"))
    assert table.receive(cancel).outcome is OrganizerOutcome.OWNED_BY_ANOTHER


@pytest.mark.parametrize(
    "name",
    ["comm-central/exception-major.eml", "comm-central/cancel-single-event.eml", OUTLOOK_CANCEL],
)
def test_a_change_of_an_event_not_held_is_unknown(name):
    table = Table()
    assert table.receive(message(name)).outcome is OrganizerOutcome.UNKNOWN_EVENT
    assert table.items == {}


def test_an_occurrence_the_series_does_not_have_is_unknown():
    table = Table()
    receive(table, SERIES)
    moved = message("comm-central/exception-major.eml")
    (occurrence,) = moved.occurrences
    wrong = dataclasses.replace(occurrence, occurrence=occurrence.occurrence + timedelta(hours=1))
    decision = table.receive(dataclasses.replace(moved, occurrences=(wrong,)))
    assert decision.outcome is OrganizerOutcome.UNKNOWN_EVENT
    assert "2022-03-17T12:00:00+00:00" in decision.reason


def test_occurrences_of_a_single_event_are_unknown():
    table = Table()
    receive(table, "comm-central/single-event.eml")
    moved = message("comm-central/exception-major.eml")
    retargeted = dataclasses.replace(
        moved,
        uid="b0c0b197",
        occurrences=tuple(dataclasses.replace(o, uid="b0c0b197") for o in moved.occurrences),
    )
    assert table.receive(retargeted).outcome is OrganizerOutcome.UNKNOWN_EVENT


# --------------------------------------------------------------------------- concurrent copies


@pytest.mark.parametrize("names", [(OUTLOOK_CREATE,), (OUTLOOK_CREATE, OUTLOOK_UPDATE)])
def test_twelve_concurrent_copies_make_one_change(names):
    """12 copies of the last message, each decided on the item as it was before any of them wrote:
    one write holds, the others are refused, decided again, and end as duplicates. Only one fans out."""
    table = Table()
    receive(table, *names[:-1])
    copy = message(names[-1])
    decided = [decide(copy, *table.read(copy.uid)) for _ in range(12)]
    assert all(isinstance(d, Apply) for d in decided)
    final = []
    for decision in decided:
        if table.write(copy.uid, decision):
            final.append(decision)
        else:
            final.append(table.receive(copy))
    assert table.refused_writes == 11
    changed = [d for d in final if d.outcome is not OrganizerOutcome.DUPLICATE]
    assert len(changed) == 1
    assert sum(1 for d in final if isinstance(d, Apply) and d.fan_out) == (0 if len(names) == 1 else 1)


# ----------------------------------------------------------------- the attendees' own UID


def test_the_event_is_stored_under_the_attendees_uid_and_remembers_the_organizers():
    created = message(OUTLOOK_CREATE)
    uid = attendee_uid(created.organizer.email, created.uid, "cis.example.com")
    decision = decide(created, None, OrganizerRecord(), uid)
    assert decision.event.uid == uid
    assert decision.record.organizer_uid == created.uid
    stored = EventItem.read({**decision.event.as_dict(), "sequence": 0}, uid=uid)
    update = decide(message(OUTLOOK_UPDATE), stored, decision.record, uid)
    assert (update.outcome, update.event.uid, update.record.organizer_uid) == (
        OrganizerOutcome.UPDATED,
        uid,
        created.uid,
    )
    moved = message("comm-central/exception-major.eml")
    series = decide(message(SERIES), None, OrganizerRecord(), "cal-x@cis.example.com")
    stored = EventItem.read({**series.event.as_dict(), "sequence": 0}, uid="cal-x@cis.example.com")
    (occurrence,) = decide(moved, stored, series.record, "cal-x@cis.example.com").occurrences
    assert occurrence.uid == "cal-x@cis.example.com"


def test_the_attendees_uid_is_the_same_for_every_copy_and_differs_per_organizer():
    uid = attendee_uid("Marge@Example.org", "ABC", "CIS.example.com")
    assert uid == attendee_uid("marge@example.org", "ABC", "cis.example.com")
    assert uid.startswith("cal-") and uid.endswith("@cis.example.com") and len(uid) == 4 + 32 + 16
    assert attendee_uid("lisa@example.org", "ABC", "cis.example.com") != uid
    assert attendee_uid("marge@example.org", "abc", "cis.example.com") != uid  # UIDs are case-sensitive
