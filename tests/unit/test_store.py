"""The store's plumbing against a scripted client: which requests follow a refusal or an error."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from lambdas.adapters import store as store_module
from lambdas.adapters.completion_fallbacks import counters_only
from lambdas.adapters.expressions import to_attribute_values
from lambdas.adapters.send_expressions import completion_operations
from lambdas.adapters.store import Store
from lambdas.domain.contract import Person
from lambdas.domain.items import AttendeeItem
from lambdas.domain.keys import attendee_key, event_pk
from tests.unit.test_expressions import TABLE, UID, completion

CONDITION = {"Code": "ConditionalCheckFailed"}
OK = {"Code": "None"}


def canceled(*reasons: dict) -> ClientError:
    return ClientError(
        {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": list(reasons)},
        "TransactWriteItems",
    )


def error(code: str, operation: str = "UpdateItem") -> ClientError:
    return ClientError({"Error": {"Code": code}}, operation)


class ScriptedDynamoDB:
    """Answers each call with the next scripted outcome (an exception to raise, or a response)."""

    def __init__(self, transact=(), update=(), get=()):
        self.script = {"transact": list(transact), "update": list(update), "get": list(get)}
        self.calls: list[tuple[str, dict]] = []

    def _answer(self, kind: str, request: dict):
        self.calls.append((kind, request))
        outcome = self.script[kind].pop(0) if self.script[kind] else {}
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def transact_write_items(self, TransactItems):
        return self._answer("transact", TransactItems)

    def update_item(self, **request):
        return self._answer("update", request)

    def get_item(self, **request):
        return self._answer("get", request)


BATCH = [completion("a@x.org"), completion("b@x.org")]  # operations: a, b, their message items, the event


def operations():
    return [op for _, op in completion_operations(TABLE, BATCH)]


def test_a_refused_completion_is_written_again_without_what_can_no_longer_succeed():
    db = ScriptedDynamoDB(transact=[canceled(OK, CONDITION, OK, OK, CONDITION)])

    report = Store(db, TABLE).complete(BATCH)

    a, _, message_a, message_b, event = operations()
    assert [request for _, request in db.calls] == [
        operations(),
        [a, message_a, message_b, counters_only(event)],
    ]
    assert (report.unrecorded, report.uncounted_events) == (set(), [])


def test_when_the_second_transaction_fails_too_each_write_is_made_alone():
    db = ScriptedDynamoDB(
        transact=[canceled(OK, OK, OK, OK, CONDITION), error("InternalServerError", "TransactWriteItems")],
        update=[error("ProvisionedThroughputExceededException"), {}, {}, {}, {}],
    )

    report = Store(db, TABLE).complete(BATCH)

    a, b, message_a, message_b, event = operations()
    updates = [request for kind, request in db.calls if kind == "update"]
    assert updates == [
        a["Update"],
        b["Update"],
        message_a["Update"],
        message_b["Update"],
        counters_only(event)["Update"],
    ]
    assert report.unrecorded == {BATCH[0].record_id}  # redelivered, see docs/idempotency.md
    assert report.uncounted_events == []


def test_one_by_one_an_event_whose_details_are_newer_gets_its_counters_and_a_lost_counter_is_reported():
    db = ScriptedDynamoDB(
        transact=[error("InternalServerError", "TransactWriteItems")],
        update=[{}, {}, {}, {}, error("ConditionalCheckFailedException"), error("InternalServerError")],
    )

    report = Store(db, TABLE).complete(BATCH)

    *_, event = operations()
    assert [r for k, r in db.calls if k == "update"][-2:] == [event["Update"], counters_only(event)["Update"]]
    assert report.unrecorded == set()
    assert report.uncounted_events == [event_pk(UID)]


def test_one_by_one_an_attendee_whose_claim_was_taken_over_is_left_to_its_new_owner():
    db = ScriptedDynamoDB(
        transact=[error("InternalServerError", "TransactWriteItems")],
        update=[error("ConditionalCheckFailedException"), {}, {}],
    )
    assert Store(db, TABLE).complete(BATCH).unrecorded == set()


def test_transaction_conflicts_are_retried_then_raised(monkeypatch):
    monkeypatch.setattr(store_module.time, "sleep", lambda _: None)
    conflict = canceled({"Code": "TransactionConflict"}, OK, OK, OK, OK)
    db = ScriptedDynamoDB(transact=[conflict] * store_module.CONFLICT_ATTEMPTS)

    report = Store(db, TABLE).complete(BATCH)

    transacts = [r for k, r in db.calls if k == "transact"]
    assert len(transacts) == store_module.CONFLICT_ATTEMPTS
    assert len([k for k, _ in db.calls if k == "update"]) == 5  # then one by one
    assert report.unrecorded == set()


def test_a_refused_invite_claim_returns_the_attendee_as_it_was():
    stored = {**attendee_key(UID, "b@x.org"), "status": "invited", "sequence": 2}
    refused = canceled({**CONDITION, "Item": to_attribute_values(stored)}, CONDITION)
    db = ScriptedDynamoDB(transact=[refused])

    result = Store(db, TABLE).claim_invite(UID, Person("b@x.org", "B"), 2, "t", 1000.0, 90)

    assert not result.claimed and result.event_refused
    assert result.attendee == AttendeeItem.read(stored, uid=UID, email="b@x.org")
    assert result.attendee.email == "b@x.org"  # from the key: the item had no address of its own


def test_a_missing_item_reads_as_none():
    db = ScriptedDynamoDB(get=[{}, {}])
    assert Store(db, TABLE).get_event(UID) is None
    assert Store(db, TABLE).get_attendee(UID, "b@x.org") is None


def test_releasing_a_claim_someone_else_holds_is_not_an_error_but_a_failure_is():
    Store(ScriptedDynamoDB(update=[error("ConditionalCheckFailedException")]), TABLE).release(
        UID, "b@x.org", "t"
    )
    with pytest.raises(ClientError):
        Store(ScriptedDynamoDB(update=[error("InternalServerError")]), TABLE).release(UID, "b@x.org", "t")
