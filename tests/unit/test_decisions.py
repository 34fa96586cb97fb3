"""The pure idempotency rules behind every refused claim."""

from lambdas.domain.decisions import (
    Outcome,
    cancellation_sequence,
    classify_refused_cancellation,
    classify_refused_invite,
)

NOW, LEASE = 1_000_000.0, 60


def test_a_cancelled_event_makes_an_invite_stale():
    assert classify_refused_invite(None, True, 0, NOW, LEASE) is Outcome.STALE


def test_a_live_claim_means_retry_later():
    item = {"pending": {"since": NOW - 5}}
    assert classify_refused_invite(item, False, 0, NOW, LEASE) is Outcome.IN_FLIGHT
    assert Outcome.IN_FLIGHT.retry


def test_same_sequence_already_sent_is_a_duplicate():
    assert (
        classify_refused_invite({"sequence": 2, "status": "invited"}, False, 2, NOW, LEASE)
        is Outcome.DUPLICATE
    )


def test_lower_sequence_is_stale():
    assert (
        classify_refused_invite({"sequence": 3, "status": "invited"}, False, 2, NOW, LEASE) is Outcome.STALE
    )


def test_an_attendee_cancelled_at_this_sequence_makes_the_invite_stale():
    assert (
        classify_refused_invite({"sequence": 2, "status": "cancelled"}, False, 2, NOW, LEASE) is Outcome.STALE
    )


def test_cancellation_outcomes():
    assert classify_refused_cancellation(None, NOW, LEASE) is Outcome.SKIPPED
    assert classify_refused_cancellation({"status": "cancelled"}, NOW, LEASE) is Outcome.DUPLICATE
    assert classify_refused_cancellation({"pending": {"since": NOW}}, NOW, LEASE) is Outcome.IN_FLIGHT
    assert classify_refused_cancellation({"email": "x@example.org"}, NOW, LEASE) is Outcome.SKIPPED


def test_cancellation_sequence_is_strictly_above_everything_sent():
    assert cancellation_sequence(None, 0, None) == 1
    assert cancellation_sequence(None, 2, 4) == 5
    assert cancellation_sequence(9, 2, 4) == 9
    assert cancellation_sequence(1, 3, None) == 4
    assert cancellation_sequence(None, None, None) == 0


def test_only_transient_outcomes_are_retried():
    assert {o for o in Outcome if o.retry} == {Outcome.IN_FLIGHT, Outcome.FAILED}
