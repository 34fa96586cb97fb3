"""Message contract v1, cancellations: parse and validate a send cancellation SQS body into a
:class:`CancelRequest`, with the fields every request shares read by ``contract``. Only send
cancellation reads them (docs/performance.md, "Cold start"); the rules are those of ``contract``:
every problem reported as a ``FieldError`` naming its field, all of them collected before raising.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from lambdas.domain.contract import read_event, read_person, read_sequence, read_uid
from lambdas.domain.envelopes import decode_body
from lambdas.domain.events import EventDetails, Person
from lambdas.domain.frozen import frozen
from lambdas.domain.readers import ErrorCollector, read_when
from lambdas.domain.vocabulary import CancelIntent


class CancelScope(StrEnum):
    EVENT = "event"
    ATTENDEE = "attendee"


# Written only by the function's own whole-event fan-out, next to the event and the attendee:
# the event item is already cancelled, and the request tells one attendee so.
FAN_OUT_FIELD = "fan_out"
EVENT_CANCELLATION_FAN_OUT = "event-cancellation"


@frozen
class CancelRequest:
    """A cancellation; ``intent`` says what it asks for.

    ``event`` is None when the request carried only the uid; the details then come from the stored
    event item. ``sequence`` is the producer's sequence, if it gave one. ``from_fan_out`` is set on
    the requests the function's own fan-out wrote; a NOTIFY_CANCELLED request without it (the
    form ``scope: "event"`` with an attendee) is honoured only for an event already cancelled.
    """

    uid: str
    sequence: int | None
    event: EventDetails | None
    attendee: Person | None
    intent: CancelIntent
    from_fan_out: bool = False
    # One occurrence of a series, as the producer wrote it (like start); read against the series'
    # start and zone, which a uid-only request leaves to the stored event.
    occurrence: str | None = None


def event_cancellation_share(event: dict[str, Any], attendee: Person) -> dict[str, Any]:
    """The body the whole-event fan-out enqueues for one attendee (contract form of the event)."""
    return {"event": event, "attendee": attendee.as_dict(), FAN_OUT_FIELD: EVENT_CANCELLATION_FAN_OUT}


def parse_cancellation(body: Any) -> CancelRequest:
    document = decode_body(body)
    errors = ErrorCollector()
    raw_event = document.get("event")
    if not isinstance(raw_event, dict):
        errors.add("event", "is required and must be an object")
        errors.raise_if_any()
    uid = read_uid(raw_event.get("uid"), "event.uid", errors)
    sequence = (
        read_sequence(raw_event.get("sequence"), "event.sequence", errors)
        if "sequence" in raw_event
        else None
    )
    # Only uid (and optionally sequence, occurrence) given: the details come from the stored event.
    details_given = set(raw_event) - {"uid", "sequence", "occurrence"}
    occurrence = raw_event.get("occurrence")
    if occurrence is not None and read_when(occurrence, "event.occurrence", errors) is None:
        occurrence = None
    # The fan-out repeats names as the table holds them, which may predate a rule on names.
    stored_names = FAN_OUT_FIELD in document
    event = read_event(raw_event, "event", errors, stored_names=stored_names) if details_given else None
    attendee = None
    if "attendee" in document:
        attendee = read_person(document["attendee"], "attendee", errors, stored_name=stored_names)
    intent, from_fan_out = _cancel_intent(document, errors)
    errors.raise_if_any()
    return CancelRequest(
        uid=uid,
        sequence=sequence,
        event=event,
        attendee=attendee,
        intent=intent,
        from_fan_out=from_fan_out,
        occurrence=occurrence,
    )


def _cancel_intent(document: dict[str, Any], errors: ErrorCollector) -> tuple[CancelIntent, bool]:
    names_attendee = "attendee" in document
    if FAN_OUT_FIELD in document:
        if document[FAN_OUT_FIELD] != EVENT_CANCELLATION_FAN_OUT:
            errors.add(FAN_OUT_FIELD, f"is written by the function only, as {EVENT_CANCELLATION_FAN_OUT!r}")
        elif not names_attendee:
            errors.add("attendee", f"is required with {FAN_OUT_FIELD}")
        elif document.get("scope", CancelScope.EVENT) != CancelScope.EVENT:
            errors.add("scope", f"must be {CancelScope.EVENT!r} (or absent) with {FAN_OUT_FIELD}")
        return CancelIntent.NOTIFY_CANCELLED, True
    scope = document.get("scope")
    if scope is None:
        return (CancelIntent.REMOVE_ATTENDEE if names_attendee else CancelIntent.CANCEL_EVENT), False
    if not isinstance(scope, str) or scope not in CancelScope._value2member_map_:
        errors.add("scope", f"must be one of {', '.join(CancelScope)}")
    elif scope == CancelScope.ATTENDEE and not names_attendee:
        errors.add("scope", "'attendee' needs an attendee")
    elif scope == CancelScope.EVENT and names_attendee:
        # The form that used to cancel the whole event while naming one attendee: kept for the
        # requests an earlier version fanned out, refused by the workflow unless the event is
        # already cancelled (docs/message-contract.md, "Migration").
        return CancelIntent.NOTIFY_CANCELLED, False
    if scope == CancelScope.ATTENDEE:
        return CancelIntent.REMOVE_ATTENDEE, False
    return CancelIntent.CANCEL_EVENT, False
