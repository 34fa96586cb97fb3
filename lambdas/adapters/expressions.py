"""The DynamoDB requests the store sends, built as plain data: no client, no I/O.

Every condition that makes delivery idempotent is written here (docs/idempotency.md), next to the
fallbacks used when a batch's completion write is refused. ``store.py`` sends these requests,
retries and pages; this module decides what they say, and is unit-tested on its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from lambdas.domain.contract import Person
from lambdas.domain.frozen import frozen
from lambdas.domain.items import (
    COUNTED_FEEDBACK_CAP,
    HISTORY_CAP,
    HISTORY_KEEP,
    MESSAGE_EXPIRY_ATTRIBUTE,
    OverrideItem,
    as_dict,
    message_expiry,
)
from lambdas.domain.keys import (
    ATTENDEE_PREFIX,
    OCCURRENCE_ANSWERS_PREFIX,
    OCCURRENCE_PREFIX,
    PARTITION_KEY,
    SORT_KEY,
    attendee_key,
    event_key,
    event_pk,
    message_key,
    occurrence_key,
)
from lambdas.domain.vocabulary import AttendeeStatus, EventStatus, Method, PartStat

COUNTER_VALUES = (":invites", ":updates", ":cancellations")
COUNTERS = "ADD invites_sent :invites, updates_sent :updates, cancellations_sent :cancellations"
CONDITION_FAILED = "ConditionalCheckFailed"  # a CancellationReasons code

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# An operation of a completion write: the record id of the attendee it records, or None for an
# event's update (details and counters), and its TransactWriteItems entry.
Operation = tuple[str | None, dict]


def to_attribute_values(values: Mapping[str, Any]) -> dict[str, dict]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_item(item: Mapping[str, dict] | None) -> dict[str, Any] | None:
    """A stored item as plain Python values (numbers as int or float), or None if there is none."""
    if not item:
        return None
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@frozen
class Completion:
    """A sent email to record: the attendee item, and a share of its event's counters."""

    record_id: str
    method: Method
    uid: str
    email: str
    name: str
    token: str
    sequence: int
    message_id: str
    sent_at: str
    attendee_status: AttendeeStatus  # decided by the domain (decisions.attendee_status_after)
    event: dict[str, Any] = field(default_factory=dict)  # contract form of the details (REQUEST)
    occurrence: str = ""  # one occurrence of a series (items.occurrence_text): not the series' details


# ------------------------------------------------------------------------------------ reads


def read_event(table: str, uid: str) -> dict:
    return {"TableName": table, "Key": to_attribute_values(event_key(uid)), "ConsistentRead": True}


def read_attendee(table: str, uid: str, email: str) -> dict:
    return {"TableName": table, "Key": to_attribute_values(attendee_key(uid, email)), "ConsistentRead": True}


def read_message(table: str, ses_message_id: str) -> dict:
    return {
        "TableName": table,
        "Key": to_attribute_values(message_key(ses_message_id)),
        "ConsistentRead": True,
    }


def attendees_query(table: str, uid: str) -> dict:
    """The first page of every attendee item of the event (strongly consistent)."""
    return {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
        "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
        "ExpressionAttributeValues": to_attribute_values({":pk": event_pk(uid), ":prefix": ATTENDEE_PREFIX}),
        "ConsistentRead": True,
    }


# ----------------------------------------------------------------------------------- claims


