"""Every attribute that grows has a cap (lambdas/domain/items.py), kept by the write that grows it.

The long scenario drives one attendee of one series through thousands of sends, answers and
feedback events with the real store adapter (Store) on an in-memory DynamoDB
(tests/support/memory_dynamodb.py: moto copies every table on each transaction, which makes a
growing item quadratic); the same scenario, shorter and with small caps, runs on moto too and must
leave the very same items.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from lambdas.adapters import completion_fallbacks, feedback_expressions, reply_expressions, send_expressions
from lambdas.adapters import store as store_module
from lambdas.adapters.completion_fallbacks import history_trim, history_trims, retry_after_refusal
from lambdas.adapters.expressions import from_item, message_mapping, read_attendee, to_attribute_values
from lambdas.adapters.feedback_expressions import feedback_write
from lambdas.adapters.reply_expressions import Received
from lambdas.adapters.send_expressions import Completion, attendee_completion
from lambdas.adapters.store import Store
from lambdas.domain.contract import Person
from lambdas.domain.feedback import FeedbackEvent, plan_feedback
from lambdas.domain.inbound.itip import CalendarAnswer
from lambdas.domain.items import (
    COUNTED_FEEDBACK_CAP,
    HISTORY_CAP,
    HISTORY_COMMENT_CAP,
    HISTORY_DELEGATES_CAP,
    HISTORY_KEEP,
    MESSAGE_EXPIRY_ATTRIBUTE,
    MESSAGE_RETENTION,
    REFRESHED_CAP,
    AttendeeItem,
    EventItem,
    MessageItem,
    message_expiry,
)
from lambdas.domain.keys import attendee_key, event_key
from lambdas.domain.replies import MAX_REFRESHES, decide_reply
from lambdas.domain.vocabulary import AttendeeStatus, BounceType, DeliveryState, Method, PartStat
from tests.support.item_size import ITEM_LIMIT, item_size
from tests.support.memory_dynamodb import MemoryDynamoDB

TABLE, UID, EMAIL = "t", "series-1@example.org", "ann@example.org"
START = datetime(2026, 1, 1, tzinfo=UTC)
LONG_COMMENT = "I will bring the slides; " * 80  # 2,000 characters: the most an answer keeps


def ses_id(n: int) -> str:
    return f"0100018c{n:08d}-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000"  # SES's shape and length


# ------------------------------------------------------------------------------------ the scenario


@dataclass
class Series:
    """One attendee of one weekly series, driven through the real store adapters."""

    db: object

    def __post_init__(self):
        self.store = Store(self.db, TABLE)

    def update(self, sequence: int) -> str:
        now = START + timedelta(hours=sequence)
        token = uuid.uuid4().hex
        assert self.store.claim_invite(
            UID, Person(EMAIL, "Ann"), sequence, token, now.timestamp(), 90
        ).claimed
        completion = Completion(
            record_id=f"r{sequence}",
            method=Method.REQUEST,
            uid=UID,
            email=EMAIL,
            name="Ann",
            token=token,
            sequence=sequence,
            message_id=ses_id(sequence),
            sent_at=now.isoformat(timespec="seconds"),
            attendee_status=AttendeeStatus.INVITED,
            event={
                "uid": UID,
                "summary": f"Weekly planning v{sequence}",
                "start": "2026-01-05T10:00:00+00:00",
                "end": "2026-01-05T11:00:00+00:00",
                "organizer": {"email": "org@example.org", "name": "Org"},
                "rrule": "FREQ=WEEKLY",
                "sequence": sequence,
            },
        )
        report = self.store.complete([completion])
        assert (report.unrecorded, report.uncounted_events) == (set(), [])
        return ses_id(sequence)

    def feedback(self, message_id: str, state: DeliveryState, minutes: float, bounce=None) -> bool:
        """One feedback event, decided and written as record_feedback does; True when it counted."""
        at = (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        event = FeedbackEvent(state.name.title(), message_id, state, at=at, sent_at=at, bounce_type=bounce)
        attendee = self.store.get_attendee(UID, EMAIL)
        for _ in range(3):
            plan = plan_feedback(attendee, event)
            if plan.changes_nothing:
                return False
            refused = self.store.record_feedback(UID, EMAIL, plan)
            if refused is None:
                return plan.counter is not None
            attendee = refused.items
        raise AssertionError("feedback refused three times with no one else writing")

    def answer(self, sequence: int, partstat: PartStat) -> None:
        now = START + timedelta(hours=sequence, minutes=30)
        answer = CalendarAnswer(
            method=Method.REPLY,
            uid=UID,
            attendee=EMAIL,
            attendee_name="Ann",
            partstat=partstat,
            sequence=sequence,
            dtstamp=now,
            recurrence_id=None,
            comment=LONG_COMMENT,
            prodid="-//Example Corp.//Calendar Client 16.4//EN",
        )
        event, attendee = self.store.event_and_attendee(UID, EMAIL)
        change = decide_reply(answer, event, attendee)
        received = Received(f"inbound-{sequence}", now.isoformat(timespec="seconds"))
        assert self.store.record_reply(answer, change, received, event, attendee) is None

    def attendee_item(self) -> dict:
        return from_item(self.db.get_item(**read_attendee(TABLE, UID, EMAIL))["Item"])

    def event_item(self) -> dict:
        return from_item(self.db.get_item(TableName=TABLE, Key=to_attribute_values(event_key(UID)))["Item"])


def drive(series: Series, updates: int) -> list[int]:
    """Every update is sent, delivered and answered; every third also bounces (Transient, so not
    suppressed), and every tenth gets a redelivered copy of the previous delivery. The attendee
    item's size after every tenth update."""
    sizes = []
    answers = (PartStat.ACCEPTED, PartStat.TENTATIVE, PartStat.DECLINED)
    for sequence in range(updates):
        message_id = series.update(sequence)
        assert series.feedback(message_id, DeliveryState.DELIVERED, 60 * sequence + 1)
        if sequence % 3 == 0:
            assert series.feedback(
                message_id, DeliveryState.BOUNCED, 60 * sequence + 2, bounce=BounceType.TRANSIENT
            )
        if sequence % 10 == 9:  # SQS redelivers a copy of a recent event: counted once
            assert not series.feedback(ses_id(sequence - 1), DeliveryState.DELIVERED, 60 * (sequence - 1) + 1)
        series.answer(sequence, answers[sequence % 3])
        if sequence % 10 == 9:
            sizes.append(item_size(series.attendee_item()))
    return sizes


