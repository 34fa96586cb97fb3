"""The store's requests as data: conditions, completions, counters and their fallbacks."""

from datetime import UTC, datetime

from lambdas.adapters.completion_fallbacks import counters_only, retry_after_refusal
from lambdas.adapters.expressions import from_item, to_attribute_values
from lambdas.adapters.send_expressions import (
    COUNTERS,
    Completion,
    attendee_completion,
    cancellation_claim,
    completion_operations,
    event_updates,
    invite_claim,
    override_write,
)
from lambdas.domain.contract import Person
from lambdas.domain.items import MESSAGE_EXPIRY_ATTRIBUTE
from lambdas.domain.keys import attendee_key, event_key, message_key
from lambdas.domain.vocabulary import AttendeeStatus, Method

TABLE, UID = "t", "evt-1@example.com"
DETAILS = {"uid": UID, "sequence": 0, "summary": "Planning", "start": "2026-12-01T15:00:00+00:00"}


def completion(email="a@example.org", method=Method.REQUEST, sequence=0, uid=UID, **changes) -> Completion:
    values = {
        "record_id": f"r-{email}-{sequence}",
        "method": method,
        "uid": uid,
        "email": email,
        "name": "",
        "token": "tok",
        "sequence": sequence,
        "message_id": f"ses-{email}-{sequence}",
        "sent_at": f"2026-12-01T10:00:0{sequence}+00:00",
        "attendee_status": AttendeeStatus.INVITED if method == Method.REQUEST else AttendeeStatus.CANCELLED,
        "event": {**DETAILS, "sequence": sequence, "summary": f"Planning v{sequence}"},
    }
    return Completion(**{**values, **changes})


def values(update: dict) -> dict:
    return from_item(update["ExpressionAttributeValues"])


def assignments(update: dict) -> dict:
    """What the SET clause of an update writes: {attribute: value} (plain assignments only)."""
    names, written = update["ExpressionAttributeNames"], values(update)
    clause = update["UpdateExpression"].removeprefix("SET ").split(" REMOVE ")[0].split(" ADD ")[0]
    pairs = (part.split(" = ") for part in clause.split(", ") if " = " in part)
    return {names[name]: written[value] for name, value in pairs if value in written}


def test_stored_words_are_written_as_plain_strings():
    assert to_attribute_values({":s": AttendeeStatus.REMOVED, ":m": Method.CANCEL}) == {
        ":s": {"S": "removed"},
        ":m": {"S": "CANCEL"},
    }


