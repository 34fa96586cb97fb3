"""The pure rules for answers to one occurrence (lambdas.domain.occurrence_answers), a removed
attendee's uncounting (replies.uncounted), and the writes that carry them."""

from __future__ import annotations

from lambdas.adapters.occurrence_expressions import occurrence_reply_transaction
from lambdas.adapters.reply_expressions import Received
from lambdas.adapters.uncount_expressions import uncount_transaction
from lambdas.domain.items import OccurrenceAnswersItem
from lambdas.domain.occurrence_answers import (
    MAX_OCCURRENCE_REPLIES,
    OccurrenceChange,
    answered_occurrence,
    decide_occurrence_reply,
    occurrence_uncounted,
)
from lambdas.domain.replies import Counts, Refusal, ReplyOutcome, uncounted
from tests.unit.test_replies import LATER, NOON, Answer, bob, ev

SERIES = ev(
    start="2026-12-01T10:00:00",
    end="2026-12-01T11:00:00",
    timezone="Europe/Paris",
    rrule="FREQ=WEEKLY;COUNT=6",
    exdates=["2026-12-15T10:00:00+01:00"],
    summary="Weekly",
    organizer={"email": "alice@example.com"},
)
SECOND = "2026-12-08T09:00:00+00:00"
RECEIVED = Received("in-1", "2026-11-24T12:00:00+00:00")


def test_a_recurrence_id_names_its_occurrence_by_instant_whatever_its_zone():
    assert answered_occurrence(SECOND, SERIES, bob()) == SECOND
    assert answered_occurrence("2026-12-08T10:00:00", SERIES, bob()) == SECOND  # floating: the series' zone
    assert answered_occurrence("2026-12-08T18:00:00+09:00", SERIES, bob()) == SECOND


def test_a_recurrence_id_that_names_no_live_occurrence_is_refused_with_why():
    def reason(text, attendee=None):
        refusal = answered_occurrence(text, SERIES, attendee or bob())
        assert isinstance(refusal, Refusal)
        return refusal.outcome, refusal.reason

    assert reason("2026-12-09T09:00:00+00:00")[0] is ReplyOutcome.STALE  # not in the rule
    assert reason("2026-12-15T09:00:00+00:00") == (ReplyOutcome.STALE, "the occurrence is cancelled")
    removed = bob(excluded_occurrences=[SECOND])
    assert reason(SECOND, removed) == (ReplyOutcome.STALE, "the attendee was removed from this occurrence")
    single = answered_occurrence(SECOND, ev(start="2026-12-08T10:00:00Z", end="2026-12-08T11:00:00Z"), bob())
    assert single.outcome is ReplyOutcome.UNSUPPORTED


def test_the_first_answer_to_an_occurrence_starts_its_counts_and_a_change_of_mind_moves_one():
    first = decide_occurrence_reply(Answer("DECLINED"), SECOND, SERIES, bob(), None)
    assert first == OccurrenceChange(
        SECOND,
        0,
        "replies_declined",
        Counts(0, reset_to={"replies_accepted": 0, "replies_declined": 1, "replies_tentative": 0}),
    )
    entry = {
        "partstat": "DECLINED",
        "sequence": 0,
        "dtstamp": NOON.isoformat(),
        "counted_as": "replies_declined",
    }
    answered = bob(occurrence_replies={SECOND: {**entry, "counted_sequence": 0}})
    tally = OccurrenceAnswersItem(uid="u", occurrence=SECOND, replies_sequence=0, replies_declined=1)
    again = decide_occurrence_reply(Answer("ACCEPTED", dtstamp=LATER), SECOND, SERIES, answered, tally)
    assert again.counts == Counts(0, deltas={"replies_declined": -1, "replies_accepted": 1})
    assert (
        decide_occurrence_reply(Answer("DECLINED"), SECOND, SERIES, answered, tally).outcome
        is ReplyOutcome.DUPLICATE
    )


def test_occurrence_answers_are_for_invited_attendees_and_bounded():
    shared = decide_occurrence_reply(Answer(), SECOND, SERIES, None, None)
    assert shared.outcome is ReplyOutcome.SKIPPED
    many = {f"2027-01-{d:02d}": {"partstat": "ACCEPTED"} for d in range(1, 32)}
    many |= {f"2027-{m:02d}-01T00:00:00+00:00": {"partstat": "ACCEPTED"} for m in range(1, 13)}
    many |= {f"x{i}": {"partstat": "ACCEPTED"} for i in range(MAX_OCCURRENCE_REPLIES)}
    full = decide_occurrence_reply(Answer(), SECOND, SERIES, bob(occurrence_replies=many), None)
    assert full.outcome is ReplyOutcome.SKIPPED


def test_the_first_occurrence_answer_writes_the_map_and_later_ones_a_key_of_it():
    change = decide_occurrence_reply(Answer("DECLINED"), SECOND, SERIES, bob(), None)
    [attendee, counts, check] = occurrence_reply_transaction(
        "t", Answer("DECLINED"), change, RECEIVED, bob(), None
    )
    update = attendee["Update"]
    assert update["UpdateExpression"].startswith("SET #occurrence_replies = :v")
    assert "attribute_not_exists(#occurrence_replies)" in update["ConditionExpression"]
    assert counts["Update"]["Key"]["sk"] == {"S": f"answers#{SECOND}"}
    assert "ConditionCheck" in check

    other = bob(
        occurrence_replies={
            "2026-12-22T09:00:00+00:00": {"partstat": "ACCEPTED", "dtstamp": NOON.isoformat()}
        }
    )
    [attendee, *_] = occurrence_reply_transaction("t", Answer("DECLINED"), change, RECEIVED, other, None)
    names = attendee["Update"]["ExpressionAttributeNames"]
    assert SECOND in names.values() and "occurrence_replies" in names.values()
    assert "attribute_exists" in attendee["Update"]["ConditionExpression"]


def test_a_removed_attendee_is_uncounted_only_from_the_version_the_counts_describe():
    counted = bob(counted_as="replies_accepted", counted_sequence=0)
    assert uncounted(ev(replies_sequence=0), counted) == {"replies_accepted": -1}
    assert uncounted(ev(replies_sequence=1), counted) == {}
    assert uncounted(ev(replies_sequence=0), bob()) is None
    [attendee, event] = uncount_transaction(
        "t", "u", counted, {"replies_accepted": -1}, ev(replies_sequence=0)
    )
    assert attendee["Update"]["UpdateExpression"].startswith("REMOVE")
    assert event["Update"]["UpdateExpression"].startswith("ADD")
    assert len(uncount_transaction("t", "u", counted, {}, ev(replies_sequence=1))) == 1


def test_an_occurrence_answer_is_uncounted_only_from_the_version_its_counts_describe():
    entry = bob(
        occurrence_replies={
            SECOND: {"partstat": "DECLINED", "counted_as": "replies_declined", "counted_sequence": 0}
        }
    ).occurrence_replies[SECOND]
    tally = OccurrenceAnswersItem(uid="u", occurrence=SECOND, replies_sequence=0, replies_declined=1)
    assert occurrence_uncounted(entry, tally) == {"replies_declined": -1}
    assert (
        occurrence_uncounted(entry, OccurrenceAnswersItem(uid="u", occurrence=SECOND, replies_sequence=1))
        == {}
    )
    assert occurrence_uncounted(None, tally) is None
