"""A series as a REQUEST carries it, from what the table stores: the occurrences changed since
(their override items) when the rule still has them, the cancelled ones as EXDATEs, and for one
attendee the occurrences they alone were removed from. Loaded by the first series handled: a
single event never loads it (docs/performance.md, "Cold start")."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from lambdas.domain.items import OverrideItem, stored_time

if TYPE_CHECKING:
    from lambdas.domain.events import EventDetails
    from lambdas.domain.series import Override


def series_with_overrides(
    event: EventDetails, recorded: list[OverrideItem]
) -> tuple[EventDetails, tuple[Override, ...]]:
    """A series as its REQUEST carries it: the occurrences changed since, when the rule still has
    them, and the cancelled ones left out (as EXDATEs)."""
    zone = event.timezone
    cancelled = {o.occurrence_time(zone) for o in recorded if o.cancelled} - {None}
    changed = [o.override(zone) for o in recorded if not o.cancelled]
    recurrence = event.recurrence
    live = tuple(
        o
        for o in changed
        if o is not None and o.occurrence not in cancelled and recurrence.includes(o.occurrence)
    )
    exdates = tuple(sorted(set(event.exdates) | {c for c in cancelled if recurrence.includes(c)}))
    return dataclasses.replace(event, exdates=exdates), live


def without_excluded(
    event: EventDetails, overrides: tuple[Override, ...], excluded: tuple[str, ...]
) -> tuple[EventDetails, tuple[Override, ...]]:
    """A series as one attendee's REQUEST carries it: the occurrences they alone were removed from
    (``AttendeeItem.excluded_occurrences``) become EXDATEs for them, and their changes are left out,
    so that no later update brings those occurrences back to them (sabre/vobject's Broker does the
    same for an attendee missing from some instances: EXDATEs on their copy of the master)."""
    recurrence = event.recurrence
    if recurrence is None or not excluded:
        return event, overrides
    times = {t for t in (stored_time(x, event.timezone) for x in excluded) if t is not None}
    times = {t for t in times if recurrence.includes(t)}
    if not times:
        return event, overrides
    exdates = tuple(sorted(set(event.exdates) | times))
    return dataclasses.replace(event, exdates=exdates), tuple(
        o for o in overrides if o.occurrence not in times
    )
