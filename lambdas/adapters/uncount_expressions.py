"""The DynamoDB requests that take a removed attendee's counted answer out of the counts (the
event's, or one occurrence's): send cancellation's, when it removes someone who had answered.
Loaded by the first such removal (docs/performance.md, "Cold start")."""

from __future__ import annotations

from typing import Any

from lambdas.adapters.expressions import Expression
from lambdas.domain.items import AttendeeItem, EventItem
from lambdas.domain.keys import attendee_key, event_key, occurrence_answers_key


def uncount_transaction(
    table: str, uid: str, attendee: AttendeeItem, deltas: dict[str, int], event: EventItem
) -> list[dict[str, Any]]:
    """TransactItems: clear the attendee's ``counted_as`` and take it out of the event's counts,
    both conditioned as read (a concurrent answer or a new version refuses it: decide again)."""
    e = Expression()
    attendee_update = e.request(
        table,
        attendee_key(uid, attendee.email),
        UpdateExpression=f"REMOVE {e.name('counted_as')}, {e.name('counted_sequence')}",
        ConditionExpression=(
            f"{e.as_read('counted_as', attendee.counted_as)}"
            f" AND {e.as_read('counted_sequence', attendee.counted_sequence)}"
        ),
    )
    return [{"Update": attendee_update}, *_subtract(table, event_key(uid), deltas, event.replies_sequence)]


def _subtract(table: str, key: dict, deltas: dict[str, int], replies_sequence) -> list[dict[str, Any]]:
    """The counts item's update by ``deltas``, conditioned on the version its counts describe as
    read (none when there is nothing to take out)."""
    if not deltas:
        return []
    e = Expression()
    adds = [f"{e.name(counter)} {e.value(delta)}" for counter, delta in sorted(deltas.items())]
    update = e.request(
        table,
        key,
        UpdateExpression="ADD " + ", ".join(adds),
        ConditionExpression=e.as_read("replies_sequence", replies_sequence),
    )
    return [{"Update": update}]


def occurrence_uncount_transaction(
    table: str, uid: str, attendee: AttendeeItem, occurrence: str, deltas: dict[str, int], tally
) -> list[dict[str, Any]]:
    """TransactItems: clear the counted mark of the attendee's answer to one occurrence and take
    it out of that occurrence's counts, both conditioned as read."""
    entry = attendee.occurrence_replies[occurrence]
    e = Expression()
    path = f"{e.name('occurrence_replies')}.{e.name(occurrence)}"
    attendee_update = e.request(
        table,
        attendee_key(uid, attendee.email),
        UpdateExpression=f"REMOVE {path}.{e.name('counted_as')}, {path}.{e.name('counted_sequence')}",
        ConditionExpression=(
            f"{path}.{e.name('dtstamp')} = {e.value(entry.dtstamp)}"
            f" AND {path}.{e.name('counted_as')} = {e.value(entry.counted_as)}"
        ),
    )
    tally_key = occurrence_answers_key(uid, occurrence)
    return [{"Update": attendee_update}, *_subtract(table, tally_key, deltas, tally.replies_sequence)]
