"""What follows a refused completion write (``send_expressions.completion_operations``): the
operations written again (``retry_after_refusal``), an event's update reduced to its counters
(``counters_only``), and the trims of full histories (``history_trims``). A completion is refused
only when a claim was taken over after its lease, a history is full, or a newer sequence or a
cancellation owns the event's details: the store loads this module on the first refusal, not at
every cold start (docs/idempotency.md; docs/performance.md, "Cold start").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdas.adapters.expressions import CONDITION_FAILED, Expression, from_item
from lambdas.adapters.send_expressions import COUNTERS, Operation, add_counters
from lambdas.domain.items import HISTORY_CAP, HISTORY_KEEP


def still_claimed(op: dict, stored: Mapping[str, Any] | None) -> bool:
    """Whether an attendee's completion write was refused with its claim still held by this
    delivery: then only its history was full (``attendee_completion``)."""
    token = op["Update"]["ExpressionAttributeValues"].get(":token", {}).get("S")
    pending = (stored or {}).get("pending")
    return token is not None and isinstance(pending, dict) and pending.get("token") == token


def history_trim(table: str, key: Mapping[str, dict], token: str, history: list) -> dict:
    """UpdateItem: keep the newest HISTORY_KEEP entries of a full history, as read, for the claim's
    owner (``key`` as the request it trims carries it). Conditioned on the history being as read
    (its size): an answer appended meanwhile refuses it, with the item, to trim again from that."""
    e = Expression()
    attribute, pending = e.name("history"), e.name("pending")
    return e.request(
        table,
        from_item(key),
        UpdateExpression=f"SET {attribute} = {e.value(list(history[-HISTORY_KEEP:]), 'kept')}",
        ConditionExpression=f"{pending}.{e.name('token')} = {e.value(token, 'token')}"
        f" AND size({attribute}) = {e.value(len(history), 'size')}",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


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


def counters_only(op: dict) -> dict:
    """An event update reduced to its counters: what is written when its details' condition fails."""
    update = op["Update"]
    values = from_item(update["ExpressionAttributeValues"])
    counts = {counter: values[f":{label}"] for counter, label in COUNTERS.items()}
    e = Expression()
    return {
        "Update": e.request(
            update["TableName"], from_item(update["Key"]), UpdateExpression=add_counters(e, counts)
        )
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