def moto_dynamodb():
    db = boto3.client("dynamodb", region_name="us-east-1")
    db.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return db


# --------------------------------------------------------------------------- the long scenario


@pytest.mark.scale
def test_an_attendee_of_a_long_lived_series_stays_well_under_the_item_limit():
    series = Series(MemoryDynamoDB())
    updates = 2000  # the unbounded item passed 400 KB at ~1,600 of these (~2,600 sends alone)

    sizes = drive(series, updates)

    item = series.attendee_item()
    assert max(sizes) < ITEM_LIMIT / 4, f"largest attendee item: {max(sizes)} bytes"
    # Flat (sizes are taken every tenth update): the last thousand updates leave it no larger than
    # the thousand before, but for wider numbers (sequence 1999 against 999).
    assert max(sizes[-100:]) <= 1.01 * max(sizes[-200:-100])
    assert len(item["history"]) <= HISTORY_CAP
    assert len(item["counted_feedback"]) == COUNTED_FEEDBACK_CAP
    assert item["history"][-1]["method"] == "REPLY" and item["history"][-1]["sequence"] == updates - 1
    assert item["history"][-2]["message_id"] == ses_id(updates - 1)  # the newest send is kept
    event = series.event_item()
    # Counted exactly once each, redelivered copies included, though most keys left the window.
    assert (event["invites_sent"], event["updates_sent"]) == (1, updates - 1)
    assert (event["delivered"], event["bounced"]) == (updates, len(range(0, updates, 3)))


