"""The DynamoDB requests that record an answer, built as plain data (no client, no I/O), the same
way as the send path's (``expressions.Expression``). The rarer answers are written by modules of
their own, which only their paths load (docs/performance.md, "Cold start"): an answer for one
occurrence by ``occurrence_expressions``, a proposal or an unverified answer by
``kept_expressions``, a REFRESH's claim and record by ``refresh_expressions``, and a removed
attendee's answer taken out of the counts by ``uncount_expressions``.

Every write is conditioned on the items being as the decision read them ("as read"): a concurrent
writer makes DynamoDB refuse it, and the answer is decided again on the items the refusal hands
back. This is what keeps the counters exact when the same reply arrives twelve times at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdas.adapters.expressions import Expression
from lambdas.domain.events import MAX_EMAIL
from lambdas.domain.frozen import frozen
from lambdas.domain.items import (
    HISTORY_CAP,
    HISTORY_COMMENT_CAP,
    HISTORY_DELEGATES_CAP,
    AttendeeItem,
    EventItem,
)
from lambdas.domain.keys import PARTITION_KEY, attendee_key, event_key
from lambdas.domain.vocabulary import EventStatus, Method, Origin

if TYPE_CHECKING:  # the send functions build a Store too: their cold start never loads the reply rules
    from lambdas.domain.replies import ReplyChange

MAX_COMMENT = 2000  # characters of COMMENT kept (an attendee's note, untrusted)
MAX_PRODID = 255
MAX_NAME = 128
MAX_HISTORY = HISTORY_CAP  # entries (lambdas/domain/items.py: every cap of the table, together)
# A refused write hands back the item as it is, so the answer is decided again without a read.
RETURN_ITEM_IF_REFUSED = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}


def history_append(e: Expression, entry: dict[str, Any], attendee: AttendeeItem | None) -> list[str]:
    """The assignment appending ``entry`` to the attendee's history, none once it is full.

    Answers come from the internet: an attendee answering again and again must not grow the item
    toward DynamoDB's 400 KB limit, where the send path's writes to it would start failing. The
    current answer is still recorded in its own attributes."""
    if attendee is not None and len(attendee.history) >= MAX_HISTORY:
        return []
    history = e.name("history")
    return [f"{history} = list_append(if_not_exists({history}, {e.value([])}), {e.value([entry])})"]


def event_is_open(expression: Expression) -> str:
    status = expression.name("status")
    return (
        f"attribute_exists({expression.name(PARTITION_KEY)})"
        f" AND (attribute_not_exists({status}) OR {status} <> {expression.value(EventStatus.CANCELLED)})"
    )


def _attendee_as_read(expression: Expression, attendee: AttendeeItem | None) -> str:
    """What an answer's decision depends on: the reply state, and what was sent to the attendee."""
    if attendee is None:
        attendee = AttendeeItem(uid="", email="")  # nothing there: every attribute still absent
    conditions = [
        expression.as_read("reply_version", attendee.reply_version),
        expression.as_read("sequence", attendee.sequence),
        expression.as_read("status", attendee.status),
        expression.as_read("partstat", attendee.partstat),
    ]
    if attendee.status is None:  # invited-or-not then depends on a pending invitation claim
        if attendee.pending is None:
            conditions.append(expression.as_read("pending", None))
        else:
            conditions.append(expression.as_read("pending.token", attendee.pending.token))
    return " AND ".join(conditions)


@frozen
class Received:
    """Where an answer came from: the inbound mail's SES id and when it was recorded."""

    ses_message_id: str
    recorded_at: str  # ISO 8601 UTC


def reply_transaction(
    table: str,
    answer,
    change: ReplyChange,
    received: Received,
    event: EventItem,
    attendee: AttendeeItem | None,
) -> list[dict[str, Any]]:
    """TransactItems: the attendee's new answer, and the event's counters (or a check of the event)."""
    return [
        {"Update": _attendee_reply(table, answer, change, received, attendee)},
        _event_counts(table, answer.uid, change, event),
    ]


