"""The writes of a REFRESH answered: its claim, one send per inbound mail, and its record by the
claim's owner. Loaded by the first REFRESH, with the rendering (docs/performance.md, "Cold start").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lambdas.adapters.expressions import Expression
from lambdas.domain.items import REFRESHED_CAP
from lambdas.domain.keys import attendee_key

# ----------------------------------------------------------------------------------- REFRESH


def refresh_claim(
    table: str, uid: str, email: str, sequence: int, ses_message_id: str, token: str, now: float, lease: int
) -> dict[str, Any]:
    """UpdateItem: own the answer to this REFRESH mail (one send per inbound message id)."""
    e = Expression()
    pending = {"message_id": ses_message_id, "token": token, "since": Decimal(str(now))}
    refresh = e.name("refresh_pending")
    cutoff = e.value(Decimal(str(now - lease)))
    refreshed = e.name("refreshed")
    condition = (
        f"{e.name('sequence')} = {e.value(sequence)}"
        f" AND NOT contains({refreshed}, {e.value(ses_message_id)})"
        f" AND (attribute_not_exists({refreshed}) OR size({refreshed}) < {e.value(REFRESHED_CAP)})"
        f" AND (attribute_not_exists({refresh}) OR {refresh}.{e.name('since')} < {cutoff})"
        # Nothing more to an address that hard-bounced or complained (docs/feedback.md).
        f" AND attribute_not_exists({e.name('suppressed')})"
    )
    return e.request(
        table,
        attendee_key(uid, email),
        UpdateExpression=f"SET {refresh} = {e.value(pending)}",
        ConditionExpression=condition,
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def refresh_record(
    table: str, uid: str, email: str, ses_message_id: str, token: str, entry: dict[str, Any]
) -> dict[str, Any]:
    """UpdateItem: the REFRESH was answered (its id joins ``refreshed``, a list the typed model
    reads), by the claim's owner only."""
    e = Expression()
    refresh, history = e.name("refresh_pending"), e.name("history")
    refreshed, empty = e.name("refreshed"), e.value([])
    expression = (
        f"SET {history} = list_append(if_not_exists({history}, {empty}), {e.value([entry])}),"
        f" {refreshed} = list_append(if_not_exists({refreshed}, {empty}), {e.value([ses_message_id])})"
        f" REMOVE {refresh}"
    )
    return e.request(
        table,
        attendee_key(uid, email),
        UpdateExpression=expression,
        ConditionExpression=f"{refresh}.{e.name('token')} = {e.value(token)}",
    )