def test_the_scenario_leaves_the_same_items_on_moto(account, monkeypatch):
    """The in-memory table is checked against moto: small caps, so that every trim and window
    rewrite happens within a few dozen calls."""
    small = {"HISTORY_CAP": 8, "HISTORY_KEEP": 3, "COUNTED_FEEDBACK_CAP": 5}
    for module in (send_expressions, completion_fallbacks, feedback_expressions, store_module):
        for name, value in small.items():
            if hasattr(module, name):
                monkeypatch.setattr(module, name, value)
    monkeypatch.setattr(reply_expressions, "MAX_HISTORY", small["HISTORY_CAP"])
    memory, moto = Series(MemoryDynamoDB()), Series(moto_dynamodb())

    memory_sizes, moto_sizes = drive(memory, 25), drive(moto, 25)

    assert memory.attendee_item() == moto.attendee_item()
    assert memory.event_item() == moto.event_item()
    assert memory_sizes == moto_sizes
    assert len(moto.attendee_item()["history"]) <= small["HISTORY_CAP"]
    assert len(moto.attendee_item()["counted_feedback"]) == small["COUNTED_FEEDBACK_CAP"]


# ----------------------------------------------------------------------------------- history


def test_a_completion_appends_only_below_the_history_cap_and_returns_the_item_when_refused():
    update = attendee_completion(TABLE, _completion())["Update"]
    assert "size(#history) < :history_cap" in update["ConditionExpression"]
    assert from_item(update["ExpressionAttributeValues"])[":history_cap"] == HISTORY_CAP
    assert update["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def test_a_full_history_of_a_claim_still_ours_is_trimmed_then_written_again():
    op = attendee_completion(TABLE, _completion(token="ours"))
    history = [{"method": "REQUEST", "sequence": n} for n in range(HISTORY_CAP)]
    ours = {
        "Code": "ConditionalCheckFailed",
        "Item": to_attribute_values({"pending": {"token": "ours"}, "history": history}),
    }
    operations = [("r1", op)]

    (trim,) = history_trims(TABLE, operations, [ours])

    assert trim == history_trim(TABLE, op["Update"]["Key"], "ours", history)
    kept = from_item(trim["ExpressionAttributeValues"])
    assert kept[":kept"] == history[-HISTORY_KEEP:] and kept[":size"] == HISTORY_CAP
    assert trim["ConditionExpression"] == "#pending.#token = :token AND size(#history) = :size"
    assert retry_after_refusal(operations, [ours]) == operations


def test_a_refusal_with_the_claim_taken_over_trims_nothing_and_drops_the_record():
    op = attendee_completion(TABLE, _completion(token="ours"))
    history = [{"method": "REQUEST", "sequence": n} for n in range(HISTORY_CAP)]
    theirs = {
        "Code": "ConditionalCheckFailed",
        "Item": to_attribute_values({"pending": {"token": "theirs"}, "history": history}),
    }
    assert history_trims(TABLE, [("r1", op)], [theirs]) == []
    assert retry_after_refusal([("r1", op)], [theirs]) == []


def test_the_store_trims_a_full_history_with_one_more_update_and_one_more_transaction():
    db = MemoryDynamoDB()
    store = Store(db, TABLE)
    history = [{"method": "REQUEST", "sequence": n, "message_id": f"m{n}"} for n in range(HISTORY_CAP + 3)]
    _put(
        db,
        attendee_key(UID, EMAIL),
        {"email": EMAIL, "history": history, "pending": {"token": "ours", "since": 1}},
    )
    calls = db.calls

    report = store.complete([_completion(token="ours")])

    assert db.calls - calls == 3  # refused transaction, the trim, the transaction again
    assert report.unrecorded == set()
    stored = from_item(db.get_item(**read_attendee(TABLE, UID, EMAIL))["Item"])
    assert stored["history"] == [*history[-HISTORY_KEEP:], {**_entry(), "message_id": "ses-new"}]
    assert "pending" not in stored


class NoTransactions(MemoryDynamoDB):
    """Every TransactWriteItems fails for a reason other than a condition: the store writes one by one."""

    def __init__(self, fail_updates: int = 0):
        super().__init__()
        self.fail_updates = fail_updates  # how many history trims fail (throttled)

    def transact_write_items(self, TransactItems):
        raise ClientError({"Error": {"Code": "InternalServerError"}}, "TransactWriteItems")

    def update_item(self, **request):
        if request["UpdateExpression"] == "SET #history = :kept" and self.fail_updates:
            self.fail_updates -= 1
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "UpdateItem")
        return super().update_item(**request)


def _full_history_claimed_by(db, token: str) -> list[dict]:
    history = [{"method": "REQUEST", "sequence": n, "message_id": f"m{n}"} for n in range(HISTORY_CAP)]
    _put(db, attendee_key(UID, EMAIL), {"email": EMAIL, "history": history, "pending": {"token": token}})
    return history


