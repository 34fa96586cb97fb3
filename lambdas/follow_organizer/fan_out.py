"""A change handed to the attendees: as the requests a producer would enqueue, onto the send
functions' own queues, which claim each attendee (docs/organizer.md, "Fan-out").

- A new version of the event: an invitation to every attendee invited (``InviteFanOut``, the
  contract's many-attendee form, in chunks of its limit), at the change's attendee sequence.
- Occurrences changed: the same, one per occurrence, each that occurrence as it now stands.
- The event cancelled: the uid-only whole-event cancellation (``cancel-event``), which fans out itself.
- Occurrences cancelled: one occurrence cancellation each, which fans out itself too.

Repeating a fan-out is safe: send invite drops an invitation at or below the sequence an attendee
was sent (its claim), send cancellation a CANCEL an attendee already had; so what is still owed is
handed over whole again by any delivery that finds it (lambdas/domain/organizer/pending.py).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from lambdas.domain.events import EventDetails, Person
from lambdas.domain.organizer.outcomes import OrganizerOutcome
from lambdas.domain.organizer.pending import FanOut, OrganizerState
from lambdas.runtime.services import Services


def settle_fan_out(services: Services, uid: str, state: OrganizerState) -> OrganizerState:
    """Hand over what ``state`` still owes the attendees, then mark it done; the state after."""
    fan_out = state.fan_out
    if fan_out is None:
        return state
    hand_over(services, uid, fan_out, state)
    # Refused only if a newer change is owed since: that one is its writer's (or the next mail's).
    services.store.organizer_fan_out_done(uid, fan_out.sequence)
    return dataclasses.replace(state, fan_out=None)


def hand_over(services: Services, uid: str, fan_out: FanOut, state: OrganizerState) -> int:
    """Enqueue the requests of ``fan_out``; the number of requests enqueued."""
    # The send functions' rules and the contract's limit: loaded by the first change handed over,
    # not by every mail's cold start (docs/performance.md, "Cold start").
    from lambdas.domain.cancellation_decisions import receives_event_cancellation
    from lambdas.domain.contract import MAX_ATTENDEES

    settings = services.settings
    if fan_out.change is OrganizerOutcome.CANCELLED:
        bodies = [{"event": {"uid": uid, "sequence": fan_out.sequence}}]
        return services.queues.onto(settings.cancellation_queue_url).enqueue(_json(bodies))
    if fan_out.change is OrganizerOutcome.OCCURRENCES_CANCELLED:
        bodies = [
            {"event": {"uid": uid, "occurrence": occurrence, "sequence": fan_out.sequence}}
            for occurrence in fan_out.occurrences
        ]
        return services.queues.onto(settings.cancellation_queue_url).enqueue(_json(bodies))
    series = state.event.details() if state.event is not None else None
    if series is None:  # nothing the send functions could render: the write stored it, so never here
        raise RuntimeError(f"event {uid!r} has too few details stored to send its change")
    series = dataclasses.replace(series, sequence=fan_out.sequence)
    invited = [a.person for a in services.store.attendees(uid) if receives_event_cancellation(a)]
    if fan_out.change is OrganizerOutcome.OCCURRENCES_CHANGED:
        events = _occurrences(services, uid, series, fan_out)
    else:
        _revert_not_carried(services, uid, fan_out.sequence)
        events = [series]
    chunks = [invited[start : start + MAX_ATTENDEES] for start in range(0, len(invited), MAX_ATTENDEES)]
    bodies = [_invitation(event, chunk) for event in events for chunk in chunks]
    return services.queues.onto(settings.invite_queue_url).enqueue(_json(bodies))


def _occurrences(services: Services, uid: str, series: EventDetails, fan_out: FanOut) -> list[EventDetails]:
    """Each changed occurrence as it now stands (its override, written with the change)."""
    from lambdas.domain.occurrence_answers import one_occurrence
    from lambdas.domain.series_overrides import series_with_overrides

    series, overrides = series_with_overrides(series, services.store.overrides(uid))
    return [
        dataclasses.replace(one_occurrence(series, overrides, occurrence), sequence=fan_out.sequence)
        for occurrence in fan_out.occurrences
    ]


def _revert_not_carried(services: Services, uid: str, sequence: int) -> None:
    """A whole REQUEST replaces the series: the occurrences it carries were written at its sequence
    with it, so an occurrence changed or cancelled before it and not carried is the series' own
    again (decisions.Apply.replaces_occurrences). Before the hand-over, so send invite's series
    carries what the organizer's calendar now holds; repeated with it, harmlessly."""
    for override in services.store.overrides(uid):
        if override.sequence is None or override.sequence < sequence:
            services.store.revert_override(uid, override.occurrence, sequence)


def _invitation(event: EventDetails, attendees: list[Person]) -> dict[str, Any]:
    return {"event": event.as_dict(), "attendees": [person.as_dict() for person in attendees]}


def _json(bodies: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(body) for body in bodies]
