"""What a change still owes once it is written: its fan-out to the attendees, and the answers to the
organizer. Kept on the event item with the change itself, so nothing is lost between the write and
the sends (docs/organizer.md, "Nothing lost").

The write that stores a change also writes what it owes: the fan-out (``organizer_fan_out``: which
change, at which attendee sequence, made by which inbound mail) and each answer (``organizer_reply``,
``organizer_confirmation``: for which inbound mail). Each is cleared once done. A redelivery of the
mail, or the next change of the event, finds what is still owed and does it again: the fan-out is
repeated whole (send invite and send cancellation drop what an attendee was already sent at that
sequence), and an answer is claimed (with a lease, like a REFRESH) before it is sent, so two
deliveries never both send it. A copy of the mail that finds another copy's change written (a
duplicate) leaves that change's fan-out to it: it is alive, or its redelivery will come.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdas.domain.frozen import frozen
from lambdas.domain.items import EventItem
from lambdas.domain.organizer.decisions import Apply, OrganizerRecord
from lambdas.domain.organizer.outcomes import OrganizerOutcome

VERSION = "organizer_version"  # counts the organizer's changes written: each write is conditioned on it
FAN_OUT = "organizer_fan_out"
REPLY = "organizer_reply"  # the REPLY ACCEPTED to the organizer's calendar
CONFIRMATION = "organizer_confirmation"  # the plain mail telling the organizer the event's id
ANSWERS = (REPLY, CONFIRMATION)

# The changes that reach attendees, and how (lambdas.follow_organizer.fan_out).
FANNED_OUT = frozenset(
    {
        OrganizerOutcome.UPDATED,
        OrganizerOutcome.OCCURRENCES_CHANGED,
        OrganizerOutcome.CANCELLED,
        OrganizerOutcome.OCCURRENCES_CANCELLED,
    }
)


@frozen
class FanOut:
    """A change the attendees are still to be sent: which (an outcome), at which sequence, and for
    a change of occurrences, which ones (their stored form, ``items.occurrence_text``)."""

    change: OrganizerOutcome
    sequence: int
    occurrences: tuple[str, ...] = ()
    message: str = ""  # the inbound mail (SES message id) whose change it is

    def as_item(self) -> dict[str, Any]:
        return {
            "change": self.change.value,
            "sequence": self.sequence,
            "occurrences": list(self.occurrences),
            "message": self.message,
        }

    @classmethod
    def read(cls, stored: Any) -> FanOut | None:
        if not isinstance(stored, Mapping) or not isinstance(stored.get("sequence"), int):
            return None
        try:
            change = OrganizerOutcome(stored.get("change"))
        except ValueError:
            return None
        occurrences = stored.get("occurrences") or ()
        message = stored.get("message")
        return cls(change, stored["sequence"], tuple(str(o) for o in occurrences), str(message or ""))


@frozen
class PendingAnswer:
    """An answer still owed for the inbound mail ``message`` (its SES message id); ``claim`` and
    ``since`` name the delivery sending it, and since when."""

    message: str
    claim: str = ""
    since: float = 0.0

    @classmethod
    def read(cls, stored: Any) -> PendingAnswer | None:
        if not isinstance(stored, Mapping) or not isinstance(stored.get("message"), str):
            return None
        since = stored.get("since")
        return cls(stored["message"], str(stored.get("claim") or ""), float(since or 0))


@frozen
class OrganizerState:
    """The event item as the organizer's function reads it."""

    event: EventItem | None
    record: OrganizerRecord
    version: int | None = None
    fan_out: FanOut | None = None
    answers: tuple[tuple[str, PendingAnswer], ...] = ()  # (attribute, answer) still owed

    @classmethod
    def read(cls, uid: str, stored: Mapping[str, Any] | None) -> OrganizerState:
        if stored is None:
            return cls(event=None, record=OrganizerRecord())
        version = stored.get(VERSION)
        answers = tuple(
            (name, answer) for name in ANSWERS if (answer := PendingAnswer.read(stored.get(name))) is not None
        )
        return cls(
            event=EventItem.read(stored, uid=uid),
            record=OrganizerRecord.read(stored),
            version=version if isinstance(version, int) else None,
            fan_out=FanOut.read(stored.get(FAN_OUT)),
            answers=answers,
        )

    def owed(self, message: str) -> tuple[str, ...]:
        """The answers still owed for the inbound mail ``message``."""
        return tuple(name for name, answer in self.answers if answer.message == message)


def fan_out_of(change: Apply, inbound: str = "") -> FanOut | None:
    """What ``change``, made by the mail ``inbound``, owes the attendees: None for a new event (it
    has none yet)."""
    if not change.fan_out or change.outcome not in FANNED_OUT:
        return None
    from lambdas.domain.items import occurrence_text

    if change.outcome is OrganizerOutcome.OCCURRENCES_CHANGED:
        occurrences = tuple(occurrence_text(o.occurrence) for o in change.occurrences)
    elif change.outcome is OrganizerOutcome.OCCURRENCES_CANCELLED:
        occurrences = tuple(occurrence_text(o) for o in change.cancelled)
    else:
        occurrences = ()
    return FanOut(change.outcome, change.attendee_sequence, occurrences, inbound)


def answers_of(change: Apply) -> tuple[str, ...]:
    """What ``change`` owes the organizer: on a new event the REPLY and the confirmation, on a new
    version of the whole event the REPLY again (their calendar shows the server still accepts)."""
    if change.outcome is OrganizerOutcome.CREATED:
        return (REPLY, CONFIRMATION)
    if change.outcome is OrganizerOutcome.UPDATED and change.event is not None:
        return (REPLY,)
    return ()