def invite_claim(
    table: str, uid: str, attendee: Person, sequence: int, token: str, now: float, lease: int
) -> list[dict]:
    """TransactItems: claim (uid, attendee) for ``sequence``, and check the event is not cancelled.

    Refused when this sequence or a higher one was sent, while another claim is live, or when the
    event was cancelled at this sequence or above: an invite racing a cancellation never slips
    through.
    """
    attendee_update = {
        "TableName": table,
        "Key": to_attribute_values(attendee_key(uid, attendee.email)),
        # The address is written with the claim so that a whole-event cancellation finds this
        # attendee even if the function dies before recording the send.
        "UpdateExpression": "SET pending = :pending, email = :email, #name = :name",
        # Nothing more is sent to an address that hard-bounced or complained (docs/feedback.md).
        "ConditionExpression": "(attribute_not_exists(#seq) OR #seq < :seq)"
        " AND (attribute_not_exists(pending) OR pending.since < :cutoff)"
        " AND attribute_not_exists(suppressed)",
        "ExpressionAttributeNames": {"#seq": "sequence", "#name": "name"},
        "ExpressionAttributeValues": to_attribute_values(
            {
                ":email": attendee.email,
                ":name": attendee.name,
                ":pending": _pending(Method.REQUEST, token, now, sequence),
                ":seq": sequence,
                ":cutoff": Decimal(str(now - lease)),
            }
        ),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    event_check = {
        "TableName": table,
        "Key": to_attribute_values(event_key(uid)),
        "ConditionExpression": "attribute_not_exists(cancelled_sequence) OR cancelled_sequence < :seq",
        "ExpressionAttributeValues": to_attribute_values({":seq": sequence}),
    }
    return [{"Update": attendee_update}, {"ConditionCheck": event_check}]


def occurrence_answers_query(table: str, uid: str) -> dict:
    """The first page of every occurrence answers item (the counts per occurrence) of the event."""
    return _items_query(table, uid, OCCURRENCE_ANSWERS_PREFIX)


def overrides_query(table: str, uid: str) -> dict:
    """The first page of every override item of the event (strongly consistent)."""
    return _items_query(table, uid, OCCURRENCE_PREFIX)


def _items_query(table: str, uid: str, sort_key_prefix: str) -> dict:
    return {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
        "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
        "ExpressionAttributeValues": to_attribute_values({":pk": event_pk(uid), ":prefix": sort_key_prefix}),
        "ConsistentRead": True,
    }


# Everything an override item stores besides its key (OverrideItem's fields less the uid).
OVERRIDE_ATTRIBUTES = tuple(f.name for f in dataclasses.fields(OverrideItem) if f.name != "uid")


def override_write(table: str, uid: str, override: dict[str, Any]) -> dict:
    """UpdateItem: record one occurrence's change or cancellation, unless a later one is recorded.

    ``override``: the OverrideItem's attributes (occurrence, sequence, ...). Writing the same
    sequence again is allowed, so every attendee's delivery of one change may write it. An
    UpdateItem rather than a PutItem, which the functions' roles do not hold: the attributes the
    change does not carry are removed, so the item says exactly what the last change said."""
    names: dict[str, str] = {"#seq": "sequence"}
    values: dict[str, Any] = {}
    sets, removes = [], []
    for index, attribute in enumerate(OVERRIDE_ATTRIBUTES):
        names[f"#o{index}"] = attribute
        if attribute in override:
            values[f":o{index}"] = override[attribute]
            sets.append(f"#o{index} = :o{index}")
        else:
            removes.append(f"#o{index}")
    values[":seq"] = override["sequence"]
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return {
        "TableName": table,
        "Key": to_attribute_values(occurrence_key(uid, override["occurrence"])),
        "UpdateExpression": expression,
        "ConditionExpression": "attribute_not_exists(#seq) OR #seq <= :seq",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_attribute_values(values),
    }


def cancellation_claim(table: str, uid: str, email: str, token: str, now: float, lease: int) -> dict:
    """UpdateItem: claim an invited attendee for its cancellation; returns the item as it was."""
    return {
        "TableName": table,
        "Key": to_attribute_values(attendee_key(uid, email)),
        "UpdateExpression": "SET pending = :pending",
        # An expired claim without a status is an invite that may have been sent before its
        # function died: cancel it too (decisions.receives_event_cancellation says the same).
        "ConditionExpression": "attribute_exists(pk)"
        " AND (#status = :invited OR attribute_exists(pending))"
        " AND (attribute_not_exists(pending) OR pending.since < :cutoff)"
        " AND attribute_not_exists(suppressed)",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": to_attribute_values(
            {
                ":pending": _pending(Method.CANCEL, token, now),
                ":invited": AttendeeStatus.INVITED,
                ":cutoff": Decimal(str(now - lease)),
            }
        ),
        "ReturnValues": "ALL_OLD",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _pending(method: Method, token: str, now: float, sequence: int | None = None) -> dict[str, Any]:
    pending: dict[str, Any] = {"method": method, "token": token, "since": Decimal(str(now))}
    if sequence is not None:
        pending["sequence"] = sequence
    return pending


def release(table: str, uid: str, email: str, token: str) -> dict:
    """UpdateItem: give a claim back, if this delivery still holds it."""
    return {
        "TableName": table,
        "Key": to_attribute_values(attendee_key(uid, email)),
        "UpdateExpression": "REMOVE pending",
        "ConditionExpression": "pending.#token = :token",
        "ExpressionAttributeNames": {"#token": "token"},
        "ExpressionAttributeValues": to_attribute_values({":token": token}),
    }


def event_cancellation(table: str, uid: str, cancel_sequence: int, now_iso: str) -> dict:
    """UpdateItem: the event is cancelled at ``cancel_sequence``, unless already at or above it."""
    return {
        "TableName": table,
        "Key": to_attribute_values(event_key(uid)),
        "UpdateExpression": "SET #status = :cancelled, cancelled_sequence = :cs, cancelled_at = :now",
        "ConditionExpression": "attribute_not_exists(cancelled_sequence) OR cancelled_sequence < :cs",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": to_attribute_values(
            {":cancelled": EventStatus.CANCELLED, ":cs": cancel_sequence, ":now": now_iso}
        ),
    }


