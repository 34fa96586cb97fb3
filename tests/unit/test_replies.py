"""The pure rules of what an answer changes (lambdas.domain.replies) and the writes that carry them."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime

import pytest

from lambdas.adapters.kept_expressions import counter_update
from lambdas.adapters.mailbox import Mailbox, MailTooLarge
from lambdas.adapters.refresh_expressions import refresh_claim
from lambdas.adapters.reply_expressions import MAX_HISTORY, Received, reply_transaction
from lambdas.domain.inbound.itip import CalendarAnswer
from lambdas.domain.items import AttendeeItem, EventItem
from lambdas.domain.rarer_answers import decide_counter, decide_refresh
from lambdas.domain.replies import (
    COUNTERS,
    MAX_REFRESHES,
    Counts,
    Refusal,
    ReplyChange,
    ReplyOutcome,
    decide_reply,
    invited_sequence,
)
from lambdas.domain.vocabulary import Origin, PartStat

NOW_TS, LEASE = 1_000_000.0, 60  # a refresh claim's clock and lease


def ev(**stored) -> EventItem:
    """The event item as the store reads it, from what is stored."""
    return EventItem.read({"sequence": 0, "status": "CONFIRMED", **stored}, uid="u")


def bob(**stored) -> AttendeeItem:
    """Bob's attendee item as the store reads it: invited at sequence 0 unless told otherwise."""
    base = {"email": "bob@example.org", "status": "invited", "sequence": 0, "partstat": "NEEDS-ACTION"}
    return AttendeeItem.read({**base, **stored}, uid="u", email="bob@example.org")


EVENT, BOB = ev(), bob()
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def Answer(partstat: str | None = "ACCEPTED", **fields) -> CalendarAnswer:
    """Bob's answer to event "u", as the inbound reader gives it."""
    defaults = {
        "method": "REPLY",
        "uid": "u",
        "attendee": "bob@example.org",
        "attendee_name": "Bob",
        "sequence": 0,
        "dtstamp": NOON,
        "recurrence_id": None,
        "comment": "",
        "prodid": "-//Client//EN",
    }
    return CalendarAnswer(**{**defaults, "partstat": partstat, **fields})


def answered(partstat: str, version: int = 0, dtstamp: datetime = NOON, **more) -> AttendeeItem:
    """Bob's item after an answer to ``version``, counted at that version."""
    counted = {"ACCEPTED": "replies_accepted", "DECLINED": "replies_declined"}.get(partstat)
    item = {"partstat": partstat, "reply_sequence": version, "reply_dtstamp": dtstamp.isoformat()}
    item["reply_version"] = 1
    if counted:
        item.update(counted_as=counted, counted_sequence=version)
    return bob(**{**item, **more})


# ----------------------------------------------------------------------------------- REPLY


def test_the_first_answer_starts_the_counts_of_its_version():
    change = decide_reply(Answer(), EVENT, BOB)
    assert change == ReplyChange(
        outcome=ReplyOutcome.RECORDED,
        origin=None,
        version=0,
        counted_as="replies_accepted",
        counts=Counts(version=0, reset_to={**dict.fromkeys(COUNTERS, 0), "replies_accepted": 1}),
    )


def test_a_change_of_mind_moves_one_count_to_another():
    event = ev(replies_sequence=0)
    change = decide_reply(Answer("DECLINED", dtstamp=LATER), event, answered("ACCEPTED"))
    assert change.counts == Counts(version=0, deltas={"replies_accepted": -1, "replies_declined": 1})
    assert change.counted_as == "replies_declined"


def test_the_same_answer_restated_later_moves_no_count():
    event = ev(replies_sequence=0)
    change = decide_reply(Answer("ACCEPTED", dtstamp=LATER), event, answered("ACCEPTED"))
    assert change.outcome is ReplyOutcome.RECORDED
    assert change.counts is None and change.counted_as == "replies_accepted"


def test_delegation_leaves_the_counts():
    event = ev(replies_sequence=0)
    change = decide_reply(Answer("DELEGATED", dtstamp=LATER), event, answered("ACCEPTED"))
    assert change.counts == Counts(version=0, deltas={"replies_accepted": -1})
    assert change.counted_as is None


