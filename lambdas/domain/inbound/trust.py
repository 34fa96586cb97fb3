"""Whether an answer read from the internet may be recorded (issue 9, item 4).

iMIP has no authentication of its own (RFC 6047 §3): anyone can send a REPLY naming any attendee.
Two checks cost nothing: SES's verdicts on the message, and that the attendee who answers is the
mailbox the mail comes from. (Whether that attendee was invited, and to an event that is not
cancelled, is for the caller to check against the table.)
"""

from __future__ import annotations

from lambdas.domain.inbound.email import InboundEmail
from lambdas.domain.inbound.itip import CalendarAnswer
from lambdas.domain.inbound.notification import ReceivedMail

# Machine reasons, as they appear in log lines. The order of the checks is the order of these.
VIRUS = "virus"
DMARC_FAIL = "dmarc_fail"
SPAM = "spam"
NO_FROM = "no_from_address"
FROM_MISMATCH = "from_mismatch"


def distrust(mail: ReceivedMail, email: InboundEmail, answer: CalendarAnswer) -> str | None:
    """Why this answer must not be recorded, or None when nothing speaks against it."""
    verdicts = mail.verdicts
    if verdicts.virus == "FAIL":
        return VIRUS
    # DMARC FAIL: the From: domain's owner says this mail is not theirs. GRAY (no policy) and
    # PROCESSING_FAILED are not an accusation; the From: check below still applies.
    if verdicts.dmarc == "FAIL":
        return DMARC_FAIL
    if verdicts.spam == "FAIL":
        return SPAM
    if not email.from_address:
        return NO_FROM
    if answer.attendee.lower() != email.from_address.lower():
        return FROM_MISMATCH
    return None
