"""The send functions' requests: the claims before a send, and the batch's completion write after
it (its fallbacks, used when that write is refused, are ``completion_fallbacks``). Every condition
that makes delivery idempotent is written here (docs/idempotency.md), with the builder of
``expressions``.

Only the send functions load this module (their handlers, through ``runtime.claimed``): record
reply and record feedback never claim or complete a send (docs/performance.md, "Cold start").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import field
from decimal import Decimal
from typing import Any

from lambdas.adapters.expressions import Expression, message_mapping
from lambdas.domain.events import Person
from lambdas.domain.frozen import frozen
from lambdas.domain.items import HISTORY_CAP, OverrideItem
from lambdas.domain.keys import PARTITION_KEY, attendee_key, event_key, occurrence_key
from lambdas.domain.vocabulary import AttendeeStatus, EventStatus, Method, PartStat

# The event's counters of sent emails, and the labels of their values in a request.
COUNTERS = {"invites_sent": "invites", "updates_sent": "updates", "cancellations_sent": "cancellations"}
COUNTER_VALUES = tuple(f":{label}" for label in COUNTERS.values())

# An operation of a completion write: the record id of the attendee it records, or None for an
# event's update (details and counters), and its TransactWriteItems entry.
Operation = tuple[str | None, dict]


@frozen
class Completion:
    """A sent email to record: the attendee item, and a share of its event's counters."""

    record_id: str
    method: Method
    uid: str
    email: str
    name: str
    token: str
    sequence: int
    message_id: str
    sent_at: str
    attendee_status: AttendeeStatus  # decided by the domain (decisions.attendee_status_after)
    event: dict[str, Any] = field(default_factory=dict)  # contract form of the details (REQUEST)
    occurrence: str = ""  # one occurrence of a series (items.occurrence_text): not the series' details


# ----------------------------------------------------------------------------------- claims


