"""The record feedback function's request: one feedback event recorded on its attendee, built with
``expressions``' builder. Only that function loads it (docs/performance.md, "Cold start")."""

from __future__ import annotations

from typing import Any

from lambdas.adapters.expressions import Expression
from lambdas.domain.items import COUNTED_FEEDBACK_CAP, as_dict
from lambdas.domain.keys import PARTITION_KEY, attendee_key, event_key


def feedback_write(table: str, uid: str, email: str, plan: Any) -> list[dict]:
    """TransactItems: record one feedback event (a ``lambdas.domain.feedback.FeedbackPlan``).

    The attendee update is conditional on what the plan was decided from, so that redelivered and
    concurrent copies of one event count once and an older event never overwrites a newer one:
    the count key not yet recorded, the recorded delivery older than this one. A refusal returns
    the item (ALL_OLD) to decide again. The event's counter is added in the same transaction.
    """
    e = Expression()
    sets: list[str] = []
    conditions = [f"attribute_exists({e.name(PARTITION_KEY)})"]
    if plan.delivery is not None:
        delivery_at = e.name("delivery.at")
        sets.append(f"{e.name('delivery')} = {e.value(_stored(plan.delivery), 'delivery')}")
        conditions.append(
            f"(attribute_not_exists({delivery_at}) OR {delivery_at} < {e.value(plan.delivery.at, 'at')})"
        )
    if plan.suppression is not None:
        suppressed = e.name("suppressed")
        sets.append(
            f"{suppressed} = if_not_exists({suppressed}, {e.value(_stored(plan.suppression), 'suppressed')})"
        )
    items: list[dict] = []
    if plan.counter is not None:
        counted = e.name("counted_feedback")
        conditions.append(f"NOT contains({counted}, {e.value(plan.count_key, 'count_key')})")
        if len(plan.counted_as_read) < COUNTED_FEEDBACK_CAP:
            sets.append(
                f"{counted} = list_append(if_not_exists({counted}, {e.value([], 'empty')}),"
                f" {e.value([plan.count_key], 'counted')})"
            )
        else:
            # Full: the newest keys as read, and this one. Every change to the list appends a key
            # no other has, so its size and last key being as read means it is all as read.
            read = plan.counted_as_read
            kept = [*read[len(read) - COUNTED_FEEDBACK_CAP + 1 :], plan.count_key]
            sets.append(f"{counted} = {e.value(kept, 'counted')}")
            conditions.append(
                f"size({counted}) = {e.value(len(read), 'counted_size')}"
                f" AND {counted}[{len(read) - 1}] = {e.value(read[-1], 'last')}"
            )
        c = Expression()
        counter = c.request(
            table, event_key(uid), UpdateExpression=f"ADD {c.name(plan.counter)} {c.value(1, 'one')}"
        )
        items.append({"Update": counter})
    attendee = e.request(
        table,
        attendee_key(uid, email),
        UpdateExpression="SET " + ", ".join(sets),
        ConditionExpression=" AND ".join(conditions),
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    return [{"Update": attendee}, *items]


def _stored(value: Any) -> dict[str, Any]:
    """A model dataclass as a stored map: empty and None fields left out (they read as defaults)."""
    return {k: v for k, v in as_dict(value).items() if v not in ("", None)}
