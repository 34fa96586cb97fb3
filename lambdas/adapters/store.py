"""DynamoDB single-table adapter, the one store of every function: sends the requests the
``*_expressions`` modules build, returns typed items, and turns a refused conditional write into
:class:`Refused` with the items as they are now.

The reads and the writes every function shares are built by ``expressions``; a write only one
function makes is built by that function's module (``send_expressions``, ``reply_expressions``,
``feedback_expressions``, ``organizer_expressions``, and for rarer paths
``occurrence_expressions``, ``kept_expressions``, ``refresh_expressions``,
``uncount_expressions``), which the method imports when it runs. A
function's handler loads its own at import, through the code that calls it, so no function
compiles another's requests at its cold start (docs/performance.md, "Cold start").

Writes per delivered email: one claim (a conditional write) before the send, and one share of a
batch-wide TransactWriteItems after it, which records every attendee of the batch and adds each
event's counters once (aggregated per event). An answer or a feedback event is one transaction
conditioned on the items as read (``lambdas.domain.decide_again``). This module is the plumbing:
transactions and their retries, the fallbacks' control flow, pagination, and reading items into
the model (``lambdas/domain/items.py``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lambdas.adapters import expressions
from lambdas.adapters.expressions import (
    CONDITION_FAILED,
    from_item,
    message_mapping,
    read_attendee,
    read_event,
    read_occurrence_answers,
)
from lambdas.domain.decide_again import Refused
from lambdas.domain.events import Person
from lambdas.domain.frozen import frozen
from lambdas.domain.items import (
    HISTORY_CAP,
    AttendeeItem,
    EventItem,
    MessageItem,
    OccurrenceAnswersItem,
    OverrideItem,
)
from lambdas.domain.keys import (
    OCCURRENCE_ANSWERS_PREFIX,
    OCCURRENCE_PREFIX,
    PARTITION_KEY,
    SORT_KEY,
    email_in_key,
)

if TYPE_CHECKING:
    from lambdas.adapters.reply_expressions import Received
    from lambdas.adapters.send_expressions import Completion, Operation
    from lambdas.domain.organizer.pending import OrganizerState

TRANSACTION_LIMIT = 100  # items per TransactWriteItems


CONFLICT_ATTEMPTS = 4  # TransactionConflict is not retried by botocore; retry it here, then let SQS


@frozen
class ClaimResult:
    claimed: bool
    attendee: AttendeeItem | None = None  # the item as it was (ALL_OLD), when known
    event_refused: bool = False


# The event item and the attendee item, as an answer is decided from them.
Pair = tuple[EventItem | None, AttendeeItem | None]


# Frozen: the completion write fills in its two collections, never replaces them (and @dataclass
# would compile three methods at every cold start: lambdas/domain/frozen.py).
@frozen
class CompletionReport:
    unrecorded: set[str] = field(default_factory=set)  # record ids whose attendee item was not written
    uncounted_events: list[str] = field(default_factory=list)  # event keys whose counters were not added


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
        from lambdas.adapters import send_expressions as sends

        items = sends.invite_claim(self._table, uid, attendee, sequence, token, now, lease)
        try:
            self._transact(items)
        except TransactionRefused as refused:
            attendee_reason, event_reason = refused.reasons[0], refused.reasons[1]
            return ClaimResult(
                claimed=False,
                attendee=_attendee(uid, from_item(attendee_reason.get("Item"))),
                event_refused=event_reason.get("Code") == CONDITION_FAILED,
            )
        return ClaimResult(claimed=True)

    def claim_cancellation(self, uid: str, email: str, token: str, now: float, lease: int) -> ClaimResult:
        """Own an invited attendee for its cancellation. On success ``attendee`` is the item before."""
        from lambdas.adapters import send_expressions as sends

        return self._claim(uid, sends.cancellation_claim(self._table, uid, email, token, now, lease))

    def release(self, uid: str, email: str, token: str) -> None:
        """Give a claim back after a failed send, so the redelivery need not wait for the lease."""
        self._update_if(expressions.release(self._table, uid, email, token))

    # -------------------------------------------------------------------------------- completions

    def complete(self, completions: list[Completion]) -> CompletionReport:
        """Record a batch of sent emails, in as few TransactWriteItems calls as the batch allows."""
        from lambdas.adapters import send_expressions as sends

        report = CompletionReport()
        if not completions:
            return report
        operations = sends.completion_operations(self._table, completions)
        for start in range(0, len(operations), TRANSACTION_LIMIT):
            self._complete_chunk(operations[start : start + TRANSACTION_LIMIT], report)
        return report

    def _complete_chunk(self, operations: list[Operation], report: CompletionReport) -> None:
        try:
            self._transact([op for _, op in operations])
            return
        except TransactionRefused as refused:
            from lambdas.adapters import completion_fallbacks as fallbacks  # the first refusal loads it

            self._trim_histories(fallbacks.history_trims(self._table, operations, refused.reasons))
            retry = fallbacks.retry_after_refusal(operations, refused.reasons)
            if not retry:
                return
            try:
                self._transact([op for _, op in retry])
                return
            except (TransactionRefused, ClientError):
                self._complete_one_by_one(retry, report)
        except ClientError:
            self._complete_one_by_one(operations, report)

    def _trim_histories(self, trims: list[dict]) -> None:
        """Trim each full history (``completion_fallbacks.history_trim``), trimming again from the
        item a refusal returns while the claim is still ours. Best effort: the completion written
        next decides, and reports what it could not record."""
        from lambdas.adapters import completion_fallbacks as fallbacks

        for trim in trims:
            for _ in range(CONFLICT_ATTEMPTS):
                try:
                    self._db.update_item(**trim)
                    break
                except ClientError as error:
                    stored = from_item(error.response.get("Item"))
                    history = (stored or {}).get("history")
                    if (
                        _code(error) != "ConditionalCheckFailedException"
                        or not isinstance(history, list)
                        or len(history) < HISTORY_CAP
                        or not fallbacks.still_claimed({"Update": trim}, stored)
                    ):
                        break
                    token = trim["ExpressionAttributeValues"][":token"]["S"]
                    trim = fallbacks.history_trim(self._table, trim["Key"], token, history)

    def _complete_one_by_one(self, operations: list[Operation], report: CompletionReport) -> None:
        from lambdas.adapters import completion_fallbacks as fallbacks

        for record_id, op in operations:
            try:
                try:
                    self._db.update_item(**op["Update"])
                except ClientError as error:
                    if _code(error) != "ConditionalCheckFailedException":
                        raise
                    if record_id is None:
                        self._db.update_item(**fallbacks.counters_only(op)["Update"])
                    elif _still_ours(op, error):  # only its history was full: trim, write again
                        refusal = {"Code": CONDITION_FAILED, "Item": error.response.get("Item")}
                        self._trim_histories(
                            fallbacks.history_trims(self._table, [(record_id, op)], [refusal])
                        )
                        self._db.update_item(**op["Update"])
            except ClientError as error:
                if record_id is None:
                    # Statistics only: re-sending emails to fix a counter would be worse. Logged.
                    report.uncounted_events.append(from_item(op["Update"]["Key"])[PARTITION_KEY])
                elif _code(error) != "ConditionalCheckFailedException" or _still_ours(op, error):
                    report.unrecorded.add(record_id)  # redelivered: see docs/idempotency.md

    # ---------------------------------------------------------------------------------- reads

    def get_event(self, uid: str) -> EventItem | None:
        return _event(
            uid, from_item(self._db.get_item(**expressions.read_event(self._table, uid)).get("Item"))
        )

    def get_attendee(self, uid: str, email: str) -> AttendeeItem | None:
        response = self._db.get_item(**expressions.read_attendee(self._table, uid, email))
        return _attendee(uid, from_item(response.get("Item")))

    def attendees(self, uid: str) -> Iterator[AttendeeItem]:
        """Every attendee item of the event, in key order, following every page (strongly consistent)."""
        for stored in self._query(expressions.attendees_query(self._table, uid)):
            yield _attendee(uid, stored)

    def overrides(self, uid: str) -> list[OverrideItem]:
        """Every changed or cancelled occurrence of the event's series, following every page."""
        return [
            OverrideItem.read(
                stored, uid=uid, occurrence=str(stored.get(SORT_KEY, "")).removeprefix(OCCURRENCE_PREFIX)
            )
            for stored in self._query(expressions.overrides_query(self._table, uid))
        ]

    def occurrence_answers(self, uid: str) -> list[OccurrenceAnswersItem]:
        """The counts of the answers for each occurrence answered apart, following every page."""
        return [
            OccurrenceAnswersItem.read(
                stored,
                uid=uid,
                occurrence=str(stored.get(SORT_KEY, "")).removeprefix(OCCURRENCE_ANSWERS_PREFIX),
            )
            for stored in self._query(expressions.occurrence_answers_query(self._table, uid))
        ]

    def record_override(self, uid: str, override: dict[str, Any]) -> None:
        """Record an occurrence's change or cancellation; a later one already recorded wins."""
        from lambdas.adapters import send_expressions as sends

        self._update_if(sends.override_write(self._table, uid, override))

    def get_message(self, ses_message_id: str) -> MessageItem | None:
        """Which attendee an email went to, by its SES message id (written when the send is recorded)."""
        response = self._db.get_item(**expressions.read_message(self._table, ses_message_id))
        stored = from_item(response.get("Item"))
        return None if stored is None else MessageItem.read(stored, message_id=ses_message_id)

    def suppressed(self, uid: str) -> list[AttendeeItem]:
        """The attendees of an event nothing more is sent to (one Query, filtered here)."""
        return [a for a in self.attendees(uid) if a.suppressed is not None]

    # -------------------------------------------------------------------------------- feedback

    def record_feedback(self, uid: str, email: str, plan) -> Refused[AttendeeItem | None] | None:
        """Write a ``FeedbackPlan`` in one TransactWriteItems; None when written, else the attendee
        item as the refusal returned it (None: gone)."""
        from lambdas.adapters.feedback_expressions import feedback_write

        try:
            self._transact(feedback_write(self._table, uid, email, plan))
        except TransactionRefused as refused:
            return Refused(_attendee(uid, from_item(refused.reasons[0].get("Item"))))
        return None

    # --------------------------------------------------------------------------------- answers

    def event_and_attendee(self, uid: str, email: str) -> Pair:
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
        self, answer, change, received: Received, event: EventItem, attendee: AttendeeItem | None
    ) -> Refused[Pair] | None:
        """Write the answer (a ``ReplyChange``) and move the counters. None when written; when
        either item changed since it was read, both items as they are now (DynamoDB returns the
        changed one with the refusal, so deciding again needs no new read)."""
        from lambdas.adapters import reply_expressions as answers

        items = answers.reply_transaction(self._table, answer, change, received, event, attendee)
        try:
            self._transact(items)
        except TransactionRefused as refused:
            return Refused(_pair_now(answer.uid, (event, attendee), refused.reasons))
        return None

    def occurrence_items(
        self, uid: str, email: str, occurrence: str
    ) -> tuple[EventItem | None, AttendeeItem | None, OccurrenceAnswersItem | None]:
        """The event, the attendee and the occurrence's counts, read together (one request)."""
        response = self._db.transact_get_items(
            TransactItems=[
                {"Get": _key_only(read_event(self._table, uid))},
                {"Get": _key_only(read_attendee(self._table, uid, email))},
                {"Get": _key_only(read_occurrence_answers(self._table, uid, occurrence))},
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
        from lambdas.adapters.occurrence_expressions import occurrence_reply_transaction

        items = occurrence_reply_transaction(self._table, answer, change, received, attendee, tally)
        return self._transact_if(items)

    def uncount(self, uid: str, attendee: AttendeeItem, deltas: dict[str, int], event: EventItem) -> bool:
        """Clear a removed attendee's counted answer and take it out of the event's counts; False
        when either item changed since it was read."""
        from lambdas.adapters.uncount_expressions import uncount_transaction

        return self._transact_if(uncount_transaction(self._table, uid, attendee, deltas, event))

    def uncount_occurrence(
        self, uid: str, attendee: AttendeeItem, occurrence: str, deltas: dict[str, int], tally
    ) -> bool:
        """As ``uncount``, for the attendee's answer to one occurrence and that occurrence's counts."""
        from lambdas.adapters.uncount_expressions import occurrence_uncount_transaction

        items = occurrence_uncount_transaction(self._table, uid, attendee, occurrence, deltas, tally)
        return self._transact_if(items)

    def record_unverified(self, answer, trust, received: Received, attendee: AttendeeItem) -> bool:
        """Keep an unproven answer apart; False when the attendee item changed since it was read."""
        from lambdas.adapters.kept_expressions import unverified_update

        return self._update_if(unverified_update(self._table, answer, trust, received, attendee))

    def record_counter(self, answer, received: Received, attendee: AttendeeItem) -> bool:
        """Keep a proposal; False when the attendee item changed since it was read."""
        from lambdas.adapters.kept_expressions import counter_update

        return self._update_if(counter_update(self._table, answer, received, attendee))

    def claim_refresh(
        self, uid: str, email: str, sequence: int, ses_message_id: str, token: str, now: float, lease: int
    ) -> ClaimResult:
        from lambdas.adapters.refresh_expressions import refresh_claim

        return self._claim(
            uid,
            refresh_claim(self._table, uid, email, sequence, ses_message_id, token, now, lease),
        )

    def record_refresh(
        self, uid: str, email: str, ses_message_id: str, token: str, entry: dict[str, Any]
    ) -> bool:
        """Record the answer, by the claim's owner only; the email's message item rides in the same
        transaction, so its delivery feedback finds the attendee (docs/feedback.md).

        Refused when the claim was taken over after its lease ran out: the new owner records its
        own send, but this email left too, so its message item is still written (unconditional,
        like the send path's): a bounce of it must still suppress the address."""
        from lambdas.adapters.refresh_expressions import refresh_record

        record = refresh_record(self._table, uid, email, ses_message_id, token, entry)
        mapping = message_mapping(self._table, entry["message_id"], uid, email, entry["at"])
        try:
            self._transact([{"Update": record}, mapping])
        except TransactionRefused:
            self._db.update_item(**mapping["Update"])
            return False
        return True

    def release_refresh(self, uid: str, email: str, token: str) -> None:
        self._update_if(expressions.release(self._table, uid, email, token, claim="refresh_pending"))

    # ---------------------------------------------------------------------------------- events

    def mark_event_cancelled(self, uid: str, cancel_sequence: int, now_iso: str) -> None:
        """Set status=CANCELLED and the sequence below which invites are stale, if not already higher."""
        from lambdas.adapters import send_expressions as sends

        self._update_if(sends.event_cancellation(self._table, uid, cancel_sequence, now_iso))

    # ------------------------------------------------------------------ an organizer's calendar

    def organizer_state(self, uid: str) -> OrganizerState:
        """The event item as the organizer function decides from it (strongly consistent)."""
        from lambdas.domain.organizer.pending import OrganizerState

        stored = from_item(self._db.get_item(**expressions.read_event(self._table, uid)).get("Item"))
        return OrganizerState.read(uid, stored)

    def write_organizer_change(
        self,
        uid: str,
        change,
        state: OrganizerState,
        fan_out,
        answers: dict[str, str],
        now_iso: str,
        invited_directly: tuple[str, ...] | None = None,
    ) -> Refused[OrganizerState] | None:
        """Write a change (``organizer.decisions.Apply``) with what it owes; None when written,
        else the event item as the refusal returned it."""
        from lambdas.adapters import organizer_expressions as organizer
        from lambdas.domain.organizer.pending import OrganizerState

        items = organizer.change_write(
            self._table, uid, change, state.version, fan_out, answers, now_iso, invited_directly
        )
        try:
            self._transact(items)
        except TransactionRefused as refused:
            return Refused(OrganizerState.read(uid, from_item(refused.reasons[0].get("Item"))))
        return None

    def revert_override(self, uid: str, occurrence: str, sequence: int) -> bool:
        """The occurrence is the series' own again, unless changed at ``sequence`` or later."""
        from lambdas.adapters import organizer_expressions as organizer

        return self._update_if(organizer.override_revert(self._table, uid, occurrence, sequence))

    def organizer_fan_out_done(self, uid: str, sequence: int) -> bool:
        from lambdas.adapters import organizer_expressions as organizer

        return self._update_if(organizer.fan_out_done(self._table, uid, sequence))

    def claim_organizer_answer(
        self, uid: str, attribute: str, inbound: str, token: str, now: float, lease: int
    ) -> bool:
        from lambdas.adapters import organizer_expressions as organizer

        return self._update_if(
            organizer.answer_claim(self._table, uid, attribute, inbound, token, now, lease)
        )

    def release_organizer_answer(self, uid: str, attribute: str, token: str) -> bool:
        from lambdas.adapters import organizer_expressions as organizer

        return self._update_if(organizer.answer_release(self._table, uid, attribute, token))

    def organizer_answer_done(self, uid: str, attribute: str, token: str) -> bool:
        from lambdas.adapters import organizer_expressions as organizer

        return self._update_if(organizer.answer_done(self._table, uid, attribute, token))

    # --------------------------------------------------------------------------------- plumbing

    def _update_if(self, request: dict) -> bool:
        """A conditional UpdateItem; False when its condition refused it (nothing to do)."""
        try:
            self._db.update_item(**request)
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _transact_if(self, items: list[dict]) -> bool:
        """A conditional TransactWriteItems; False when a condition refused it."""
        try:
            self._transact(items)
        except TransactionRefused:
            return False
        return True

    def _claim(self, uid: str, request: dict) -> ClaimResult:
        """A conditional UpdateItem on an attendee item that claims it; the item as it was, either way
        (``ReturnValues`` / ``ReturnValuesOnConditionCheckFailure`` = ALL_OLD)."""
        try:
            response = self._db.update_item(**request)
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise
            return ClaimResult(claimed=False, attendee=_attendee(uid, from_item(error.response.get("Item"))))
        return ClaimResult(claimed=True, attendee=_attendee(uid, from_item(response.get("Attributes"))))

    def _query(self, kwargs: dict) -> Iterator[dict[str, Any]]:
        """Every item a Query finds, following every page."""
        kwargs = dict(kwargs)
        while True:
            page = self._db.query(**kwargs)
            for item in page.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

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
                if CONDITION_FAILED in codes:
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


def _still_ours(op: dict, refused: ClientError) -> bool:
    """A refused attendee write whose claim is still this delivery's (the refusal's ALL_OLD item)."""
    from lambdas.adapters.completion_fallbacks import still_claimed

    return "Update" in op and still_claimed(op, from_item(refused.response.get("Item")))


def _event(uid: str, stored: dict[str, Any] | None) -> EventItem | None:
    return None if stored is None else EventItem.read(stored, uid=uid)


def _attendee(uid: str, stored: dict[str, Any] | None) -> AttendeeItem | None:
    return None if stored is None else AttendeeItem.read(stored, uid=uid, email=email_in_key(stored))


def _pair_now(uid: str, items: Pair, reasons: list[dict[str, Any]]) -> Pair:
    """The items after a refused answer: the refusal's copy of an item whose condition failed
    (None when it is gone), else the item as read (its condition held)."""
    (event, attendee), (attendee_reason, event_reason) = items, reasons
    if event_reason.get("Code") == CONDITION_FAILED:
        event = _event(uid, from_item(event_reason.get("Item")))
    if attendee_reason.get("Code") == CONDITION_FAILED:
        attendee = _attendee(uid, from_item(attendee_reason.get("Item")))
    return event, attendee


def _key_only(get: dict[str, Any]) -> dict[str, Any]:
    # TransactGetItems is serializable on its own and takes no ConsistentRead.
    return {name: value for name, value in get.items() if name != "ConsistentRead"}