def invite_claim(
    table: str, uid: str, attendee: Person, sequence: int, token: str, now: float, lease: int
) -> list[dict]:
    """TransactItems: claim (uid, attendee) for ``sequence``, and check the event is not cancelled.

    Refused when this sequence or a higher one was sent, while another claim is live, or when the
    event was cancelled at this sequence or above: an invite racing a cancellation never slips
    through.
    """
    e = Expression()
    pending, seq = e.name("pending"), e.name("sequence")
    claim = e.value(_pending(Method.REQUEST, token, now, sequence), "pending")
    # The address is written with the claim so that a whole-event cancellation finds this
    # attendee even if the function dies before recording the send.
    email = f"{e.name('email')} = {e.value(attendee.email, 'email')}"
    name = f"{e.name('name')} = {e.value(attendee.name, 'name')}"
    attendee_update = e.request(
        table,
        attendee_key(uid, attendee.email),
        UpdateExpression=f"SET {pending} = {claim}, {email}, {name}",
        # Nothing more is sent to an address that hard-bounced or complained (docs/feedback.md).
        ConditionExpression=f"(attribute_not_exists({seq}) OR {seq} < {e.value(sequence, 'seq')})"
        f" AND {_claim_free(e, pending, now, lease)}"
        f" AND attribute_not_exists({e.name('suppressed')})",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    c = Expression()
    cancelled = c.name("cancelled_sequence")
    event_check = c.request(
        table,
        event_key(uid),
        ConditionExpression=f"attribute_not_exists({cancelled}) OR {cancelled} < {c.value(sequence, 'seq')}",
    )
    return [{"Update": attendee_update}, {"ConditionCheck": event_check}]


def _claim_free(e: Expression, pending: str, now: float, lease: int) -> str:
    """No claim on the item, or one whose lease ran out (its delivery died: taken over)."""
    return (
        f"(attribute_not_exists({pending}) OR {pending}.{e.name('since')} < {e.value(now - lease, 'cutoff')})"
    )


# Everything an override item stores besides its key (OverrideItem's fields less the uid).
OVERRIDE_ATTRIBUTES = tuple(f.name for f in dataclasses.fields(OverrideItem) if f.name != "uid")


def override_write(table: str, uid: str, override: dict[str, Any]) -> dict:
    """UpdateItem: record one occurrence's change or cancellation, unless a later one is recorded.

    ``override``: the OverrideItem's attributes (occurrence, sequence, ...). Writing the same
    sequence again is allowed, so every attendee's delivery of one change may write it. An
    UpdateItem rather than a PutItem, which the functions' roles do not hold: the attributes the
    change does not carry are removed, so the item says exactly what the last change said."""
    e = Expression()
    sets, removes = [], []
    for attribute in OVERRIDE_ATTRIBUTES:
        if attribute in override:
            sets.append(f"{e.name(attribute)} = {e.value(override[attribute])}")
        else:
            removes.append(e.name(attribute))
    seq = e.name("sequence")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return e.request(
        table,
        occurrence_key(uid, override["occurrence"]),
        UpdateExpression=expression,
        ConditionExpression=f"attribute_not_exists({seq}) OR {seq} <= {e.value(override['sequence'], 'seq')}",
    )


def cancellation_claim(table: str, uid: str, email: str, token: str, now: float, lease: int) -> dict:
    """UpdateItem: claim an invited attendee for its cancellation; returns the item as it was."""
    e = Expression()
    pending, status = e.name("pending"), e.name("status")
    return e.request(
        table,
        attendee_key(uid, email),
        UpdateExpression=f"SET {pending} = {e.value(_pending(Method.CANCEL, token, now), 'pending')}",
        # An expired claim without a status is an invite that may have been sent before its
        # function died: cancel it too (cancellation_decisions.receives_event_cancellation says the same).
        ConditionExpression=f"attribute_exists({e.name(PARTITION_KEY)})"
        f" AND ({status} = {e.value(AttendeeStatus.INVITED, 'invited')} OR attribute_exists({pending}))"
        f" AND {_claim_free(e, pending, now, lease)}"
        f" AND attribute_not_exists({e.name('suppressed')})",
        ReturnValues="ALL_OLD",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )


def _pending(method: Method, token: str, now: float, sequence: int | None = None) -> dict[str, Any]:
    pending: dict[str, Any] = {"method": method, "token": token, "since": Decimal(str(now))}
    if sequence is not None:
        pending["sequence"] = sequence
    return pending


def event_cancellation(table: str, uid: str, cancel_sequence: int, now_iso: str) -> dict:
    """UpdateItem: the event is cancelled at ``cancel_sequence``, unless already at or above it."""
    e = Expression()
    cancelled = e.name("cancelled_sequence")
    sequence = e.value(cancel_sequence, "cs")
    return e.request(
        table,
        event_key(uid),
        UpdateExpression=f"SET {e.name('status')} = {e.value(EventStatus.CANCELLED, 'cancelled')},"
        f" {cancelled} = {sequence}, {e.name('cancelled_at')} = {e.value(now_iso, 'now')}",
        ConditionExpression=f"attribute_not_exists({cancelled}) OR {cancelled} < {sequence}",
    )


# ------------------------------------------------------------------------------ completions


def completion_operations(table: str, completions: list[Completion]) -> list[Operation]:
    """Every write that records a batch: one per attendee, one per email's message item, one per event.

    The message items ride in the same transaction, so mapping feedback back costs no call.
    """
    operations: list[Operation] = [(c.record_id, attendee_completion(table, c)) for c in completions]
    by_message = {c.message_id: c for c in completions if c.message_id}
    operations += [
        (c.record_id, message_mapping(table, c.message_id, c.uid, c.email, c.sent_at))
        for c in by_message.values()
    ]
    return operations + [(None, op) for op in event_updates(table, completions)]


def attendee_completion(table: str, c: Completion) -> dict:
    """Record one sent email on its attendee item; only the delivery that still owns the claim may.

    Its entry is appended only below HISTORY_CAP entries: DynamoDB cannot cut a list in an update,
    and this write does not know the item. A full history refuses it, with the item (ALL_OLD), and
    the store trims it from that copy (``completion_fallbacks.history_trim``) before writing again
    (``completion_fallbacks.retry_after_refusal``).
    """
    entry = {"method": c.method, "sequence": c.sequence, "at": c.sent_at, "message_id": c.message_id}
    if c.occurrence:
        entry["occurrence"] = c.occurrence
    e = Expression()
    at, empty, history = e.value(c.sent_at, "at"), e.value([], "empty"), e.name("history")
    when = "invited_at" if c.method == Method.REQUEST else "cancelled_at"
    sets = [
        f"{e.name('email')} = {e.value(c.email, 'email')}",
        f"{e.name('name')} = {e.value(c.name, 'name')}",
        f"{e.name('status')} = {e.value(c.attendee_status, 'status')}",
        f"{e.name('sequence')} = {e.value(c.sequence, 'seq')}",
        f"{e.name(when)} = {at}",
        f"{e.name('sent_at')} = {at}",
        f"{e.name('message_id')} = {e.value(c.message_id, 'mid')}",
        f"{history} = list_append(if_not_exists({history}, {empty}), {e.value([entry], 'entry')})",
    ]
    if c.method == Method.CANCEL and c.occurrence:
        # Removed from one occurrence: every later REQUEST to them leaves it out
        # (series_overrides.without_excluded).
        excluded = e.name("excluded_occurrences")
        sets.append(
            f"{excluded} = list_append(if_not_exists({excluded}, {empty}), {e.value([c.occurrence], 'occ')})"
        )
    if c.method == Method.REQUEST:
        # A new or changed invitation asks for a fresh reply (RFC 5546 §2.1.4).
        sets.append(f"{e.name('partstat')} = {e.value(PartStat.NEEDS_ACTION, 'needs_action')}")
    pending, cap = e.name("pending"), e.value(HISTORY_CAP, "history_cap")
    return {
        "Update": e.request(
            table,
            attendee_key(c.uid, c.email),
            UpdateExpression="SET " + ", ".join(sets) + f" REMOVE {pending}",
            ConditionExpression=f"{pending}.{e.name('token')} = {e.value(c.token, 'token')}"
            f" AND (attribute_not_exists({history}) OR size({history}) < {cap})",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    }


def event_updates(table: str, completions: list[Completion]) -> list[dict]:
    """One update per event in the batch: details from its highest sequence, counters summed.

    A cancellation adds to the counters only: the event's status is set by the request that
    cancels the whole event (``event_cancellation``), before its fan-out, never by one
    attendee's CANCEL.
    """
    by_event: dict[str, list[Completion]] = {}
    for c in completions:
        by_event.setdefault(c.uid, []).append(c)
    updates = []
    for uid, group in by_event.items():
        requests = [c for c in group if c.method == Method.REQUEST]
        counts = {
            "invites_sent": sum(1 for c in requests if c.sequence == 0),
            "updates_sent": sum(1 for c in requests if c.sequence > 0),
            "cancellations_sent": sum(1 for c in group if c.method == Method.CANCEL),
        }
        e = Expression()
        parts: dict[str, str] = {}
        # An occurrence's change is its override item's (override_write), never the series' details.
        series_requests = [c for c in requests if not c.occurrence]
        if series_requests:
            latest = max(series_requests, key=lambda c: c.sequence)
            details = {k: v for k, v in latest.event.items() if k != "sequence"}
            at, seq = e.value(latest.sent_at, "at"), e.value(latest.sequence, "seq")
            sets = [f"{e.name(name)} = {e.value(details[name])}" for name in sorted(details)]
            sequence, created, cancelled = (
                e.name("sequence"),
                e.name("created_at"),
                e.name("cancelled_sequence"),
            )
            sets += [
                f"{sequence} = {seq}",
                f"{e.name('status')} = {e.value(EventStatus.CONFIRMED, 'confirmed')}",
                f"{e.name('updated_at')} = {at}",
                f"{created} = if_not_exists({created}, {at})",
            ]
            parts["UpdateExpression"] = f"SET {', '.join(sets)} {add_counters(e, counts)}"
            # Details only move forward, and never over a cancellation.
            parts["ConditionExpression"] = (
                f"(attribute_not_exists({sequence}) OR {sequence} <= {seq})"
                f" AND (attribute_not_exists({cancelled}) OR {cancelled} < {seq})"
            )
        else:
            parts["UpdateExpression"] = add_counters(e, counts)
        updates.append({"Update": e.request(table, event_key(uid), **parts)})
    return updates


def add_counters(e: Expression, counts: Mapping[str, int]) -> str:
    """ADD this batch's emails to the event's counters (COUNTERS: the values' labels)."""
    return "ADD " + ", ".join(
        f"{e.name(counter)} {e.value(counts[counter], label)}" for counter, label in COUNTERS.items()
    )