def test_written_one_by_one_a_full_history_is_trimmed_too():
    db = NoTransactions()
    history = _full_history_claimed_by(db, "ours")

    report = Store(db, TABLE).complete([_completion(token="ours")])

    assert report.unrecorded == set()
    stored = from_item(db.get_item(**read_attendee(TABLE, UID, EMAIL))["Item"])
    assert stored["history"] == [*history[-HISTORY_KEEP:], {**_entry(), "message_id": "ses-new"}]


def test_a_history_that_cannot_be_trimmed_leaves_the_send_unrecorded_not_dropped():
    db = NoTransactions(fail_updates=1)
    _full_history_claimed_by(db, "ours")

    report = Store(db, TABLE).complete([_completion(token="ours")])

    assert report.unrecorded == {"r-new"}  # redelivered (docs/idempotency.md), never silently lost


def test_an_answer_appended_during_a_trim_is_kept():
    db = MemoryDynamoDB()
    history = [{"method": "REQUEST", "sequence": n} for n in range(HISTORY_CAP)]
    _put(db, attendee_key(UID, EMAIL), {"history": history, "pending": {"token": "ours"}})
    stale = history_trim(TABLE, to_attribute_values(attendee_key(UID, EMAIL)), "ours", history[:-1])

    Store(db, TABLE)._trim_histories([stale])  # read before the last entry was appended

    stored = from_item(db.get_item(**read_attendee(TABLE, UID, EMAIL))["Item"])
    assert stored["history"] == history[-HISTORY_KEEP:]


def test_an_answer_s_history_entry_keeps_a_short_comment_and_few_delegates():
    answer = CalendarAnswer(
        method=Method.REPLY,
        uid=UID,
        attendee=EMAIL,
        attendee_name="",
        partstat=PartStat.DELEGATED,
        sequence=0,
        dtstamp=START,
        recurrence_id=None,
        comment=LONG_COMMENT,
        prodid="p",
        delegated_to=("x" * 300 + "@example.org", *(f"d{n}@example.org" for n in range(50))),
    )
    attendee = AttendeeItem(uid=UID, email=EMAIL, status=AttendeeStatus.INVITED, sequence=0)
    event = _event_item()
    change = decide_reply(answer, event, attendee)
    (update, _) = reply_expressions.reply_transaction(
        TABLE, answer, change, Received("in-1", "t"), event, attendee
    )
    values = from_item(update["Update"]["ExpressionAttributeValues"])
    (entry,) = next(v for v in values.values() if isinstance(v, list) and v and isinstance(v[0], dict))
    assert len(entry["comment"]) == HISTORY_COMMENT_CAP
    assert len(entry["delegated_to"]) == HISTORY_DELEGATES_CAP
    assert [len(d) for d in entry["delegated_to"]] == [254, len("d0@example.org")]
    assert LONG_COMMENT in values.values()  # reply_comment keeps it whole


def test_the_refresh_cap_is_the_one_of_the_table_model():
    assert MAX_REFRESHES == REFRESHED_CAP


# --------------------------------------------------------------------------- counted feedback


def _plan(counted: tuple[str, ...], key_id="new"):
    at = "2026-01-01T00:00:00.000000Z"
    event = FeedbackEvent("Delivery", key_id, DeliveryState.DELIVERED, at=at, sent_at=at)
    return plan_feedback(AttendeeItem(uid=UID, email=EMAIL, counted_feedback=counted), event)


def test_below_the_cap_a_count_key_is_appended():
    (attendee, _counter) = feedback_write(TABLE, UID, EMAIL, _plan(("delivered#a",)))
    update = attendee["Update"]
    assert "list_append(if_not_exists(#counted_feedback, :empty), :counted)" in update["UpdateExpression"]
    assert "size(#counted_feedback)" not in update["ConditionExpression"]


