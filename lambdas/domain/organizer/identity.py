"""The UID the attendees' copies of an organizer's event carry (docs/organizer.md, "Identity").

Not the organizer's own: an attendee the organizer also invited directly would otherwise hold two
invitations with one UID and two ORGANIZERs, and clients keep one event per UID (the second
silently becomes an update of the first, or is refused). Derived, not random: every copy of the
organizer's REQUEST, redelivered or concurrent, finds the same event item, and the organizer's
address is part of it, so no one reaches another organizer's event by reusing their UID.
"""

from __future__ import annotations

import base64
import hashlib

PREFIX = "cal-"  # tells a person reading a UID that it came from an organizer's calendar


def attendee_uid(organizer: str, organizer_uid: str, domain: str) -> str:
    """``cal-<32 base32 characters>@<domain>``: 160 bits of SHA-256 over the organizer's address
    (case-folded) and their UID (as sent: UIDs are case-sensitive, RFC 5545 §3.8.4.7)."""
    digest = hashlib.sha256(f"{organizer.strip().lower()}\n{organizer_uid}".encode()).digest()
    return f"{PREFIX}{base64.b32encode(digest[:20]).decode('ascii').lower()}@{domain.strip().lower()}"
