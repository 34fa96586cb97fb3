"""What a mail to the event address ended as: one outcome per record, in its structured log line.

None is retried: each is decided from the mail and the stored event, and the same mail decides the
same way again. A transient error (the table, S3) ends as ``SharedOutcome.FAILED`` instead, and a
write refused under every attempt as ``SharedOutcome.RETRY_LATER`` (lambdas.domain.outcomes).
"""

from __future__ import annotations

import logging

from lambdas.domain.frozen import frozen
from lambdas.domain.outcomes import Outcome


class OrganizerOutcome(Outcome):
    """What a REQUEST or CANCEL from an organizer's calendar led to (docs/organizer.md)."""

    CREATED = "event_created"  # a new event is stored; the organizer is answered ACCEPTED
    UPDATED = "event_updated"  # the stored event follows the organizer's change; attendees are sent it
    OCCURRENCES_CHANGED = "occurrences_changed"  # occurrences moved or changed (RECURRENCE-ID)
    CANCELLED = "event_cancelled"  # the event is cancelled for everyone invited
    OCCURRENCES_CANCELLED = "occurrences_cancelled"  # occurrences of a series are cancelled
    DUPLICATE = "duplicate"  # the same version (SEQUENCE and DTSTAMP) is already stored
    STALE = "stale"  # an older version than the one stored: nothing changes
    # Refused, nothing changed, nothing sent: the sender failed the checks (docs/organizer.md, "Trust").
    UNTRUSTED = "untrusted", False, logging.WARNING  # a verdict, no From:, or relayed mail
    # Anyone may invite the event address (a forwarded invitation, an organizer not yet listed):
    # logged with its reason, not a warning. The two below are someone reaching for another's event.
    NOT_ALLOWED = "organizer_not_allowed"  # From: is not on the allow-list
    ANOTHER_ORGANIZER = "another_organizer", False, logging.WARNING  # ORGANIZER is not the sender
    OWNED_BY_ANOTHER = "owned_by_another_organizer", False, logging.WARNING  # the UID is someone else's
    UNKNOWN_EVENT = "unknown_event"  # a change or cancellation of an event this server does not hold
    CANCELLED_EVENT = "cancelled_event"  # a REQUEST for an event already cancelled
    NOT_CALENDAR = "not_calendar"  # no calendar in the mail (an auto-reply, a person writing)
    MALFORMED_CALENDAR = "malformed_calendar"  # every problem named (as record reply logs it)
    UNSUPPORTED = "unsupported"  # another METHOD (PUBLISH, REPLY, COUNTER...), or RDATE
    IGNORED = "ignored"  # SES's setup notification for a new receipt rule: not an email


@frozen
class Refused:
    """Why nothing is changed: the record's outcome, and the reason its log line gives."""

    outcome: OrganizerOutcome
    reason: str
