"""DynamoDB single-table adapter: claims, completions and event records.

Writes per delivered email: one claim (a conditional write) before the send, and one share of a
batch-wide TransactWriteItems after it, which records every attendee of the batch and adds each
event's counters once (aggregated per event).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from lambdas.domain.contract import Person
from lambdas.domain.decisions import CANCELLED, INVITED
from lambdas.domain.keys import ATTENDEE_PREFIX, PARTITION_KEY, SORT_KEY, attendee_key, event_key, event_pk

TRANSACTION_LIMIT = 100  # items per TransactWriteItems
CONFLICT_ATTEMPTS = 4  # TransactionConflict is not retried by botocore; retry it here, then let SQS
COUNTERS = "ADD invites_sent :invites, updates_sent :updates, cancellations_sent :cancellations"
COUNTER_VALUES = (":invites", ":updates", ":cancellations")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attribute_values(values: dict[str, Any]) -> dict[str, dict]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_item(item: dict[str, dict] | None) -> dict[str, Any] | None:
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


@dataclass(frozen=True)
class ClaimResult:
    claimed: bool
    attendee: dict[str, Any] | None = None  # the item as it was (ALL_OLD), when known
    event_refused: bool = False


@dataclass
class CompletionReport:
    unrecorded: set[str] = field(default_factory=set)  # record ids whose attendee item was not written
    uncounted_events: list[str] = field(default_factory=list)  # event keys whose counters were not added


@dataclass(frozen=True)
class Completion:
    """A sent email to record: the attendee item, and a share of its event's counters."""

    record_id: str
    method: str  # REQUEST or CANCEL
    uid: str
    email: str
    name: str
    token: str
    sequence: int
    message_id: str
    sent_at: str
    event: dict[str, Any] = field(default_factory=dict)  # contract form of the details (REQUEST)
    cancels_event: bool = False  # CANCEL of the whole event, rather than removing one attendee