def _attendee_reply(table, answer, change: ReplyChange, received: Received, attendee) -> dict[str, Any]:
    e = Expression()
    dtstamp = answer.dtstamp.isoformat()
    comment = (answer.comment or "")[:MAX_COMMENT]
    prodid = (answer.prodid or "")[:MAX_PRODID]
    entry = {
        "method": Method.REPLY,
        "partstat": answer.partstat,
        "sequence": answer.sequence,
        "dtstamp": dtstamp,
        "at": received.recorded_at,
        "message_id": received.ses_message_id,
        "prodid": prodid,
    }
    if comment:
        entry["comment"] = comment[:HISTORY_COMMENT_CAP]  # reply_comment keeps it whole
    if getattr(answer, "delegated_to", ()):
        entry["delegated_to"] = [d[:MAX_EMAIL] for d in answer.delegated_to[:HISTORY_DELEGATES_CAP]]
    sets = {
        "partstat": e.value(answer.partstat),
        "reply_sequence": e.value(change.version),
        "reply_dtstamp": e.value(dtstamp),
        "replied_at": e.value(received.recorded_at),
        "reply_prodid": e.value(prodid),
        "reply_message_id": e.value(received.ses_message_id),
        "reply_version": e.value(((attendee.reply_version if attendee else None) or 0) + 1),
        "email": e.value(answer.attendee),
    }
    assignments = [f"{e.name(attr)} = {placeholder}" for attr, placeholder in sets.items()]
    name = e.name("name")
    assignments.append(f"{name} = if_not_exists({name}, {e.value((answer.attendee_name or '')[:MAX_NAME])})")
    assignments += history_append(e, entry, attendee)
    removals = []
    if change.origin is Origin.SHARED:
        assignments.append(f"{e.name('origin')} = {e.value(Origin.SHARED)}")
    if comment:
        assignments.append(f"{e.name('reply_comment')} = {e.value(comment)}")
    else:
        removals.append(e.name("reply_comment"))
    if change.counted_as:
        assignments.append(f"{e.name('counted_as')} = {e.value(change.counted_as)}")
        assignments.append(f"{e.name('counted_sequence')} = {e.value(change.version)}")
    else:
        removals += [e.name("counted_as"), e.name("counted_sequence")]
    expression = "SET " + ", ".join(assignments)
    if removals:
        expression += " REMOVE " + ", ".join(removals)
    condition = _attendee_as_read(e, attendee)
    return e.request(
        table,
        attendee_key(answer.uid, answer.attendee),
        UpdateExpression=expression,
        ConditionExpression=condition,
        **RETURN_ITEM_IF_REFUSED,
    )


def _event_counts(table: str, uid: str, change: ReplyChange, event: EventItem) -> dict[str, Any]:
    e = Expression()
    condition = event_is_open(e)
    counts = change.counts
    if counts is None:
        check = e.request(table, event_key(uid), ConditionExpression=condition)
        return {"ConditionCheck": {**check, **RETURN_ITEM_IF_REFUSED}}
    if change.origin is Origin.SHARED:  # a shared answer's version is the event's sequence as read
        condition += f" AND {e.as_read('sequence', event.sequence)}"
    epoch = e.as_read("replies_sequence", event.replies_sequence)
    if counts.reset_to is not None:
        sets = [f"{e.name(counter)} = {e.value(value)}" for counter, value in sorted(counts.reset_to.items())]
        sets.append(f"{e.name('replies_sequence')} = {e.value(counts.version)}")
        expression = "SET " + ", ".join(sets)
    else:
        adds = [f"{e.name(counter)} {e.value(delta)}" for counter, delta in sorted(counts.deltas.items())]
        expression = "ADD " + ", ".join(adds)
    update = e.request(
        table, event_key(uid), UpdateExpression=expression, ConditionExpression=f"{condition} AND {epoch}"
    )
    return {"Update": {**update, **RETURN_ITEM_IF_REFUSED}}