def test_an_invite_claim_checks_the_attendee_and_the_event_in_one_transaction():
    attendee_update, event_check = invite_claim(TABLE, UID, Person("Bob@X.org", "Bob"), 3, "tok", 1000.0, 90)
    update = attendee_update["Update"]
    assert from_item(update["Key"]) == attendee_key(UID, "bob@x.org")
    assert values(update) == {
        ":email": "Bob@X.org",
        ":name": "Bob",
        ":pending": {"method": "REQUEST", "sequence": 3, "token": "tok", "since": 1000},
        ":seq": 3,
        ":cutoff": 910,
    }
    assert update["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    check = event_check["ConditionCheck"]
    assert from_item(check["Key"]) == event_key(UID)
    assert "cancelled_sequence < :seq" in check["ConditionExpression"]


def test_a_cancellation_claim_needs_an_invited_or_claimed_attendee_and_returns_it():
    request = cancellation_claim(TABLE, UID, "b@x.org", "tok", 1000.0, 90)
    assert values(request)[":invited"] == "invited"
    assert values(request)[":pending"] == {"method": "CANCEL", "token": "tok", "since": 1000}
    assert "#status = :invited OR attribute_exists(#pending)" in request["ConditionExpression"]
    assert request["ReturnValues"] == request["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def test_an_attendee_completion_records_the_domain_s_status_and_asks_for_a_fresh_reply_after_a_request():
    invite = attendee_completion(TABLE, completion())["Update"]
    assert values(invite)[":status"] == "invited"
    assert values(invite)[":needs_action"] == "NEEDS-ACTION"
    assert assignments(invite)["invited_at"] == "2026-12-01T10:00:00+00:00"
    removal = attendee_completion(
        TABLE, completion(method=Method.CANCEL, sequence=1, attendee_status=AttendeeStatus.REMOVED)
    )["Update"]
    assert values(removal)[":status"] == "removed"
    assert "partstat" not in assignments(removal)
    assert assignments(removal)["cancelled_at"] == "2026-12-01T10:00:01+00:00"
    assert values(removal)[":entry"] == [
        {
            "method": "CANCEL",
            "sequence": 1,
            "at": "2026-12-01T10:00:01+00:00",
            "message_id": "ses-a@example.org-1",
        }
    ]
    assert removal["ConditionExpression"] == (
        "#pending.#token = :token AND (attribute_not_exists(#history) OR size(#history) < :history_cap)"
    )


def test_one_event_update_per_event_with_the_highest_sequence_s_details_and_summed_counters():
    batch = [
        completion("a@x.org", sequence=0),
        completion("b@x.org", sequence=2),
        completion("c@x.org", sequence=1),
        completion("d@x.org", method=Method.CANCEL, sequence=3),
        completion("e@x.org", uid="other@example.com"),
    ]
    first, second = event_updates(TABLE, batch)
    update = first["Update"]
    assert from_item(update["Key"]) == event_key(UID)
    written = assignments(update)
    details = {k: v for k, v in batch[1].event.items() if k != "sequence"}  # sequence 2's details
    assert {k: written[k] for k in details} == details
    assert (
        values(update)[":seq"],
        values(update)[":invites"],
        values(update)[":updates"],
        values(update)[":cancellations"],
    ) == (2, 1, 2, 1)
    assert "#sequence <= :seq" in update["ConditionExpression"]
    assert from_item(second["Update"]["Key"]) == event_key("other@example.com")


def test_cancellations_only_add_to_the_counters_and_never_set_the_event_s_status():
    [only] = event_updates(
        TABLE,
        [
            completion(method=Method.CANCEL, sequence=1),
            completion("b@x.org", method=Method.CANCEL, sequence=1),
        ],
    )
    update = only["Update"]
    assert update["UpdateExpression"].startswith("ADD ") and "SET" not in update["UpdateExpression"]
    assert set(update["ExpressionAttributeNames"].values()) == set(COUNTERS)
    assert "ConditionExpression" not in update
    assert values(update) == {":invites": 0, ":updates": 0, ":cancellations": 2}


def test_a_batch_s_operations_are_its_attendees_their_message_items_then_its_events():
    operations = completion_operations(TABLE, [completion("a@x.org"), completion("b@x.org")])
    assert [record_id for record_id, _ in operations] == [
        "r-a@x.org-0",
        "r-b@x.org-0",
        "r-a@x.org-0",
        "r-b@x.org-0",
        None,
    ]
    message_a = operations[2][1]["Update"]
    assert from_item(message_a["Key"]) == message_key("ses-a@x.org-0")
    forty_five_days_later = int(datetime(2027, 1, 15, 10, tzinfo=UTC).timestamp())  # MESSAGE_RETENTION
    assert values(message_a) == {
        ":uid": UID,
        ":email": "a@x.org",
        ":at": "2026-12-01T10:00:00+00:00",
        ":expires": forty_five_days_later,
    }
    assert assignments(message_a)[MESSAGE_EXPIRY_ATTRIBUTE] == forty_five_days_later
    assert MESSAGE_EXPIRY_ATTRIBUTE == "expires_at"  # the table's TTL attribute
    assert "ConditionExpression" not in message_a  # the email left, whoever records its attendee


def test_one_message_id_is_one_message_item_even_if_a_batch_repeats_it():
    operations = completion_operations(
        TABLE, [completion("a@x.org"), completion("b@x.org", message_id="same")]
    )
    repeated = completion_operations(
        TABLE, [completion("a@x.org", message_id="same"), completion("b@x.org", message_id="same")]
    )
    assert len(operations) == 5
    assert len(repeated) == 4  # a transaction may not write one item twice


def test_counters_only_keeps_the_key_and_the_counters_of_an_event_update():
    [update] = event_updates(TABLE, [completion(sequence=1)])
    reduced = counters_only(update)["Update"]
    assert reduced["Key"] == update["Update"]["Key"]
    assert reduced["UpdateExpression"].startswith("ADD ") and "SET" not in reduced["UpdateExpression"]
    assert set(reduced["ExpressionAttributeNames"].values()) == set(COUNTERS)
    assert values(reduced) == {":invites": 0, ":updates": 1, ":cancellations": 0}
    assert "ConditionExpression" not in reduced


def test_after_a_refused_completion_only_what_can_still_succeed_is_written_again():
    operations = completion_operations(TABLE, [completion("a@x.org"), completion("b@x.org")])
    ok, refused = {"Code": "None"}, {"Code": "ConditionalCheckFailed"}

    retry = retry_after_refusal(operations, [ok, refused, ok, ok, refused])

    # a: untouched, retried as it was; b: its claim was taken over, the new owner records it (its
    # message item is still written: the email left); the event: a newer sequence owns the
    # details, so only this batch's counters are added.
    assert [record_id for record_id, _ in retry] == ["r-a@x.org-0", "r-a@x.org-0", "r-b@x.org-0", None]
    assert retry[0][1] is operations[0][1]
    assert [op for _, op in retry[1:3]] == [operations[2][1], operations[3][1]]
    assert retry[3][1] == counters_only(operations[4][1])


def test_a_refusal_for_other_reasons_retries_everything_unchanged():
    operations = completion_operations(TABLE, [completion()])
    reasons = [{"Code": "TransactionConflict"}, {}, {}]
    assert retry_after_refusal(operations, reasons) == operations


def test_an_override_is_written_with_update_item_and_keeps_only_what_the_last_change_said():
    # The functions' roles hold UpdateItem, not PutItem: the request must be an update, and a
    # cancellation after a move must not leave the move's times behind.
    request = override_write(
        "t", "u1", {"occurrence": "2026-12-08T09:00:00+00:00", "sequence": 3, "cancelled": True}
    )
    assert "Item" not in request and request["Key"] == to_attribute_values(
        {"pk": "event#u1", "sk": "occurrence#2026-12-08T09:00:00+00:00"}
    )
    names = request["ExpressionAttributeNames"]
    sets, _, removes = request["UpdateExpression"].removeprefix("SET ").partition(" REMOVE ")
    assert {names[part.split(" = ")[0]] for part in sets.split(", ")} == {
        "occurrence",
        "sequence",
        "cancelled",
    }
    assert {names[n] for n in removes.split(", ")} == {"start", "end", "summary", "description", "location"}
    assert request["ConditionExpression"] == "attribute_not_exists(#sequence) OR #sequence <= :seq"


def test_every_name_and_value_goes_through_a_placeholder():
    from lambdas.adapters.expressions import Expression

    e = Expression()
    assert e.name("pending.token") == "#pending.#token"
    assert e.name("pending") == "#pending"  # one placeholder per name
    occurrence = "2026-12-08T09:00:00+00:00"  # a map key from the table's data, never inline
    assert e.name(f"occurrence_replies.{occurrence}") == "#occurrence_replies.#n3"
    assert e.value("x", "token") == ":token" and e.value("x", "token") == ":token"
    assert e.value(1.5) == ":v1"
    request = e.request("t", {"pk": "p", "sk": "s"}, UpdateExpression="SET #pending = :token")
    assert request["ExpressionAttributeNames"] == {
        "#pending": "pending",
        "#token": "token",
        "#occurrence_replies": "occurrence_replies",
        "#n3": occurrence,
    }
    assert from_item(request["ExpressionAttributeValues"]) == {":token": "x", ":v1": 1.5}


def test_a_label_never_holds_two_values():
    import pytest

    from lambdas.adapters.expressions import Expression

    e = Expression()
    e.value(1, "seq")
    with pytest.raises(ValueError, match=":seq"):
        e.value(2, "seq")
