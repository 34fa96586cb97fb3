"""DynamoDB plumbing for recorded answers: read the two items, write what was decided.

The requests themselves are built in :mod:`lambdas.adapters.reply_writes`; this module only sends
them and turns DynamoDB's refusals into results. It shares the table's conversions and the
transaction retry of :class:`lambdas.adapters.store.Store`.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from lambdas.adapters import reply_writes
from lambdas.adapters.reply_writes import Received
from lambdas.adapters.store import (
    ClaimResult,
    Store,
    TransactionRefused,
    _code,
    from_item,
    to_attribute_values,
)
from lambdas.domain.keys import attendee_key, event_key
from lambdas.domain.replies import ReplyChange

Items = tuple[dict[str, Any] | None, dict[str, Any] | None]  # (event item, attendee item)


def _now(read: dict[str, Any] | None, reason: dict[str, Any]) -> dict[str, Any] | None:
    """The item after a refused transaction: the refusal's copy if its condition failed (None when
    the item is gone), else the item as read (its condition held)."""
    if reason.get("Code") == "ConditionalCheckFailed":
        return from_item(reason.get("Item"))
    return read


class ReplyStore(Store):
    def read(self, uid: str, email: str) -> Items:
        """The event item and the attendee item, read together (one serializable request)."""
        response = self._db.transact_get_items(
            TransactItems=[
                {"Get": {"TableName": self._table, "Key": to_attribute_values(event_key(uid))}},
                {"Get": {"TableName": self._table, "Key": to_attribute_values(attendee_key(uid, email))}},
            ]
        )
        event, attendee = (from_item(r.get("Item")) for r in response["Responses"])
        return event, attendee

    def record_reply(
        self,
        answer,
        change: ReplyChange,
        received: Received,
        event: dict[str, Any],
        attendee: dict[str, Any] | None,
    ) -> Items | None:
        """Write the answer and move the counters. None when written; when either item changed
        since it was read, both items as they are now (DynamoDB returns the changed one with the
        refusal, so deciding again needs no new read)."""
        items = reply_writes.reply_transaction(self._table, answer, change, received, event, attendee or {})
        try:
            self._transact(items)
        except TransactionRefused as refused:
            attendee_reason, event_reason = refused.reasons
            return _now(event, event_reason), _now(attendee, attendee_reason)
        return None

    def record_counter(self, answer, received: Received, attendee: dict[str, Any]) -> bool:
        """Keep a proposal; False when the attendee item changed since it was read."""
        return self._conditional(reply_writes.counter_update(self._table, answer, received, attendee))

    def claim_refresh(
        self, uid: str, email: str, sequence: int, ses_message_id: str, token: str, now: float, lease: int
    ) -> ClaimResult:
        request = reply_writes.refresh_claim(
            self._table, uid, email, sequence, ses_message_id, token, now, lease
        )
        try:
            self._db.update_item(**request)
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            return ClaimResult(claimed=False, attendee=from_item(error.response.get("Item")))
        return ClaimResult(claimed=True)

    def record_refresh(
        self, uid: str, email: str, ses_message_id: str, token: str, entry: dict[str, Any]
    ) -> bool:
        return self._conditional(
            reply_writes.refresh_record(self._table, uid, email, ses_message_id, token, entry)
        )

    def release_refresh(self, uid: str, email: str, token: str) -> None:
        self._conditional(reply_writes.refresh_release(self._table, uid, email, token))

    def _conditional(self, request: dict[str, Any]) -> bool:
        try:
            self._db.update_item(**request)
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True
