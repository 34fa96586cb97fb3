"""Send Event Invite, a series or one occurrence of one: what its REQUEST carries besides the
request itself (the occurrences changed and cancelled since, and those this attendee alone was
removed from), and when an occurrence's change is stale. Loaded by the first series or occurrence
handled, through ``as_carried`` and ``occurrence_is_stale``: a single event never loads it, nor the
series code it calls (docs/performance.md, "Cold start")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdas.domain.decisions import stale_occurrence_change
from lambdas.domain.items import occurrence_text
from lambdas.domain.series_overrides import series_with_overrides, without_excluded
from lambdas.domain.validation import FieldError, InvalidRequest
from lambdas.runtime.services import Services

if TYPE_CHECKING:
    from lambdas.domain.events import EventDetails
    from lambdas.domain.series import Override

NO_STORED_SERIES = FieldError("event.occurrence", "no stored series has this uid: invite the series first")
NOT_AN_OCCURRENCE = FieldError("event.occurrence", "is not an occurrence of the stored series")


def as_carried(
    services: Services, event: EventDetails, email: str
) -> tuple[EventDetails, tuple[Override, ...]] | None:
    """The series or occurrence (``event`` is one: the workflow sends a single event as it is) as
    this attendee's REQUEST carries it, and the changed occurrences it carries; None when the
    attendee was removed from this occurrence (nothing to send)."""
    excluded = _excluded_occurrences(services, event, email)
    if event.occurrence is not None and occurrence_text(event.occurrence) in excluded:
        return None
    return without_excluded(*_with_series(services, event), excluded)


def occurrence_is_stale(services: Services, event: EventDetails) -> bool:
    """An occurrence change needs its series stored, and is stale once the series changed after it."""
    stored = services.store.get_event(event.uid)
    series = stored.details() if stored else None
    if series is None or series.recurrence is None:
        raise InvalidRequest([NO_STORED_SERIES])
    if not series.recurrence.includes(event.occurrence):
        raise InvalidRequest([NOT_AN_OCCURRENCE])
    return stale_occurrence_change(event.sequence, stored)


def _excluded_occurrences(services: Services, event: EventDetails, email: str) -> tuple[str, ...]:
    """The occurrences this attendee alone was removed from: a series or occurrence REQUEST must
    not bring them back. One read (the claim's transaction returns no item)."""
    stored = services.store.get_attendee(event.uid, email)
    return stored.excluded_occurrences if stored else ()


def _with_series(services: Services, event: EventDetails) -> tuple[EventDetails, tuple[Override, ...]]:
    """What the REQUEST carries besides the request itself.

    An occurrence change is recorded first (so every later series message carries it, and a
    uid-only cancellation finds it), then sent alone. A series carries the occurrences changed
    since, when the rule still has them, and leaves out the ones cancelled."""
    if event.occurrence is not None:
        services.store.record_override(event.uid, _override_attributes(event))
        return event, ()
    return series_with_overrides(event, services.store.overrides(event.uid))


def _override_attributes(event: EventDetails) -> dict[str, Any]:
    return {
        "occurrence": occurrence_text(event.occurrence),
        "sequence": event.sequence,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "summary": event.summary,
        "description": event.description,
        "location": event.location,
        "cancelled": False,
    }