# ------------------------------------------------------------------------------ completions


def completion_operations(table: str, completions: list[Completion]) -> list[Operation]:
    """Every write that records a batch: one per attendee, one per email's message item, one per event.

    The message items ride in the same transaction, so mapping feedback back costs no call.
    """
    operations: list[Operation] = [(c.record_id, attendee_completion(table, c)) for c in completions]
    by_message = {c.message_id: c for c in completions if c.message_id}
    operations += [
        (c.record_id, message_mapping(table, c.message_id, c.uid, c.email, c.sent_at))
        for c in by_message.values()
    ]
    return operations + [(None, op) for op in event_updates(table, completions)]


def message_mapping(table: str, ses_message_id: str, uid: str, email: str, sent_at: str) -> dict:
    """The message item: which attendee an SES message id went to, for its delivery feedback. Any
    send that records itself adds it to its own write (docs/feedback.md).

    Unconditional: the email left through SES whoever records its attendee, so its feedback is
    true even when the attendee's own record is dropped (a claim taken over after its lease).
    It expires (the table's TTL) once no feedback on the email can still arrive.
    """
    return {
        "Update": {
            "TableName": table,
            "Key": to_attribute_values(message_key(ses_message_id)),
            "UpdateExpression": "SET #uid = :uid, email = :email, sent_at = :at, #expires = :expires",
            "ExpressionAttributeNames": {"#uid": "uid", "#expires": MESSAGE_EXPIRY_ATTRIBUTE},
            "ExpressionAttributeValues": to_attribute_values(
                {":uid": uid, ":email": email, ":at": sent_at, ":expires": message_expiry(sent_at)}
            ),
        }
    }


