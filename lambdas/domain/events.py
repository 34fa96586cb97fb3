"""An event as every function knows it: its details and its people, as the message contract
gives them (``contract``), as the table stores them (``items``) and as the calendar is written
from them (``calendar``).

Apart from the contract's parsing, which only the send functions run: record reply and record
feedback read events from the table and never load the parser (docs/performance.md, "Cold start").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from lambdas.domain.frozen import frozen

if TYPE_CHECKING:
    # The recurrence rules are imported by the first series or occurrence only: a single event's
    # cold start never loads them (docs/performance.md, "Cold start").
    from lambdas.domain.recurrence import Recurrence

MAX_EMAIL = 254  # characters of an address (RFC 5321's path less its brackets)


@frozen
class Person:
    email: str
    name: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"email": self.email, "name": self.name} if self.name else {"email": self.email}


@frozen
class EventDetails:
    uid: str
    sequence: int
    summary: str
    start: date | datetime
    end: date | datetime
    organizer: Person
    description: str = ""
    location: str = ""
    timezone: str = ""
    # A series: its RRULE value and the starts it leaves out (lambdas/domain/recurrence.py).
    rrule: str = ""
    exdates: tuple[date | datetime, ...] = ()
    # One occurrence of a series changed: its original start (the RECURRENCE-ID); start, end and
    # the details are the occurrence's own.
    occurrence: date | datetime | None = None

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def recurrence(self) -> Recurrence | None:
        """The series as a ``Recurrence``, or None for a single event or one occurrence."""
        if not self.rrule:
            return None
        from lambdas.domain.recurrence import Recurrence

        return Recurrence(self.rrule, self.start, self.exdates)

    def as_dict(self) -> dict[str, Any]:
        """The contract form of the event, as stored and as re-enqueued on fan-out."""
        data: dict[str, Any] = {
            "uid": self.uid,
            "sequence": self.sequence,
            "summary": self.summary,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "organizer": self.organizer.as_dict(),
        }
        for name in ("description", "location", "timezone", "rrule"):
            if value := getattr(self, name):
                data[name] = value
        if self.exdates:
            data["exdates"] = [value.isoformat() for value in self.exdates]
        if self.occurrence is not None:
            data["occurrence"] = self.occurrence.isoformat()
        return data