def test_an_earlier_dtstamp_is_stale_and_the_same_one_a_duplicate():
    event = ev(replies_sequence=0)
    item = answered("DECLINED", dtstamp=LATER)
    assert decide_reply(Answer("ACCEPTED", dtstamp=NOON), event, item).outcome is ReplyOutcome.STALE
    assert decide_reply(Answer("DECLINED", dtstamp=LATER), event, item).outcome is ReplyOutcome.DUPLICATE


def test_a_lower_sequence_than_the_one_sent_is_stale():
    item = bob(sequence=2)
    refusal = decide_reply(Answer(sequence=1), ev(sequence=2), item)
    assert refusal == Refusal(ReplyOutcome.STALE, "answers SEQUENCE 1; 2 was sent since")


def test_a_higher_sequence_answers_the_one_sent():
    change = decide_reply(Answer(sequence=9), EVENT, BOB)
    assert change.version == 0 and change.counts.version == 0


def test_after_an_update_the_first_answer_restarts_the_counts():
    event = ev(sequence=1, replies_sequence=0)
    item = dataclasses.replace(answered("ACCEPTED", version=0, sequence=1), partstat=PartStat.NEEDS_ACTION)
    change = decide_reply(Answer("ACCEPTED", sequence=1), event, item)
    assert change.counts.reset_to == {**dict.fromkeys(COUNTERS, 0), "replies_accepted": 1}
    assert change.counts.version == 1


def test_an_answer_to_an_old_version_not_yet_updated_is_recorded_but_not_counted():
    # The update to sequence 1 has not reached Bob yet; the counts already describe sequence 1.
    event = ev(sequence=1, replies_sequence=1)
    change = decide_reply(Answer("ACCEPTED", sequence=0), event, BOB)
    assert change.outcome is ReplyOutcome.RECORDED
    assert change.counts is None and change.counted_as is None


def test_a_previous_answer_counted_at_an_older_version_is_not_subtracted():
    event = ev(sequence=1, replies_sequence=1)
    item = answered("ACCEPTED", version=0, sequence=1)
    change = decide_reply(Answer("DECLINED", sequence=1), event, item)
    assert change.counts == Counts(version=1, deltas={"replies_declined": 1})


def test_someone_not_invited_is_recorded_as_shared_and_counted_apart():
    change = decide_reply(Answer(attendee="erin@example.net"), ev(replies_sequence=0), None)
    assert (change.outcome, change.origin, change.counted_as) == (
        ReplyOutcome.SHARED,
        Origin.SHARED,
        "shared_accepted",
    )
    assert change.counts == Counts(version=0, deltas={"shared_accepted": 1})


def test_a_forwarded_invitation_of_an_older_version_is_stale():
    assert decide_reply(Answer(sequence=0), ev(sequence=2), None).outcome is ReplyOutcome.STALE


def test_an_attendee_being_invited_right_now_is_invited():
    stored = {"email": "bob@example.org", "pending": {"method": "REQUEST", "sequence": 0, "token": "t"}}
    item = AttendeeItem.read(stored, uid="u", email="bob@example.org")
    assert invited_sequence(item) == 0
    assert decide_reply(Answer(), EVENT, item).origin is None  # invited, not shared


@pytest.mark.parametrize(
    ("event", "outcome"),
    [(None, ReplyOutcome.UNKNOWN_EVENT), (ev(status="CANCELLED"), ReplyOutcome.CANCELLED_EVENT)],
)
def test_only_known_open_events_take_answers(event, outcome):
    assert decide_reply(Answer(), event, BOB).outcome is outcome


@pytest.mark.parametrize("partstat", [None, "NEEDS-ACTION", "X-MAYBE"])
def test_a_partstat_that_is_not_an_answer_is_malformed(partstat):
    assert decide_reply(Answer(partstat), EVENT, BOB).outcome is ReplyOutcome.MALFORMED_CALENDAR