class Store:
    def __init__(self, dynamodb_client, table_name: str):
        self._db = dynamodb_client
        self._table = table_name

    # ------------------------------------------------------------------------------------ claims

    def claim_invite(
        self, uid: str, attendee: Person, sequence: int, token: str, now: float, lease: int
    ) -> ClaimResult:
        """Own (uid, attendee) for ``sequence`` unless it was already sent, or the event was cancelled.

        One TransactWriteItems: the conditional claim on the attendee item and a ConditionCheck on the
        event item, so an invite racing a cancellation can never slip through.
        """
        attendee_update = {
            "TableName": self._table,
            "Key": to_attribute_values(attendee_key(uid, attendee.email)),
            # The address is written with the claim so that a whole-event cancellation finds this
            # attendee even if the function dies before recording the send.
            "UpdateExpression": "SET pending = :pending, email = :email, #name = :name",
            "ConditionExpression": "(attribute_not_exists(#seq) OR #seq < :seq)"
            " AND (attribute_not_exists(pending) OR pending.since < :cutoff)",
            "ExpressionAttributeNames": {"#seq": "sequence", "#name": "name"},
            "ExpressionAttributeValues": to_attribute_values(
                {
                    ":email": attendee.email,
                    ":name": attendee.name,
                    ":pending": {
                        "method": "REQUEST",
                        "sequence": sequence,
                        "token": token,
                        "since": Decimal(str(now)),
                    },
                    ":seq": sequence,
                    ":cutoff": Decimal(str(now - lease)),
                }
            ),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        event_check = {
            "TableName": self._table,
            "Key": to_attribute_values(event_key(uid)),
            "ConditionExpression": "attribute_not_exists(cancelled_sequence) OR cancelled_sequence < :seq",
            "ExpressionAttributeValues": to_attribute_values({":seq": sequence}),
        }
        try:
            self._transact([{"Update": attendee_update}, {"ConditionCheck": event_check}])
        except TransactionRefused as refused:
            attendee_reason, event_reason = refused.reasons[0], refused.reasons[1]
            return ClaimResult(
                claimed=False,
                attendee=from_item(attendee_reason.get("Item")),
                event_refused=event_reason.get("Code") == "ConditionalCheckFailed",
            )
        return ClaimResult(claimed=True)

    def claim_cancellation(self, uid: str, email: str, token: str, now: float, lease: int) -> ClaimResult:
        """Own an invited attendee for its cancellation. On success ``attendee`` is the item before."""
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key=to_attribute_values(attendee_key(uid, email)),
                UpdateExpression="SET pending = :pending",
                # An expired pending claim without a status is an invite that may have been sent
                # before its function died: cancel it too rather than leave it in a calendar.
                ConditionExpression="attribute_exists(pk)"
                " AND (#status = :invited OR attribute_exists(pending))"
                " AND (attribute_not_exists(pending) OR pending.since < :cutoff)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_attribute_values(
                    {
                        ":pending": {"method": "CANCEL", "token": token, "since": Decimal(str(now))},
                        ":invited": INVITED,
                        ":cutoff": Decimal(str(now - lease)),
                    }
                ),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            return ClaimResult(claimed=False, attendee=from_item(error.response.get("Item")))
        return ClaimResult(claimed=True, attendee=from_item(response.get("Attributes")))

    def release(self, uid: str, email: str, token: str) -> None:
        """Give a claim back after a failed send, so the redelivery need not wait for the lease."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_attribute_values(attendee_key(uid, email)),
                UpdateExpression="REMOVE pending",
                ConditionExpression="pending.#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues=to_attribute_values({":token": token}),
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise

    # -------------------------------------------------------------------------------- completions

    def complete(self, completions: list[Completion]) -> CompletionReport:
        """Record a batch of sent emails, in as few TransactWriteItems calls as the batch allows."""
        report = CompletionReport()
        if not completions:
            return report
        operations = [(c.record_id, _attendee_completion(self._table, c)) for c in completions]
        operations += [(None, op) for op in _event_updates(self._table, completions)]
        for start in range(0, len(operations), TRANSACTION_LIMIT):
            self._complete_chunk(operations[start : start + TRANSACTION_LIMIT], report)
        return report

    def _complete_chunk(self, operations: list[tuple[str | None, dict]], report: CompletionReport) -> None:
        try:
            self._transact([op for _, op in operations])
            return
        except TransactionRefused as refused:
            retry = []
            for (record_id, op), reason in zip(operations, refused.reasons, strict=True):
                if reason.get("Code") != "ConditionalCheckFailed":
                    retry.append((record_id, op))
                elif record_id is None:
                    # A newer sequence (or the cancellation) already owns the event details:
                    # keep them and add only this batch's counters.
                    retry.append((None, _counters_only(op)))
                # else: our claim was taken over after its lease ran out; the new owner records it.
            if not retry:
                return
            try:
                self._transact([op for _, op in retry])
                return
            except (TransactionRefused, ClientError):
                self._complete_one_by_one(retry, report)
        except ClientError:
            self._complete_one_by_one(operations, report)

    def _complete_one_by_one(
        self, operations: list[tuple[str | None, dict]], report: CompletionReport
    ) -> None:
        for record_id, op in operations:
            try:
                try:
                    self._db.update_item(**op["Update"])
                except ClientError as error:
                    if _code(error) != "ConditionalCheckFailedException" or record_id is not None:
                        raise
                    self._db.update_item(**_counters_only(op)["Update"])
            except ClientError as error:
                if record_id is not None and _code(error) != "ConditionalCheckFailedException":
                    report.unrecorded.add(record_id)  # redelivered: see docs/idempotency.md
                elif record_id is None:
                    # Statistics only: re-sending emails to fix a counter would be worse. Logged.
                    report.uncounted_events.append(from_item(op["Update"]["Key"])[PARTITION_KEY])

    # ----------------------------------------------------------------------------------- events

    def get_event(self, uid: str) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self._table, Key=to_attribute_values(event_key(uid)), ConsistentRead=True
        )
        return from_item(response.get("Item"))

    def mark_event_cancelled(self, uid: str, cancel_sequence: int, now_iso: str) -> None:
        """Set status=CANCELLED and the sequence below which invites are stale, if not already higher."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=to_attribute_values(event_key(uid)),
                UpdateExpression="SET #status = :cancelled, cancelled_sequence = :cs, cancelled_at = :now",
                ConditionExpression="attribute_not_exists(cancelled_sequence) OR cancelled_sequence < :cs",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_attribute_values(
                    {":cancelled": "CANCELLED", ":cs": cancel_sequence, ":now": now_iso}
                ),
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise

    def attendees(self, uid: str) -> Iterator[dict[str, Any]]:
        """Every attendee item of the event, following every page (strongly consistent)."""
        kwargs = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            "ExpressionAttributeValues": to_attribute_values(
                {":pk": event_pk(uid), ":prefix": ATTENDEE_PREFIX}
            ),
            "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**kwargs)
            for item in page.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --------------------------------------------------------------------------------- plumbing

    def _transact(self, items: list[dict]) -> None:
        """TransactWriteItems; conflicts are retried here, condition failures raise TransactionRefused."""
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._db.transact_write_items(TransactItems=items)
                return
            except ClientError as error:
                if _code(error) != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons") or [{} for _ in items]
                codes = {r.get("Code") for r in reasons} - {"None", None}
                if "ConditionalCheckFailed" in codes:
                    raise TransactionRefused(reasons) from None
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # noqa: S311 - jitter, not crypto