def test_at_the_cap_the_oldest_key_leaves_and_the_list_must_be_as_read():
    counted = tuple(f"delivered#m{n}" for n in range(COUNTED_FEEDBACK_CAP))
    (attendee, _counter) = feedback_write(TABLE, UID, EMAIL, _plan(counted))
    update = attendee["Update"]
    values = from_item(update["ExpressionAttributeValues"])
    assert values[":counted"] == [*counted[1:], "delivered#new"]
    assert "NOT contains(#counted_feedback, :count_key)" in update["ConditionExpression"]
    assert (
        f"size(#counted_feedback) = :counted_size AND #counted_feedback[{COUNTED_FEEDBACK_CAP - 1}] = :last"
        in update["ConditionExpression"]
    )
    assert (values[":counted_size"], values[":last"]) == (COUNTED_FEEDBACK_CAP, counted[-1])


def test_at_the_cap_a_key_counted_meanwhile_refuses_the_rewrite():
    db = MemoryDynamoDB()
    counted = [f"delivered#m{n}" for n in range(COUNTED_FEEDBACK_CAP)]
    _put(db, attendee_key(UID, EMAIL), {"email": EMAIL, "counted_feedback": counted})
    _put(db, event_key(UID), {"delivered": 0})
    store = Store(db, TABLE)
    stale = _plan(tuple(counted), "new")
    assert store.record_feedback(UID, EMAIL, _plan(tuple(counted), "other")) is None

    refused = store.record_feedback(UID, EMAIL, stale)

    assert refused is not None and refused.items.counted_feedback[-1] == "delivered#other"
    assert store.record_feedback(UID, EMAIL, plan_feedback(refused.items, _event("new"))) is None
    stored = from_item(db.get_item(**read_attendee(TABLE, UID, EMAIL))["Item"])
    assert stored["counted_feedback"] == [*counted[2:], "delivered#other", "delivered#new"]


def test_the_edge_of_the_window_a_key_still_in_it_counts_once_the_one_just_out_is_forgotten():
    """Why the window is enough: a key leaves it only after COUNTED_FEEDBACK_CAP newer ones, and
    by the time feedback on so old an email could be redelivered, its message item has expired and
    the workflow treats it as unknown (test_feedback_on_an_expired_message_is_unknown...)."""
    counted = tuple(f"delivered#m{n}" for n in range(COUNTED_FEEDBACK_CAP))
    assert _plan(counted, "m0").counter is None  # the oldest still in the window: a duplicate
    after = (*counted[1:], "delivered#new")
    assert _plan(after, "m1").counter is None
    assert _plan(after, "m0").counter == "delivered"  # out of the window: would count again


# ------------------------------------------------------------------------------ message items


def test_a_message_item_expires_after_the_retention_and_reads_as_gone_from_then_on():
    sent = "2026-03-01T09:00:00+00:00"
    expiry = message_expiry(sent)
    assert expiry == int((datetime(2026, 3, 1, 9, tzinfo=UTC) + MESSAGE_RETENTION).timestamp())
    assert timedelta(days=30) <= MESSAGE_RETENTION
    item = MessageItem.read(
        {"uid": UID, "email": EMAIL, "sent_at": sent, "expires_at": expiry}, message_id="m"
    )
    moment = datetime.fromtimestamp(expiry, UTC)
    assert not item.expired(moment - timedelta(seconds=1))
    assert item.expired(moment) and item.expired(moment + timedelta(days=3))  # not yet deleted: gone


def test_a_message_item_written_before_items_expired_expires_from_its_send():
    legacy = MessageItem.read(
        {"uid": UID, "email": EMAIL, "sent_at": "2026-03-01T09:00:00+00:00"}, message_id="m"
    )
    assert legacy.expires_at == 0
    assert legacy.expired(datetime(2026, 3, 1, 9, tzinfo=UTC) + MESSAGE_RETENTION)
    assert not MessageItem(message_id="m").expired(datetime(2100, 1, 1, tzinfo=UTC))  # nothing to go by


def test_the_message_item_carries_its_expiry_in_the_ttl_attribute():
    update = message_mapping(TABLE, "m", UID, EMAIL, "2026-03-01T09:00:00+00:00")["Update"]
    assert update["ExpressionAttributeNames"]["#expires_at"] == MESSAGE_EXPIRY_ATTRIBUTE
    assert from_item(update["ExpressionAttributeValues"])[":expires"] == message_expiry(
        "2026-03-01T09:00:00+00:00"
    )
    assert MESSAGE_EXPIRY_ATTRIBUTE in {f for f in MessageItem.__dataclass_fields__}


# ------------------------------------------------------------------------------------- helpers


