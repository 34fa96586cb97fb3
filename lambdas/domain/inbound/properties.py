"""Values of an iCalendar property in mail from the internet, read the same way by the answers
(``itip``) and by an organizer's message (``lambdas.domain.organizer.reading``): text without
control characters, an address without ``mailto:``, a decoded value that never raises, and a TZID
that cannot break icalendar's parse.

Its own module so that the organizer's function, which reads no answers, does not compile the
answer reader at its cold start (docs/performance.md, "Cold start").
"""

from __future__ import annotations

import re

from icalendar.timezone import tzp

from lambdas.domain.validation import CONTROL, CONTROL_EXCEPT_NEWLINE_TAB

MAX_ADDRESS = 320  # a calendar user address as read: an email address is at most 254, mailto: added

_MAILTO = re.compile(r"^\s*mailto:", re.IGNORECASE)
# TZID=<value> as a parameter (an escaped "\\;" in a TEXT value is not one).
_TZID_PARAMETER = re.compile(r'(?<!\\);TZID=("[^"]*"|[^;:\n]*)', re.IGNORECASE)


def text(value, max_len: int, *, multiline: bool = False) -> str:
    """Single-line (or LF/TAB-only) text without control characters, at most max_len characters."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    found = value if isinstance(value, str) else str(value)
    found = found.replace("\r\n", "\n")
    found = (CONTROL_EXCEPT_NEWLINE_TAB if multiline else CONTROL).sub("" if multiline else " ", found)
    return found.strip()[:max_len]


def address_of(value) -> str:
    """A calendar user address as an email address: mailto: (any case) stripped, lower-cased."""
    found = _MAILTO.sub("", text(value, MAX_ADDRESS)).strip().strip('"').strip()
    return found.lower() if "@" in found else ""


def decoded(event, name: str):
    """The property's decoded value, or None when it is missing or broken."""
    if name not in event:
        return None
    try:
        return event.decoded(name)
    except Exception:  # a broken value: icalendar keeps it as vBroken, decoding may raise
        return None


def floating_unresolvable_tzids(calendar: str) -> str:
    """The calendar with every TZID parameter that makes icalendar's zone lookup raise removed,
    so the time reads as floating.

    icalendar looks a TZID up in tzdata while parsing and lets OSErrors through: ``TZID=Pacific``
    (as old Lotus Notes and iCal 1.5 write it) opens tzdata's ``Pacific/`` folder and raises
    IsADirectoryError, which would drop a whole answer whose ATTENDEE, PARTSTAT, UID and SEQUENCE
    are all readable. A TZID that merely does not exist already reads as floating; these now do too.
    Unfolded text in, unfolded text out."""
    found = set(_TZID_PARAMETER.findall(calendar))
    poison = {value for value in found if not _lookup_is_safe(value.strip('"'))}
    if not poison:
        return calendar
    return _TZID_PARAMETER.sub(lambda m: "" if m.group(1) in poison else m.group(0), calendar)


def _lookup_is_safe(tzid: str) -> bool:
    try:
        tzp.timezone(tzid)
    except Exception:  # IsADirectoryError, PermissionError, UnicodeError...: anything but "not found"
        return False
    return True