def test_a_removed_attendee_cannot_answer():
    item = bob(status="cancelled", sequence=1)
    assert decide_reply(Answer(sequence=1), EVENT, item).outcome is ReplyOutcome.STALE


# ------------------------------------------------------------------------- COUNTER, REFRESH


def test_a_counter_is_recorded_unless_a_later_one_is():
    answer = Answer(None, method="COUNTER", dtstamp=LATER)
    assert decide_counter(answer, EVENT, BOB) is None
    stored = bob(counter={"dtstamp": LATER.isoformat()})
    assert decide_counter(answer, EVENT, stored).outcome is ReplyOutcome.DUPLICATE
    assert decide_counter(Answer(None, method="COUNTER"), EVENT, stored).outcome is ReplyOutcome.STALE
    assert decide_counter(answer, EVENT, None).outcome is ReplyOutcome.SKIPPED


def test_a_refresh_answers_with_the_sequence_sent_once_per_request():
    assert decide_refresh(EVENT, BOB, "in-1", NOW_TS, LEASE) == 0
    assert (
        decide_refresh(EVENT, bob(refreshed=["in-1"]), "in-1", NOW_TS, LEASE).outcome
        is ReplyOutcome.DUPLICATE
    )
    assert decide_refresh(EVENT, None, "in-1", NOW_TS, LEASE).outcome is ReplyOutcome.SKIPPED
    assert decide_refresh(ev(sequence=1), BOB, "in-1", NOW_TS, LEASE).outcome is ReplyOutcome.STALE


def test_a_refresh_another_delivery_is_answering_is_in_flight_until_its_lease_runs_out():
    live = bob(refresh_pending={"message_id": "in-1", "token": "other", "since": NOW_TS - 5})
    expired = bob(refresh_pending={"message_id": "in-1", "token": "other", "since": NOW_TS - LEASE - 1})
    assert decide_refresh(EVENT, live, "in-1", NOW_TS, LEASE).outcome is ReplyOutcome.IN_FLIGHT
    assert ReplyOutcome.IN_FLIGHT.retry
    assert decide_refresh(EVENT, expired, "in-1", NOW_TS, LEASE) == 0  # taken over


# -------------------------------------------------------------------------------- the writes


def _values(request: dict) -> dict:
    return {k: next(iter(v.values())) for k, v in request["ExpressionAttributeValues"].items()}


def test_the_reply_write_is_conditioned_on_the_items_as_read():
    event = ev(replies_sequence=0)
    item = answered("ACCEPTED")
    change = decide_reply(Answer("DECLINED", dtstamp=LATER), event, item)
    attendee_op, event_op = reply_transaction(
        "t", Answer("DECLINED", dtstamp=LATER), change, Received("in", "now"), event, item
    )

    update = attendee_op["Update"]
    names = update["ExpressionAttributeNames"]
    condition = update["ConditionExpression"]
    for attribute in ("reply_version", "sequence", "status", "partstat"):
        assert any(names[n] == attribute and f"{n} = " in condition for n in names)
    assert "pending" not in names.values()  # an invited attendee: a claim for an update is irrelevant
    assert "2" in _values(update).values()  # reply_version moves from 1 to 2 (N values are strings)

    counts = event_op["Update"]
    assert counts["UpdateExpression"].startswith("ADD ")
    assert {"replies_accepted", "replies_declined", "replies_sequence"} <= set(
        counts["ExpressionAttributeNames"].values()
    )
    assert sorted(v for v in _values(counts).values() if v in ("-1", "1")) == ["-1", "1"]


def test_a_reply_that_moves_no_count_only_checks_the_event():
    event = ev(replies_sequence=1, sequence=1)
    change = decide_reply(Answer(), event, BOB)
    _, event_op = reply_transaction("t", Answer(), change, Received("in", "now"), event, BOB)
    assert set(event_op) == {"ConditionCheck"}
    assert "attribute_exists" in event_op["ConditionCheck"]["ConditionExpression"]