def _completion(token="tok") -> Completion:  # noqa: S107 - a claim token, not a secret
    return Completion(
        record_id="r-new",
        method=Method.REQUEST,
        uid=UID,
        email=EMAIL,
        name="",
        token=token,
        sequence=7,
        message_id="ses-new",
        sent_at="2026-01-02T00:00:00+00:00",
        attendee_status=AttendeeStatus.INVITED,
    )


def _entry() -> dict:
    return {"method": "REQUEST", "sequence": 7, "at": "2026-01-02T00:00:00+00:00"}


def _event(message_id: str) -> FeedbackEvent:
    at = "2026-01-01T00:00:00.000000Z"
    return FeedbackEvent("Delivery", message_id, DeliveryState.DELIVERED, at=at, sent_at=at)


def _event_item() -> EventItem:
    return EventItem(uid=UID, sequence=0, summary="s")


def _put(db: MemoryDynamoDB, key: dict, attributes: dict) -> None:
    db.tables.setdefault(TABLE, {})[(key["pk"], key["sk"])] = {**key, **attributes}


# ------------------------------------------------------------------------------- worst case


def test_the_worst_case_attendee_item_is_the_one_docs_data_model_md_adds_up():
    """Every attribute at its cap with the longest value it can hold. SES message ids are SES's
    own (60 characters outbound, 40 inbound): feedback only counts an id a message item records."""
    ses_out, ses_in, address = "0" * 60, "i" * 40, "a" * 254
    at = "2026-12-01T10:00:00.000000Z"  # the widest time any writer stores
    reply = {
        "method": "REPLY",
        "partstat": "NEEDS-ACTION",
        "sequence": 2**31 - 1,
        "dtstamp": "2026-12-01T10:00:00+00:00",
        "at": at,
        "message_id": ses_in,
        "prodid": "p" * reply_expressions.MAX_PRODID,
        "comment": "c" * HISTORY_COMMENT_CAP,
        "delegated_to": [address] * HISTORY_DELEGATES_CAP,
    }
    refresh = {
        "method": "REQUEST",
        "sequence": 2**31 - 1,
        "at": at,
        "message_id": ses_out,
        "refresh_of": ses_in,
    }
    long = "x" * reply_expressions.MAX_COMMENT
    item = {
        "pk": "event#" + "u" * 255,
        "sk": "attendee#" + address,
        "email": address,
        "name": "n" * 128,
        "status": "cancelled",
        "partstat": "NEEDS-ACTION",
        "origin": "shared",
        "sequence": 2**31 - 1,
        **{k: at for k in ("sent_at", "invited_at", "cancelled_at", "replied_at", "reply_dtstamp")},
        "message_id": ses_out,
        "reply_sequence": 2**31 - 1,
        "reply_prodid": "p" * reply_expressions.MAX_PRODID,
        "reply_comment": long,
        "reply_message_id": ses_in,
        "reply_version": 2**31 - 1,
        "counted_as": "shared_tentative",
        "counted_sequence": 2**31 - 1,
        "counter": {
            "proposed": {k: long for k in ("start", "end", "summary", "location")},
            "sequence": 2**31 - 1,
            "dtstamp": at,
            "comment": long,
            "at": at,
            "message_id": ses_in,
        },
        "refresh_pending": {"message_id": ses_in, "token": "t" * 32, "since": 1.7e9 + 0.123456},
        "refreshed": [ses_in] * REFRESHED_CAP,
        "history": [reply] * HISTORY_CAP + [refresh] * REFRESHED_CAP,
        "pending": {"method": "REQUEST", "sequence": 2**31 - 1, "token": "t" * 32, "since": 1.7e9 + 0.123456},
        "delivery": {
            "state": "complained",
            "at": at,
            "message_id": ses_out,
            "bounce_type": "Undetermined",
            "bounce_subtype": "s" * 64,
            "diagnostic": "d" * 1000,
        },
        "suppressed": {"reason": "complained", "at": at, "message_id": ses_out, "detail": "d" * 1100},
        "counted_feedback": ["complained#" + ses_out] * COUNTED_FEEDBACK_CAP,
    }
    size = item_size(item)
    assert 140_000 < size < 150_000, size  # docs/data-model.md: 148,313 bytes
    assert size < ITEM_LIMIT * 0.4