class TransactionRefused(Exception):
    """A condition in a transaction failed; ``reasons`` is DynamoDB's CancellationReasons list."""

    def __init__(self, reasons: list[dict]):
        super().__init__("transaction condition failed")
        self.reasons = reasons


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _attendee_completion(table: str, c: Completion) -> dict:
    entry = {"method": c.method, "sequence": c.sequence, "at": c.sent_at, "message_id": c.message_id}
    status = INVITED if c.method == "REQUEST" else CANCELLED
    values = {
        ":email": c.email,
        ":name": c.name,
        ":status": status,
        ":seq": c.sequence,
        ":at": c.sent_at,
        ":mid": c.message_id,
        ":entry": [entry],
        ":empty": [],
        ":token": c.token,
    }
    when = "invited_at" if c.method == "REQUEST" else "cancelled_at"
    expression = (
        f"SET email = :email, #name = :name, #status = :status, #seq = :seq, {when} = :at, sent_at = :at,"
        " message_id = :mid, history = list_append(if_not_exists(history, :empty), :entry)"
    )
    if c.method == "REQUEST":
        # A new or changed invitation asks for a fresh reply (RFC 5546 §2.1.4).
        expression += ", partstat = :needs_action"
        values[":needs_action"] = "NEEDS-ACTION"
    return {
        "Update": {
            "TableName": table,
            "Key": to_attribute_values(attendee_key(c.uid, c.email)),
            "UpdateExpression": expression + " REMOVE pending",
            # Only the delivery that still owns the claim may record it.
            "ConditionExpression": "pending.#token = :token",
            "ExpressionAttributeNames": {
                "#name": "name",
                "#status": "status",
                "#seq": "sequence",
                "#token": "token",
            },
            "ExpressionAttributeValues": to_attribute_values(values),
        }
    }


def _event_updates(table: str, completions: list[Completion]) -> list[dict]:
    """One update per event in the batch: details from its highest sequence, counters summed."""
    by_event: dict[str, list[Completion]] = {}
    for c in completions:
        by_event.setdefault(c.uid, []).append(c)
    updates = []
    for uid, group in by_event.items():
        invites = sum(1 for c in group if c.method == "REQUEST" and c.sequence == 0)
        updates_sent = sum(1 for c in group if c.method == "REQUEST" and c.sequence > 0)
        cancellations = sum(1 for c in group if c.method == "CANCEL")
        counters = {":invites": invites, ":updates": updates_sent, ":cancellations": cancellations}
        requests = [c for c in group if c.method == "REQUEST"]
        names = {}
        values = dict(counters)
        conditions = None
        sets = []
        if requests:
            latest = max(requests, key=lambda c: c.sequence)
            details = {k: v for k, v in latest.event.items() if k != "sequence"}
            for index, (key, value) in enumerate(sorted(details.items())):
                names[f"#d{index}"] = key
                values[f":d{index}"] = value
                sets.append(f"#d{index} = :d{index}")
            names.update({"#seq": "sequence", "#status": "status"})
            values.update({":seq": latest.sequence, ":confirmed": "CONFIRMED", ":at": latest.sent_at})
            sets += [
                "#seq = :seq",
                "#status = :confirmed",
                "updated_at = :at",
                "created_at = if_not_exists(created_at, :at)",
            ]
            # Details only move forward, and never over a cancellation.
            conditions = (
                "(attribute_not_exists(#seq) OR #seq <= :seq)"
                " AND (attribute_not_exists(cancelled_sequence) OR cancelled_sequence < :seq)"
            )
        cancelling = [c for c in group if c.method == "CANCEL" and c.cancels_event]
        if cancelling:
            names["#status"] = "status"
            values.update({":cancelled": "CANCELLED", ":cs": min(c.sequence for c in cancelling)})
            values[":cat"] = cancelling[0].sent_at
            sets += [
                "#status = :cancelled",
                "cancelled_sequence = if_not_exists(cancelled_sequence, :cs)",
                "cancelled_at = if_not_exists(cancelled_at, :cat)",
            ]
        update = {
            "TableName": table,
            "Key": to_attribute_values(event_key(uid)),
            "UpdateExpression": (f"SET {', '.join(sets)} " if sets else "") + COUNTERS,
            "ExpressionAttributeValues": to_attribute_values(values),
        }
        if names:
            update["ExpressionAttributeNames"] = names
        if conditions:
            update["ConditionExpression"] = conditions
        updates.append({"Update": update})
    return updates


def _counters_only(op: dict) -> dict:
    update = op["Update"]
    values = {
        k: v
        for k, v in update["ExpressionAttributeValues"].items()
        if k in (":invites", ":updates", ":cancellations")
    }
    return {
        "Update": {
            "TableName": update["TableName"],
            "Key": update["Key"],
            "UpdateExpression": COUNTERS,
            "ExpressionAttributeValues": values,
        }
    }
