"""The DynamoDB requests that record an answer for one occurrence of a series: the attendee's entry
for it and that occurrence's counts, conditioned as read like every answer (``reply_expressions``).
Loaded by the first such answer (docs/performance.md, "Cold start")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdas.adapters.expressions import Expression
from lambdas.adapters.reply_expressions import MAX_COMMENT, event_is_open
from lambdas.domain.items import AttendeeItem
from lambdas.domain.keys import attendee_key, event_key, occurrence_answers_key

if TYPE_CHECKING:
    from lambdas.adapters.reply_expressions import Received


def occurrence_reply_transaction(
    table: str, answer, change, received: Received, attendee: AttendeeItem, tally
) -> list[dict[str, Any]]:
    """TransactItems for an answer to one occurrence (``change``: an OccurrenceChange): the
    attendee's entry for it, the occurrence's counts (or nothing when none move), and a check that
    the event is still open. Conditioned as read, like a series answer."""
    items = [{"Update": _attendee_occurrence_reply(table, answer, change, received, attendee)}]
    if change.counts is not None:
        items.append({"Update": _occurrence_counts(table, answer.uid, change, tally)})
    e = Expression()
    check = e.request(table, event_key(answer.uid), ConditionExpression=event_is_open(e))
    items.append({"ConditionCheck": check})
    return items


def _attendee_occurrence_reply(table, answer, change, received: Received, attendee: AttendeeItem):
    e = Expression()
    entry = {
        "partstat": answer.partstat,
        "sequence": change.version,
        "dtstamp": answer.dtstamp.isoformat(),
        "at": received.recorded_at,
        "message_id": received.ses_message_id,
        "comment": (answer.comment or "")[:MAX_COMMENT],
    }
    if change.counted_as:
        entry |= {"counted_as": change.counted_as, "counted_sequence": change.version}
    replies = e.name("occurrence_replies")
    before = attendee.occurrence_replies.get(change.occurrence)
    conditions = [
        f"{e.name('status')} = {e.value(attendee.status)}",
        e.as_read("sequence", attendee.sequence),
    ]
    if not attendee.occurrence_replies:
        # A nested path can only be set inside an existing map: the first answer writes the map.
        expression = f"SET {replies} = {e.value({change.occurrence: entry})}"
        conditions.append(f"attribute_not_exists({replies})")
    else:
        path = f"{replies}.{e.name(change.occurrence)}"
        expression = f"SET {path} = {e.value(entry)}"
        conditions.append(f"attribute_exists({replies})")
        if before is None:
            conditions.append(f"attribute_not_exists({path})")
        else:
            conditions.append(f"{path}.{e.name('dtstamp')} = {e.value(before.dtstamp)}")
            sequence = f"{path}.{e.name('sequence')}"
            if before.sequence is None:
                conditions.append(f"attribute_not_exists({sequence})")
            else:
                conditions.append(f"{sequence} = {e.value(before.sequence)}")
    return e.request(
        table,
        attendee_key(answer.uid, answer.attendee),
        UpdateExpression=expression,
        ConditionExpression=" AND ".join(conditions),
    )


def _occurrence_counts(table: str, uid: str, change, tally) -> dict[str, Any]:
    e = Expression()
    counts = change.counts
    epoch = e.as_read("replies_sequence", tally.replies_sequence if tally else None)
    occurrence = f"{e.name('occurrence')} = {e.value(change.occurrence)}"
    if counts.reset_to is not None:
        sets = [f"{e.name(counter)} = {e.value(value)}" for counter, value in sorted(counts.reset_to.items())]
        sets.append(f"{e.name('replies_sequence')} = {e.value(counts.version)}")
        expression = "SET " + ", ".join([occurrence, *sets])
    else:
        adds = [f"{e.name(counter)} {e.value(delta)}" for counter, delta in sorted(counts.deltas.items())]
        expression = f"SET {occurrence} ADD " + ", ".join(adds)
    return e.request(
        table,
        occurrence_answers_key(uid, change.occurrence),
        UpdateExpression=expression,
        ConditionExpression=epoch,
    )
