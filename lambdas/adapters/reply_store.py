"""DynamoDB plumbing for recorded answers: read the two items, write what was decided.

The requests themselves are built in :mod:`lambdas.adapters.reply_expressions`; this module only sends
them and turns DynamoDB's refusals into results. It shares the table's conversions and the
transaction retry of :class:`lambdas.adapters.store.Store`.
"""

from __future__ import annotations

from typing import Any

from lambdas.adapters import reply_expressions
from lambdas.adapters.expressions import (
    CONDITION_FAILED,
    from_item,
    message_mapping,
    read_attendee,
    read_event,
    to_attribute_values,
)
from lambdas.adapters.reply_expressions import Received
from lambdas.adapters.store import ClaimResult, Store, TransactionRefused, _attendee, _event
from lambdas.domain.items import AttendeeItem, EventItem, OccurrenceAnswersItem
from lambdas.domain.keys import occurrence_answers_key
from lambdas.domain.occurrence_answers import occurrence_uncounted
from lambdas.domain.replies import ReplyChange, uncounted

Items = tuple[EventItem | None, AttendeeItem | None]


def _now(uid: str, items: Items, reasons: list[dict[str, Any]]) -> Items:
    """The items after a refused transaction: the refusal's copy of an item whose condition failed
    (None when it is gone), else the item as read (its condition held)."""
    (event, attendee), (attendee_reason, event_reason) = items, reasons
    if event_reason.get("Code") == CONDITION_FAILED:
        event = _event(uid, from_item(event_reason.get("Item")))
    if attendee_reason.get("Code") == CONDITION_FAILED:
        attendee = _attendee(uid, from_item(attendee_reason.get("Item")))
    return event, attendee


class ReplyStore(Store):
    def read(self, uid: str, email: str) -> Items:
        """The event item and the attendee item, read together (one serializable request)."""
        response = self._db.transact_get_items(
            TransactItems=[
                {"Get": _key_only(read_event(self._table, uid))},
                {"Get": _key_only(read_attendee(self._table, uid, email))},
            ]
        )
        event, attendee = (from_item(r.get("Item")) for r in response["Responses"])
        return _event(uid, event), _attendee(uid, attendee)

    def record_reply(
        self,
        answer,
        change: ReplyChange,
        received: Received,
        event: EventItem,
        attendee: AttendeeItem | None,
    ) -> Items | None:
        """Write the answer and move the counters. None when written; when either item changed
        since it was read, both items as they are now (DynamoDB returns the changed one with the
        refusal, so deciding again needs no new read)."""
        items = reply_expressions.reply_transaction(self._table, answer, change, received, event, attendee)
        try:
            self._transact(items)
        except TransactionRefused as refused:
            return _now(answer.uid, (event, attendee), refused.reasons)
        return None

    def read_occurrence(
        self, uid: str, email: str, occurrence: str
    ) -> tuple[EventItem | None, AttendeeItem | None, OccurrenceAnswersItem | None]:
        """The event, the attendee and the occurrence's counts, read together (one request)."""
        response = self._db.transact_get_items(
            TransactItems=[
                {"Get": _key_only(read_event(self._table, uid))},
                {"Get": _key_only(read_attendee(self._table, uid, email))},
                {
                    "Get": {
                        "TableName": self._table,
                        "Key": to_attribute_values(occurrence_answers_key(uid, occurrence)),
                    }
                },
            ]
        )
        event, attendee, tally = (from_item(r.get("Item")) for r in response["Responses"])
        counts = OccurrenceAnswersItem.read(tally, uid=uid, occurrence=occurrence) if tally else None
        return _event(uid, event), _attendee(uid, attendee), counts

    def record_occurrence_reply(
        self, answer, change, received: Received, attendee: AttendeeItem, tally: OccurrenceAnswersItem | None
    ) -> bool:
        """Write an answer for one occurrence and move its counts; False when any item changed
        since it was read (decide again on a new read)."""
        items = reply_expressions.occurrence_reply_transaction(
            self._table, answer, change, received, attendee, tally
        )
        try:
            self._transact(items)
        except TransactionRefused:
            return False
        return True

    def uncount(self, uid: str, email: str, attempts: int = 5) -> bool:
        """Take a removed attendee's answers out of the counts, the series' and every occurrence's,
        once whatever redelivers it. False when the items kept changing under every attempt."""
        attendee = None
        for _ in range(attempts):
            event, attendee = self.read(uid, email)
            deltas = uncounted(event, attendee)
            if deltas is None:
                break
            items = reply_expressions.uncount_transaction(self._table, uid, attendee, deltas, event)
            try:
                self._transact(items)
            except TransactionRefused:
                continue
            break
        else:
            return False
        occurrences = list(attendee.occurrence_replies) if attendee else []
        return all(self.uncount_occurrence(uid, email, occurrence, attempts) for occurrence in occurrences)

    def uncount_occurrence(self, uid: str, email: str, occurrence: str, attempts: int = 5) -> bool:
        """Take an attendee's answer to one occurrence out of that occurrence's counts (they were
        removed from it, or from the event). False when the items kept changing."""
        for _ in range(attempts):
            _, attendee, tally = self.read_occurrence(uid, email, occurrence)
            entry = attendee.occurrence_replies.get(occurrence) if attendee else None
            deltas = occurrence_uncounted(entry, tally)
            if deltas is None:
                return True
            items = reply_expressions.occurrence_uncount_transaction(
                self._table, uid, attendee, occurrence, deltas, tally
            )
            try:
                self._transact(items)
            except TransactionRefused:
                continue
            return True
        return False

    def record_unverified(self, answer, trust, received: Received, attendee: AttendeeItem) -> bool:
        """Keep an unproven answer apart; False when the attendee item changed since it was read."""
        return self._update_if(
            reply_expressions.unverified_update(self._table, answer, trust, received, attendee)
        )

    def record_counter(self, answer, received: Received, attendee: AttendeeItem) -> bool:
        """Keep a proposal; False when the attendee item changed since it was read."""
        return self._update_if(reply_expressions.counter_update(self._table, answer, received, attendee))

    def claim_refresh(
        self, uid: str, email: str, sequence: int, ses_message_id: str, token: str, now: float, lease: int
    ) -> ClaimResult:
        return self._claim(
            uid,
            reply_expressions.refresh_claim(
                self._table, uid, email, sequence, ses_message_id, token, now, lease
            ),
        )

    def record_refresh(
        self, uid: str, email: str, ses_message_id: str, token: str, entry: dict[str, Any]
    ) -> bool:
        """Record the answer, by the claim's owner only; the email's message item rides in the same
        transaction, so its delivery feedback finds the attendee (docs/feedback.md).

        Refused when the claim was taken over after its lease ran out: the new owner records its
        own send, but this email left too, so its message item is still written (unconditional,
        like the send path's): a bounce of it must still suppress the address."""
        record = reply_expressions.refresh_record(self._table, uid, email, ses_message_id, token, entry)
        mapping = message_mapping(self._table, entry["message_id"], uid, email, entry["at"])
        try:
            self._transact([{"Update": record}, mapping])
        except TransactionRefused:
            self._db.update_item(**mapping["Update"])
            return False
        return True

    def release_refresh(self, uid: str, email: str, token: str) -> None:
        self._update_if(reply_expressions.refresh_release(self._table, uid, email, token))


def _key_only(get: dict[str, Any]) -> dict[str, Any]:
    # TransactGetItems is serializable on its own and takes no ConsistentRead.
    return {name: value for name, value in get.items() if name != "ConsistentRead"}
