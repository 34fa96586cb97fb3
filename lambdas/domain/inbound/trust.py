"""How far an answer read from the internet can be trusted: three levels.

iMIP has no authentication of its own (RFC 6047 §3): anyone can send a REPLY naming any attendee.
What costs nothing: SES's verdicts on the message (with the From: domain's DMARC policy), and
whether the attendee who answers is the mailbox the mail comes from. (Whether that attendee was
invited, and to an event that is not cancelled, is for the caller to check against the table.)

- ``verified``: From: is the ATTENDEE (or a relay domain the deployment trusts sent it on the
  attendee's behalf), and DMARC did not fail. Recorded and counted.
- ``unverified``: the answer may well be the attendee's, but nothing proves it: relayed mail
  (From: is not the attendee, Reply-To: or Sender: is; Nextcloud's IMipPlugin sends so), or DMARC
  FAIL under ``p=none`` (the domain's owner asks receivers to take no action, RFC 7489 §6.3).
  Kept apart with its reason, shown to the organizer, never counted.
- ``untrusted``: virus, spam, DMARC FAIL under ``quarantine``/``reject`` (or an unknown policy),
  no From:, or a From: with no relation to the attendee. Refused.

The threat model, level by level: docs/replies.md, "Trust".
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from lambdas.domain.frozen import frozen
from lambdas.domain.inbound.email import InboundEmail
from lambdas.domain.inbound.notification import ReceivedMail, Verdicts

if TYPE_CHECKING:
    from lambdas.domain.inbound.itip import CalendarAnswer

# Machine reasons, as they appear in log lines and on the attendee item.
VIRUS = "virus"
DMARC_FAIL = "dmarc_fail"
SPAM = "spam"
NO_FROM = "no_from_address"
FROM_MISMATCH = "from_mismatch"
RELAYED = "relayed"  # From: is not the attendee; Reply-To: or Sender: is
DMARC_FAIL_POLICY_NONE = "dmarc_fail_policy_none"
TRUSTED_RELAY = "trusted_relay"  # relayed by a domain the deployment names (verified)

# DMARC policies under which a FAIL asks for no action (RFC 7489 §6.3). Any other value, or none
# (SES sends the policy only with a FAIL), is taken as the domain's owner disowning the mail.
_NO_ACTION_POLICIES = frozenset({"none"})


class TrustLevel(StrEnum):
    VERIFIED = "verified"
    UNVERIFIED = "unverified"
    UNTRUSTED = "untrusted"


@frozen
class Trust:
    level: TrustLevel
    reason: str = ""  # why not verified (or "trusted_relay"); "" for plain verified mail
    relayed_by: str = ""  # the From: address of relayed mail


def trust(
    mail: ReceivedMail,
    email: InboundEmail,
    answer: CalendarAnswer,
    trusted_relays: frozenset[str] = frozenset(),
) -> Trust:
    """The answer's trust level and why. ``trusted_relays``: lower-case domains whose relayed
    answers count as the attendee's own."""
    condemned = condemned_by_verdicts(mail.verdicts)
    if condemned:
        return _untrusted(condemned)
    dmarc_failed = mail.verdicts.dmarc == "FAIL"  # under p=none, by now: unverified at most
    if not email.from_address:
        return _untrusted(NO_FROM)
    attendee = answer.attendee.lower()
    if attendee == email.from_address:
        if dmarc_failed:
            return Trust(TrustLevel.UNVERIFIED, DMARC_FAIL_POLICY_NONE)
        return Trust(TrustLevel.VERIFIED)
    if attendee not in email.reply_to and attendee != email.sender_address:
        return _untrusted(FROM_MISMATCH)
    relay = email.from_address
    if dmarc_failed:
        return Trust(TrustLevel.UNVERIFIED, DMARC_FAIL_POLICY_NONE, relay)
    if _domain(relay) in trusted_relays:
        return Trust(TrustLevel.VERIFIED, TRUSTED_RELAY, relay)
    return Trust(TrustLevel.UNVERIFIED, RELAYED, relay)


def condemned_by_verdicts(verdicts: Verdicts) -> str | None:
    """The reason SES's verdicts alone make every answer of the mail untrusted, else None.

    The first rules of ``trust``, and all of them that need nothing but the notification: the
    caller decides them before reading the mail. A DMARC FAIL under ``p=none`` is not among them:
    it makes an answer unverified or untrusted depending on the mail's From: (read from the mail).
    """
    if verdicts.virus == "FAIL":
        return VIRUS
    if verdicts.spam == "FAIL":
        return SPAM
    # GRAY (no policy published) and PROCESSING_FAILED are not an accusation.
    if verdicts.dmarc == "FAIL" and verdicts.dmarc_policy not in _NO_ACTION_POLICIES:
        return DMARC_FAIL
    return None


def distrust(mail: ReceivedMail, email: InboundEmail, answer: CalendarAnswer) -> str | None:
    """Why this answer must not be recorded as the attendee's own, or None when it is verified."""
    level = trust(mail, email, answer)
    return None if level.level is TrustLevel.VERIFIED else level.reason


def _untrusted(reason: str) -> Trust:
    return Trust(TrustLevel.UNTRUSTED, reason)


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()
