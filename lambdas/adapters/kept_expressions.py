"""The writes of an answer kept on the attendee item alone, never counted: a COUNTER's proposal,
and an answer not proven to be the attendee's (unverified). Loaded by the first such answer: most
answers are verified REPLYs (``reply_expressions``; docs/performance.md, "Cold start").

Each is conditioned on the attendee item being as the decision read it, and on the one kept being
as read (a later DTSTAMP wins, whatever the arrival order).
"""

from __future__ import annotations

from typing import Any

from lambdas.adapters.expressions import Expression
from lambdas.adapters.reply_expressions import MAX_COMMENT, Received, history_append
from lambdas.domain.items import HISTORY_COMMENT_CAP, AttendeeItem
from lambdas.domain.keys import attendee_key
from lambdas.domain.vocabulary import Method

# -------------------------------------------------------------------------------- UNVERIFIED


def unverified_update(
    table: str, answer, trust, received: Received, attendee: AttendeeItem
) -> dict[str, Any]:
    """UpdateItem: keep an unproven answer apart (``unverified``), never touching the attendee's
    own answer or the counts; conditioned on the attendee still being invited, and on the kept one
    being as read (a later DTSTAMP wins, whatever the arrival order)."""
    e = Expression()
    kept = {
        "partstat": answer.partstat,
        "reason": trust.reason,
        "relayed_by": trust.relayed_by,
        "occurrence": answer.recurrence_id or "",
        "sequence": answer.sequence,
        "dtstamp": answer.dtstamp.isoformat(),
        "comment": (answer.comment or "")[:MAX_COMMENT],
        "at": received.recorded_at,
        "message_id": received.ses_message_id,
    }
    stored = attendee.unverified.dtstamp if attendee.unverified and attendee.unverified.dtstamp else None
    condition = (
        f"{e.name('status')} = {e.value(attendee.status)}"
        f" AND {e.as_read('sequence', attendee.sequence)}"
        f" AND {e.as_read('unverified.dtstamp', stored)}"
    )
    return e.request(
        table,
        attendee_key(answer.uid, answer.attendee),
        UpdateExpression=f"SET {e.name('unverified')} = {e.value(kept)}",
        ConditionExpression=condition,
    )


# ----------------------------------------------------------------------------------- COUNTER


def counter_update(table: str, answer, received: Received, attendee: AttendeeItem) -> dict[str, Any]:
    """UpdateItem: keep the proposal for the organizer, unless a later one (DTSTAMP) is there."""
    e = Expression()
    dtstamp = answer.dtstamp.isoformat()
    proposal = {
        "proposed": {k: str(v)[:MAX_COMMENT] for k, v in (answer.proposed or {}).items()},
        "sequence": answer.sequence,
        "dtstamp": dtstamp,
        "comment": (answer.comment or "")[:MAX_COMMENT],
        "at": received.recorded_at,
        "message_id": received.ses_message_id,
    }
    entry = {"method": Method.COUNTER, **{k: v for k, v in proposal.items() if k != "proposed"}}
    entry["comment"] = entry["comment"][:HISTORY_COMMENT_CAP]  # the proposal keeps it whole
    expression = "SET " + ", ".join(
        [f"{e.name('counter')} = {e.value(proposal)}", *history_append(e, entry, attendee)]
    )
    stored = attendee.counter.dtstamp if attendee.counter and attendee.counter.dtstamp else None
    condition = (
        f"{e.as_read('sequence', attendee.sequence)}"
        f" AND {e.as_read('status', attendee.status)}"
        f" AND {e.as_read('counter.dtstamp', stored)}"
    )
    return e.request(
        table,
        attendee_key(answer.uid, answer.attendee),
        UpdateExpression=expression,
        ConditionExpression=condition,
    )
