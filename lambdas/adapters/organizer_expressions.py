"""The organizer function's writes (lambdas/follow_organizer), built as plain data like every
request: with the one ``Expression`` builder, each name and value through a placeholder. Loaded by
that function only (docs/performance.md, "Cold start").

A change is one TransactWriteItems: the event item (the details, the organizer's version, and what
the change still owes: lambdas/domain/organizer/pending.py), conditioned on the organizer version
read, and each changed occurrence's item. What it owes is cleared by the delivery that did it.
"""

from __future__ import annotations

from typing import Any

from lambdas.adapters.expressions import Expression
from lambdas.domain.events import EventDetails
from lambdas.domain.items import occurrence_text
from lambdas.domain.keys import PARTITION_KEY, event_key, occurrence_key
from lambdas.domain.organizer.decisions import Apply
from lambdas.domain.organizer.outcomes import OrganizerOutcome
from lambdas.domain.organizer.pending import FAN_OUT, VERSION, FanOut
from lambdas.domain.vocabulary import EventStatus

INVITED_DIRECTLY = "organizer_attendees"


def change_write(
    table: str,
    uid: str,
    change: Apply,
    read_version: int | None,
    fan_out: FanOut | None,
    answers: dict[str, str],
    now_iso: str,
    invited_directly: tuple[str, ...] | None = None,
) -> list[dict]:
    """TransactItems: the change on the event item (refused unless the organizer version is still
    ``read_version``, or, for a new event, unless there is no item), then its occurrences.
    ``invited_directly``: the attendees the organizer's own calendar invites (a whole REQUEST's
    ATTENDEEs but the event address), kept as ``organizer_attendees`` for the invite path to tell."""
    e = Expression()
    sets = [f"{e.name(name)} = {e.value(value)}" for name, value in _record(change).items()]
    version = e.name(VERSION)
    sets.append(f"{version} = {e.value((read_version or 0) + 1, 'version')}")
    sets.append(f"{e.name('updated_at')} = {e.value(now_iso, 'now')}")
    if change.event is not None:
        sets += [f"{e.name(name)} = {e.value(value)}" for name, value in _details(change.event).items()]
        sets.append(f"{e.name('status')} = {e.value(EventStatus.CONFIRMED)}")
        created = e.name("created_at")
        sets.append(f"{created} = if_not_exists({created}, {e.value(now_iso, 'now')})")
    if change.outcome is OrganizerOutcome.CANCELLED:
        # As send cancellation marks it (send_expressions.event_cancellation): no invite at or
        # below this sequence is sent any more, from the moment the organizer's CANCEL is stored.
        sets.append(f"{e.name('status')} = {e.value(EventStatus.CANCELLED)}")
        sets.append(f"{e.name('cancelled_sequence')} = {e.value(change.attendee_sequence, 'cs')}")
        sets.append(f"{e.name('cancelled_at')} = {e.value(now_iso, 'now')}")
    if invited_directly is not None:
        sets.append(f"{e.name(INVITED_DIRECTLY)} = {e.value(list(invited_directly))}")
    if fan_out is not None:
        sets.append(f"{e.name(FAN_OUT)} = {e.value(fan_out.as_item())}")
    for attribute, inbound in answers.items():
        sets.append(f"{e.name(attribute)} = {e.value({'message': inbound})}")
    if change.outcome is OrganizerOutcome.CREATED:
        condition = f"attribute_not_exists({e.name(PARTITION_KEY)})"
    else:
        # What is still owed by an earlier change is done before a new one is written over it.
        condition = f"{e.as_read(VERSION, read_version)} AND attribute_not_exists({e.name(FAN_OUT)})"
    event = e.request(
        table,
        event_key(uid),
        UpdateExpression="SET " + ", ".join(sets),
        ConditionExpression=condition,
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    return [{"Update": event}, *({"Update": _occurrence(table, uid, o)} for o in change.occurrences)]


def override_revert(table: str, uid: str, occurrence: str, sequence: int) -> dict:
    """UpdateItem: an occurrence changed or cancelled before a whole REQUEST at ``sequence`` that no
    longer carries it is the series' own again: kept (an override item is never deleted: the roles
    hold no DeleteItem) with no times and not cancelled, which the series no longer applies
    (``OverrideItem.override``); only if it is older than ``sequence``."""
    e = Expression()
    seq = e.name("sequence")
    removed = ", ".join(e.name(name) for name in ("start", "end", "summary", "description", "location"))
    return e.request(
        table,
        occurrence_key(uid, occurrence),
        UpdateExpression=f"SET {seq} = {e.value(sequence, 'seq')}, {e.name('cancelled')} = {e.value(False)}"
        f" REMOVE {removed}",
        ConditionExpression=f"{seq} < {e.value(sequence, 'seq')}",
    )


def fan_out_done(table: str, uid: str, sequence: int) -> dict:
    """UpdateItem: the fan-out at ``sequence`` is done (a newer one, if written since, stays)."""
    e = Expression()
    fan_out = e.name(FAN_OUT)
    return e.request(
        table,
        event_key(uid),
        UpdateExpression=f"REMOVE {fan_out}",
        ConditionExpression=f"{e.name(FAN_OUT + '.sequence')} = {e.value(sequence, 'seq')}",
    )


def answer_claim(
    table: str, uid: str, attribute: str, inbound: str, token: str, now: float, lease: int
) -> dict:
    """UpdateItem: this delivery sends the answer owed for ``inbound``, unless another one is
    (a live claim) or it was sent (no longer owed)."""
    e = Expression()
    claim, since = e.name(f"{attribute}.claim"), e.name(f"{attribute}.since")
    return e.request(
        table,
        event_key(uid),
        UpdateExpression=f"SET {claim} = {e.value(token, 'token')}, {since} = {e.value(now, 'now')}",
        ConditionExpression=f"{e.name(attribute + '.message')} = {e.value(inbound, 'inbound')}"
        f" AND (attribute_not_exists({claim}) OR {since} < {e.value(now - lease, 'cutoff')})",
    )


def answer_release(table: str, uid: str, attribute: str, token: str) -> dict:
    """UpdateItem: the claim's owner could not send it; still owed, free to claim at once."""
    e = Expression()
    claim, since = e.name(f"{attribute}.claim"), e.name(f"{attribute}.since")
    return e.request(
        table,
        event_key(uid),
        UpdateExpression=f"REMOVE {claim}, {since}",
        ConditionExpression=f"{claim} = {e.value(token, 'token')}",
    )


def answer_done(table: str, uid: str, attribute: str, token: str) -> dict:
    """UpdateItem: the answer was sent by the claim's owner; no longer owed."""
    e = Expression()
    return e.request(
        table,
        event_key(uid),
        UpdateExpression=f"REMOVE {e.name(attribute)}",
        ConditionExpression=f"{e.name(attribute + '.claim')} = {e.value(token, 'token')}",
    )


def _record(change: Apply) -> dict[str, Any]:
    record = change.record
    values: dict[str, Any] = {
        "source": record.source,
        "organizer_uid": record.organizer_uid,
        "organizer_sequence": record.organizer_sequence,
        "organizer_dtstamp": record.organizer_dtstamp,
        "organizer_sent_sequence": record.organizer_sent_sequence,
    }
    return {name: value for name, value in values.items() if value not in ("", None)}


def _details(event: EventDetails) -> dict[str, Any]:
    """The event item's details in contract form (as the send path stores them), and its sequence."""
    details = event.as_dict()
    stored = {name: value for name, value in details.items() if name not in ("uid", "occurrence")}
    # A single event stores no rule; an update that drops the rule must remove it, written empty.
    stored.setdefault("rrule", "")
    stored.setdefault("exdates", [])
    stored.setdefault("description", "")
    stored.setdefault("location", "")
    stored.setdefault("timezone", "")
    return stored


def _occurrence(table: str, uid: str, occurrence: EventDetails) -> dict:
    """UpdateItem: one changed occurrence, as send invite records it (``override_write``)."""
    e = Expression()
    values = {
        "occurrence": occurrence_text(occurrence.occurrence),
        "sequence": occurrence.sequence,
        "start": occurrence.start.isoformat(),
        "end": occurrence.end.isoformat(),
        "summary": occurrence.summary,
        "description": occurrence.description,
        "location": occurrence.location,
        "cancelled": False,
    }
    sets = ", ".join(f"{e.name(name)} = {e.value(value)}" for name, value in values.items())
    return e.request(table, occurrence_key(uid, values["occurrence"]), UpdateExpression=f"SET {sets}")