def test_a_shared_answer_is_written_as_shared_on_an_absent_item():
    change = decide_reply(Answer(attendee="erin@example.net"), EVENT, None)
    attendee_op, _ = reply_transaction(
        "t", Answer(attendee="erin@example.net"), change, Received("in", "now"), EVENT, None
    )
    update = attendee_op["Update"]
    assert "shared" in _values(update).values()
    assert update["ConditionExpression"].count("attribute_not_exists") == 5  # nothing was there


def test_the_counter_and_refresh_writes_refuse_what_they_must():
    stored = bob(counter={"dtstamp": NOON.isoformat()})
    counter = counter_update(
        "t", Answer(None, method="COUNTER", dtstamp=LATER), Received("in", "now"), stored
    )
    assert NOON.isoformat() in _values(counter).values()  # replaced only if still the one read
    claim = refresh_claim("t", "u", "bob@example.org", 0, "in-1", "tok", 1000.0, 60)
    assert "NOT contains(" in claim["ConditionExpression"]
    assert claim["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


# ------------------------------------------------------------------------------- the mailbox


class _Body(io.BytesIO):
    closed_by_caller = False

    def close(self):
        type(self).closed_by_caller = True
        super().close()


class _S3:
    def __init__(self, data: bytes, announced: int | None = None):
        self.data, self.announced = data, announced

    def get_object(self, Bucket, Key):
        size = len(self.data) if self.announced is None else self.announced
        return {"Body": _Body(self.data), "ContentLength": size}


def test_the_mailbox_streams_the_email_and_closes_the_body():
    with Mailbox(_S3(b"From: a@b\r\n\r\nhello\r\n")).open("bucket", "key") as stream:
        assert stream.readline() == b"From: a@b\r\n"
        assert stream.read() == b"\r\nhello\r\n"
    assert _Body.closed_by_caller


def test_the_mailbox_refuses_more_than_its_bound_announced_or_not():
    with pytest.raises(MailTooLarge), Mailbox(_S3(b"x" * 100)).open("b", "k", limit=10):
        pass
    opened = Mailbox(_S3(b"x" * 100, announced=5)).open("b", "k", limit=10)
    with opened as stream, pytest.raises(MailTooLarge):
        stream.read()


def test_a_refused_reply_write_hands_back_the_items_to_decide_again_on():
    from lambdas.adapters.store import _pair_now as _now

    read = (EVENT, BOB)
    assert _now("u", read, [{"Code": "None"}, {"Code": "None"}]) == read  # conditions held: as read
    changed = {
        "Code": "ConditionalCheckFailed",
        "Item": {"reply_version": {"N": "2"}, "sk": {"S": "attendee#bob@example.org"}},
    }
    event, attendee = _now("u", read, [changed, {"Code": "None"}])
    assert event is EVENT and attendee.reply_version == 2
    assert _now("u", read, [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]) == (None, BOB)  # gone
    change = decide_reply(Answer(), EVENT, BOB)
    ops = reply_transaction("t", Answer(), change, Received("in", "now"), EVENT, BOB)
    assert all(next(iter(op.values()))["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD" for op in ops)


def test_refreshes_are_answered_a_bounded_number_of_times():
    many = bob(refreshed=[f"in-{i}" for i in range(MAX_REFRESHES)])
    assert decide_refresh(EVENT, many, "in-new", NOW_TS, LEASE).outcome is ReplyOutcome.SKIPPED
    claim = refresh_claim("t", "u", "bob@example.org", 0, "in-1", "tok", 1000.0, 60)
    assert "size(" in claim["ConditionExpression"]


def test_the_history_stops_growing_when_full_but_the_answer_is_still_recorded():
    full = bob(history=[{"method": "REPLY"}] * MAX_HISTORY)
    change = decide_reply(Answer(), EVENT, full)
    [attendee_op, _] = reply_transaction("t", Answer(), change, Received("in", "now"), EVENT, full)
    update = attendee_op["Update"]
    assert "history" not in update["ExpressionAttributeNames"].values()
    assert "ACCEPTED" in _values(update).values()
    counter = counter_update("t", Answer(None, method="COUNTER"), Received("in", "now"), full)
    assert "history" not in counter["ExpressionAttributeNames"].values()
