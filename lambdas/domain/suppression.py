"""Suppression: which feedback stops every later send to an address, and how a suppressed attendee
is named in a log line. Apart from the send decisions (``decisions``) because record feedback and
record reply use these two and none of those (docs/performance.md, "Cold start")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdas.domain.vocabulary import BounceType, DeliveryState

if TYPE_CHECKING:
    from lambdas.domain.items import AttendeeItem


def suppresses(state: DeliveryState | None, bounce_type: BounceType | None) -> bool:
    """Whether feedback means "never send to this address again": a Permanent bounce (SES's own
    account-level suppression list is one: subtype OnAccountSuppressionList) or a complaint.

    A Transient or Undetermined bounce (a full mailbox, a server down) and a delay do not: SES
    already retried, and the next email may well arrive.
    """
    return state is DeliveryState.COMPLAINED or (
        state is DeliveryState.BOUNCED and bounce_type is BounceType.PERMANENT
    )


def suppression_fields(attendee: AttendeeItem | None) -> dict[str, str]:
    """Why an attendee's email was not sent, for the ``suppressed`` log line."""
    suppressed = attendee.suppressed if attendee else None
    if suppressed is None:
        return {}
    reason = suppressed.reason.value if suppressed.reason else "unknown"
    return {
        "reason": f"{reason}: {suppressed.detail}" if suppressed.detail else reason,
        "suppressedAt": suppressed.at,
        "suppressedBy": suppressed.message_id,
    }
