"""The pure rules behind every refused claim, every CANCEL's SEQUENCE and every status."""

import pytest

from lambdas.domain.cancellation_decisions import (
    attendee_cancellation_sequence,
    cancellation_sequence,
    classify_refused_cancellation,
    event_cancellation_sequence,
    receives_event_cancellation,
    superseded_by_update,
)
from lambdas.domain.decisions import SendOutcome, attendee_status_after, classify_refused_invite, itip_status
from lambdas.domain.items import AttendeeItem, EventItem, Pending
from lambdas.domain.outcomes import SharedOutcome
from lambdas.domain.vocabulary import AttendeeStatus, CancelIntent, EventStatus, Method

NOW, LEASE = 1_000_000.0, 60
UID, WHO = "u1", "x@example.org"


def attendee(**fields) -> AttendeeItem:
    return AttendeeItem(uid=UID, email=WHO, **fields)


def event(**fields) -> EventItem:
    return EventItem(uid=UID, **fields)


def test_a_cancelled_event_makes_an_invite_stale():
    assert classify_refused_invite(None, True, 0, NOW, LEASE) is SendOutcome.STALE


def test_a_live_claim_is_in_flight_and_retried():
    item = attendee(pending=Pending(since=NOW - 5))
    assert classify_refused_invite(item, False, 0, NOW, LEASE) is SendOutcome.IN_FLIGHT
    assert SendOutcome.IN_FLIGHT.retry


def test_an_expired_claim_explains_nothing_by_itself_so_it_is_decided_again_later():
    item = attendee(pending=Pending(since=NOW - LEASE - 1))
    assert classify_refused_invite(item, False, 0, NOW, LEASE) is SharedOutcome.RETRY_LATER


def test_same_sequence_already_sent_is_a_duplicate():
    item = attendee(sequence=2, status=AttendeeStatus.INVITED)
    assert classify_refused_invite(item, False, 2, NOW, LEASE) is SendOutcome.DUPLICATE


def test_lower_sequence_is_stale():
    item = attendee(sequence=3, status=AttendeeStatus.INVITED)
    assert classify_refused_invite(item, False, 2, NOW, LEASE) is SendOutcome.STALE


@pytest.mark.parametrize("status", [AttendeeStatus.CANCELLED, AttendeeStatus.REMOVED])
def test_an_attendee_cancelled_or_removed_at_this_sequence_makes_the_invite_stale(status):
    item = attendee(sequence=2, status=status)
    assert classify_refused_invite(item, False, 2, NOW, LEASE) is SendOutcome.STALE


def test_cancellation_outcomes():
    assert classify_refused_cancellation(None, NOW, LEASE) is SendOutcome.SKIPPED
    assert (
        classify_refused_cancellation(attendee(status=AttendeeStatus.CANCELLED), NOW, LEASE)
        is SendOutcome.DUPLICATE
    )
    assert (
        classify_refused_cancellation(attendee(status=AttendeeStatus.REMOVED), NOW, LEASE)
        is SendOutcome.DUPLICATE
    )
    assert (
        classify_refused_cancellation(attendee(pending=Pending(since=NOW)), NOW, LEASE)
        is SendOutcome.IN_FLIGHT
    )
    assert classify_refused_cancellation(attendee(), NOW, LEASE) is SendOutcome.SKIPPED


def test_cancellation_sequence_is_strictly_above_everything_sent():
    assert cancellation_sequence(None, 0, None) == 1
    assert cancellation_sequence(None, 2, 4) == 5
    assert cancellation_sequence(9, 2, 4) == 9
    assert cancellation_sequence(1, 3, None) == 4
    assert cancellation_sequence(None, None, None) == 0


def test_a_whole_event_cancellation_goes_above_the_event_and_a_repeat_keeps_the_first_sequence():
    assert event_cancellation_sequence(None, None) == 0
    assert event_cancellation_sequence(None, event(sequence=1)) == 2
    assert event_cancellation_sequence(7, event(sequence=1)) == 7
    # Cancelled once at 2: cancelling again (the event unchanged) repeats 2, so the fan-out's
    # emails are duplicates of the first ones rather than new cancellations.
    assert event_cancellation_sequence(None, event(sequence=1, cancelled_sequence=2)) == 2
    # Re-scheduled above the cancellation, then cancelled again: above the new sequence.
    assert event_cancellation_sequence(None, event(sequence=5, cancelled_sequence=2)) == 6