def attendee_completion(table: str, c: Completion) -> dict:
    """Record one sent email on its attendee item; only the delivery that still owns the claim may.

    Its entry is appended only below HISTORY_CAP entries: DynamoDB cannot cut a list in an update,
    and this write does not know the item. A full history refuses it, with the item (ALL_OLD), and
    the store trims it from that copy (``history_trim``) before writing again (``retry_after_refusal``).
    """
    entry = {"method": c.method, "sequence": c.sequence, "at": c.sent_at, "message_id": c.message_id}
    if c.occurrence:
        entry["occurrence"] = c.occurrence
    values = {
        ":email": c.email,
        ":name": c.name,
        ":status": c.attendee_status,
        ":seq": c.sequence,
        ":at": c.sent_at,
        ":mid": c.message_id,
        ":entry": [entry],
        ":empty": [],
        ":token": c.token,
        ":history_cap": HISTORY_CAP,
    }
    when = "invited_at" if c.method == Method.REQUEST else "cancelled_at"
    expression = (
        f"SET email = :email, #name = :name, #status = :status, #seq = :seq, {when} = :at, sent_at = :at,"
        " message_id = :mid, history = list_append(if_not_exists(history, :empty), :entry)"
    )
    if c.method == Method.CANCEL and c.occurrence:
        # Removed from one occurrence: every later REQUEST to them leaves it out (items.without_excluded).
        expression += (
            ", excluded_occurrences = list_append(if_not_exists(excluded_occurrences, :empty), :occ)"
        )
        values[":occ"] = [c.occurrence]
    if c.method == Method.REQUEST:
        # A new or changed invitation asks for a fresh reply (RFC 5546 §2.1.4).
        expression += ", partstat = :needs_action"
        values[":needs_action"] = PartStat.NEEDS_ACTION
    return {
        "Update": {
            "TableName": table,
            "Key": to_attribute_values(attendee_key(c.uid, c.email)),
            "UpdateExpression": expression + " REMOVE pending",
            "ConditionExpression": "pending.#token = :token"
            " AND (attribute_not_exists(history) OR size(history) < :history_cap)",
            "ExpressionAttributeNames": {
                "#name": "name",
                "#status": "status",
                "#seq": "sequence",
                "#token": "token",
            },
            "ExpressionAttributeValues": to_attribute_values(values),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def still_claimed(op: dict, stored: Mapping[str, Any] | None) -> bool:
    """Whether an attendee's completion write was refused with its claim still held by this
    delivery: then only its history was full (``attendee_completion``)."""
    token = op["Update"]["ExpressionAttributeValues"].get(":token", {}).get("S")
    pending = (stored or {}).get("pending")
    return token is not None and isinstance(pending, dict) and pending.get("token") == token


def history_trim(table: str, key: Mapping[str, dict], token: str, history: list) -> dict:
    """UpdateItem: keep the newest HISTORY_KEEP entries of a full history, as read, for the claim's
    owner. Conditioned on the history being as read (its size): an answer appended meanwhile
    refuses it, with the item, to trim again from that."""
    return {
        "TableName": table,
        "Key": dict(key),
        "UpdateExpression": "SET history = :kept",
        "ConditionExpression": "pending.#token = :token AND size(history) = :size",
        "ExpressionAttributeNames": {"#token": "token"},
        "ExpressionAttributeValues": to_attribute_values(
            {":kept": list(history[-HISTORY_KEEP:]), ":token": token, ":size": len(history)}
        ),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def history_trims(table: str, operations: list[Operation], reasons: list[dict]) -> list[dict]:
    """The trims a refused completion needs: attendees still claimed by this delivery whose history
    is full, from the copies the refusal returned."""
    trims = []
    for (record_id, op), reason in zip(operations, reasons, strict=True):
        if record_id is None or reason.get("Code") != CONDITION_FAILED or "Update" not in op:
            continue
        stored = from_item(reason.get("Item"))
        history = (stored or {}).get("history")
        if still_claimed(op, stored) and isinstance(history, list) and len(history) >= HISTORY_CAP:
            token = op["Update"]["ExpressionAttributeValues"][":token"]["S"]
            trims.append(history_trim(table, op["Update"]["Key"], token, history))
    return trims


def event_updates(table: str, completions: list[Completion]) -> list[dict]:
    """One update per event in the batch: details from its highest sequence, counters summed.

    A cancellation adds to the counters only: the event's status is set by the request that
    cancels the whole event (``event_cancellation``), before its fan-out, never by one
    attendee's CANCEL.
    """
    by_event: dict[str, list[Completion]] = {}
    for c in completions:
        by_event.setdefault(c.uid, []).append(c)
    updates = []
    for uid, group in by_event.items():
        requests = [c for c in group if c.method == Method.REQUEST]
        values: dict[str, Any] = {
            ":invites": sum(1 for c in requests if c.sequence == 0),
            ":updates": sum(1 for c in requests if c.sequence > 0),
            ":cancellations": sum(1 for c in group if c.method == Method.CANCEL),
        }
        key = to_attribute_values(event_key(uid))
        update: dict[str, Any] = {"TableName": table, "Key": key, "UpdateExpression": COUNTERS}
        # An occurrence's change is its override item's (override_write), never the series' details.
        series_requests = [c for c in requests if not c.occurrence]
        if series_requests:
            latest = max(series_requests, key=lambda c: c.sequence)
            details = {k: v for k, v in latest.event.items() if k != "sequence"}
            names = {f"#d{index}": key for index, key in enumerate(sorted(details))}
            values |= {f":d{index}": details[key] for index, key in enumerate(sorted(details))}
            sets = [f"{name} = :{name[1:]}" for name in names]
            names |= {"#seq": "sequence", "#status": "status"}
            values |= {":seq": latest.sequence, ":confirmed": EventStatus.CONFIRMED, ":at": latest.sent_at}
            sets += [
                "#seq = :seq",
                "#status = :confirmed",
                "updated_at = :at",
                "created_at = if_not_exists(created_at, :at)",
            ]
            update["UpdateExpression"] = f"SET {', '.join(sets)} {COUNTERS}"
            update["ExpressionAttributeNames"] = names
            # Details only move forward, and never over a cancellation.
            update["ConditionExpression"] = (
                "(attribute_not_exists(#seq) OR #seq <= :seq)"
                " AND (attribute_not_exists(cancelled_sequence) OR cancelled_sequence < :seq)"
            )
        update["ExpressionAttributeValues"] = to_attribute_values(values)
        updates.append({"Update": update})
    return updates


def counters_only(op: dict) -> dict:
    """An event update reduced to its counters: what is written when its details' condition fails."""
    update = op["Update"]
    return {
        "Update": {
            "TableName": update["TableName"],
            "Key": update["Key"],
            "UpdateExpression": COUNTERS,
            "ExpressionAttributeValues": {
                k: v for k, v in update["ExpressionAttributeValues"].items() if k in COUNTER_VALUES
            },
        }
    }


def retry_after_refusal(operations: list[Operation], reasons: list[dict]) -> list[Operation]:
    """What to write again after a completion transaction was refused, given its CancellationReasons.

    - an operation refused for another reason (or not at all) is retried as it was;
    - an event update whose condition failed: a newer sequence (or a cancellation) owns the
      details; keep them and add only this batch's counters;
    - an attendee whose condition failed: its claim was taken over after the lease ran out, and
      the new owner records it; dropped. Unless the refusal shows the claim still ours: its history
      was full, which the store trims first (``history_trims``); written again.
    """
    retry = []
    for (record_id, op), reason in zip(operations, reasons, strict=True):
        if reason.get("Code") != CONDITION_FAILED:
            retry.append((record_id, op))
        elif record_id is None:
            retry.append((None, counters_only(op)))
        elif "Update" in op and still_claimed(op, from_item(reason.get("Item"))):
            retry.append((record_id, op))
    return retry


# ------------------------------------------------------------------------------------- feedback


def feedback_write(table: str, uid: str, email: str, plan: Any) -> list[dict]:
    """TransactItems: record one feedback event (a ``lambdas.domain.feedback.FeedbackPlan``).

    The attendee update is conditional on what the plan was decided from, so that redelivered and
    concurrent copies of one event count once and an older event never overwrites a newer one:
    the count key not yet recorded, the recorded delivery older than this one. A refusal returns
    the item (ALL_OLD) to decide again. The event's counter is added in the same transaction.
    """
    sets: list[str] = []
    conditions = ["attribute_exists(pk)"]
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if plan.delivery is not None:
        sets.append("delivery = :delivery")
        conditions.append("(attribute_not_exists(delivery.#at) OR delivery.#at < :at)")
        names["#at"] = "at"
        values |= {":delivery": _stored(plan.delivery), ":at": plan.delivery.at}
    if plan.suppression is not None:
        sets.append("suppressed = if_not_exists(suppressed, :suppressed)")
        values[":suppressed"] = _stored(plan.suppression)
    items: list[dict] = []
    if plan.counter is not None:
        conditions.append("NOT contains(counted_feedback, :count_key)")
        values[":count_key"] = plan.count_key
        if len(plan.counted_as_read) < COUNTED_FEEDBACK_CAP:
            sets.append("counted_feedback = list_append(if_not_exists(counted_feedback, :empty), :counted)")
            values |= {":empty": [], ":counted": [plan.count_key]}
        else:
            # Full: the newest keys as read, and this one. Every change to the list appends a key
            # no other has, so its size and last key being as read means it is all as read.
            read = plan.counted_as_read
            sets.append("counted_feedback = :counted")
            conditions.append(
                f"size(counted_feedback) = :counted_size AND counted_feedback[{len(read) - 1}] = :last"
            )
            values |= {
                ":counted": [*read[len(read) - COUNTED_FEEDBACK_CAP + 1 :], plan.count_key],
                ":counted_size": len(read),
                ":last": read[-1],
            }
        counter = {
            "TableName": table,
            "Key": to_attribute_values(event_key(uid)),
            "UpdateExpression": "ADD #counter :one",
            "ExpressionAttributeNames": {"#counter": plan.counter},
            "ExpressionAttributeValues": to_attribute_values({":one": 1}),
        }
        items.append({"Update": counter})
    attendee: dict[str, Any] = {
        "TableName": table,
        "Key": to_attribute_values(attendee_key(uid, email)),
        "UpdateExpression": "SET " + ", ".join(sets),
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeValues": to_attribute_values(values),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if names:
        attendee["ExpressionAttributeNames"] = names
    return [{"Update": attendee}, *items]


def _stored(value: Any) -> dict[str, Any]:
    """A model dataclass as a stored map: empty and None fields left out (they read as defaults)."""
    return {k: v for k, v in as_dict(value).items() if v not in ("", None)}
