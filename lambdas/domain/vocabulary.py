"""The words the functions write into emails and into the table, and the intents of the requests
they read, each spelled once.

They are StrEnums: a member compares equal to its value, so what was stored as a plain string
reads back as the member, and the member is written as the plain string.
"""

from __future__ import annotations

from enum import StrEnum


class Method(StrEnum):
    """The iTIP method of an email (RFC 5546 §1.4), also recorded in the attendee's history."""

    REQUEST = "REQUEST"  # sent: an invitation or update
    CANCEL = "CANCEL"  # sent: a cancellation, or a removal
    REPLY = "REPLY"  # read: an attendee's answer
    COUNTER = "COUNTER"  # read: an attendee proposes another time
    REFRESH = "REFRESH"  # read: an attendee asks for the latest version


class EventStatus(StrEnum):
    """The event item's status, and the VEVENT STATUS the emails carry (RFC 5545 §3.8.1.11)."""

    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


class AttendeeStatus(StrEnum):
    """What the attendee item says the attendee was last sent."""

    INVITED = "invited"  # an invitation or update (REQUEST)
    CANCELLED = "cancelled"  # the cancellation of the whole event (CANCEL with STATUS:CANCELLED)
    REMOVED = "removed"  # removed from an event that goes on (CANCEL without STATUS)


class PartStat(StrEnum):
    """An attendee's participation status for a VEVENT (RFC 5545 §3.2.12)."""

    NEEDS_ACTION = "NEEDS-ACTION"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    TENTATIVE = "TENTATIVE"
    DELEGATED = "DELEGATED"


class Origin(StrEnum):
    """How an attendee came to be on the event, when the organizer did not invite them."""

    SHARED = "shared"  # answered a forwarded invitation (the original system's word)


class DeliveryState(StrEnum):
    """What SES last told about an attendee's email (docs/feedback.md), newest event first."""

    DELIVERED = "delivered"  # the recipient's mail server accepted it
    BOUNCED = "bounced"  # refused: for good (Permanent) or for now (Transient, Undetermined)
    COMPLAINED = "complained"  # the recipient reported it as spam
    DELAYED = "delayed"  # SES keeps trying (DeliveryDelay)
    REJECTED = "rejected"  # SES did not send it (Reject: a virus; or a rendering failure)


class BounceType(StrEnum):
    """SES's bounce types (the event's ``bounce.bounceType``); only Permanent suppresses."""

    PERMANENT = "Permanent"
    TRANSIENT = "Transient"
    UNDETERMINED = "Undetermined"


class CancelIntent(StrEnum):
    """What a cancellation asks for (``cancellation_contract.parse_cancellation`` reads it); see
    docs/message-contract.md."""

    # The uid alone, or scope "event" without an attendee: the event is cancelled and every
    # invited attendee is sent a CANCEL with STATUS:CANCELLED (fanned out, one per attendee).
    CANCEL_EVENT = "cancel-event"
    # A producer naming an attendee: that attendee is removed from an event that goes on for
    # everyone else (a CANCEL without STATUS, RFC 5546 §3.2.5); the event item is not cancelled.
    REMOVE_ATTENDEE = "remove-attendee"
    # One attendee's share of a whole-event cancellation: a CANCEL with STATUS:CANCELLED.
    NOTIFY_CANCELLED = "notify-cancelled"