def test_a_cancel_to_one_attendee_goes_above_what_it_was_sent_or_may_have_been_sent():
    assert attendee_cancellation_sequence(None, None, None) == 0
    assert attendee_cancellation_sequence(None, attendee(sequence=1), None) == 2
    assert attendee_cancellation_sequence(None, attendee(sequence=1), 3) == 4
    # An expired invite claim at 4 may have sent 4 before its function died.
    claimed = attendee(sequence=1, pending=Pending(method=Method.REQUEST, sequence=4, since=0))
    assert attendee_cancellation_sequence(None, claimed, None) == 5
    assert attendee_cancellation_sequence(9, claimed, 3) == 9


def test_a_share_of_an_event_cancellation_is_superseded_by_a_later_update_only():
    assert superseded_by_update(attendee(sequence=5), 2)
    assert not superseded_by_update(attendee(sequence=2), 2)
    assert not superseded_by_update(attendee(sequence=1), 2)
    assert not superseded_by_update(attendee(), 2)  # an expired claim: cancel it
    assert not superseded_by_update(None, 2)


def test_status_words_of_each_email():
    assert itip_status(Method.REQUEST) is EventStatus.CONFIRMED
    assert itip_status(Method.CANCEL, CancelIntent.NOTIFY_CANCELLED) is EventStatus.CANCELLED
    assert itip_status(Method.CANCEL, CancelIntent.REMOVE_ATTENDEE) is None  # RFC 5546 §3.2.5


def test_what_the_attendee_item_records_after_each_email():
    assert attendee_status_after(Method.REQUEST, EventStatus.CONFIRMED) is AttendeeStatus.INVITED
    assert attendee_status_after(Method.CANCEL, EventStatus.CANCELLED) is AttendeeStatus.CANCELLED
    assert attendee_status_after(Method.CANCEL, None) is AttendeeStatus.REMOVED


def test_a_whole_event_cancellation_reaches_invited_and_possibly_invited_attendees_only():
    assert receives_event_cancellation(attendee(status=AttendeeStatus.INVITED))
    assert receives_event_cancellation(attendee(pending=Pending(method=Method.REQUEST, sequence=0)))
    assert not receives_event_cancellation(attendee(status=AttendeeStatus.REMOVED))
    assert not receives_event_cancellation(attendee(status=AttendeeStatus.CANCELLED))
    assert not receives_event_cancellation(AttendeeItem(uid=UID, email="", status=AttendeeStatus.INVITED))


def test_an_occurrence_change_at_or_below_the_series_is_stale():
    from lambdas.domain.decisions import stale_occurrence_change

    series = EventItem(uid="u", sequence=2)
    assert stale_occurrence_change(2, series) and stale_occurrence_change(1, series)
    assert not stale_occurrence_change(3, series)
    assert not stale_occurrence_change(0, None)


def test_an_occurrence_cancellation_goes_above_that_occurrence_only():
    from lambdas.domain.cancellation_decisions import occurrence_cancellation_sequence

    assert occurrence_cancellation_sequence(None, 0, None) == 1  # above the series
    assert occurrence_cancellation_sequence(None, 0, 3) == 4  # above that occurrence's change
    assert occurrence_cancellation_sequence(7, 0, 3) == 7  # the producer's, when higher
    assert occurrence_cancellation_sequence(None, None, None) == 0


def test_one_occurrence_cancelled_is_recorded_once_and_leaves_the_attendee_invited():
    from lambdas.domain.cancellation_decisions import occurrence_already_cancelled
    from lambdas.domain.decisions import attendee_status_after
    from lambdas.domain.items import HistoryEntry

    assert (
        attendee_status_after(Method.CANCEL, EventStatus.CANCELLED, one_occurrence=True)
        is AttendeeStatus.INVITED
    )
    occurrence = "2026-12-08T09:00:00+00:00"
    item = AttendeeItem(
        uid="u",
        email="b@example.org",
        history=(HistoryEntry(Method.REQUEST, 0), HistoryEntry(Method.CANCEL, 1, occurrence=occurrence)),
    )
    assert occurrence_already_cancelled(item, occurrence)
    assert not occurrence_already_cancelled(item, "2026-12-15T09:00:00+00:00")
    assert not occurrence_already_cancelled(None, occurrence)
