"""Whether the sender of a mail to the event address may create or change events.

An organizer's message makes the server send mail to every attendee in the organizer's name, so it
asks more than an answer does (lambdas.domain.inbound.trust): there is no "unverified" level here.
Each check below refuses with its own outcome and reason, and nothing is stored or sent:

1. SES's verdicts, as record reply reads them (``condemned_by_verdicts``: virus, spam, DMARC FAIL
   under an enforcing policy), and also a DMARC FAIL under ``p=none``: a domain that merely
   monitors still did not vouch for this From: (docs/organizer.md, "Trust").
2. A single From: address. Relayed mail (the ORGANIZER in Reply-To: or Sender: only) is refused:
   whoever relays it is not the organizer, and no relay is trusted to speak for one.
3. From: on the allow-list (addresses or whole domains; empty allows nobody).
4. The calendar's ORGANIZER is the From: address: an allowed sender cannot run someone else's event.

Whether the UID already belongs to another organizer is for ``decisions`` (it needs the table).
"""

from __future__ import annotations

from collections.abc import Iterable

from lambdas.domain.frozen import frozen
from lambdas.domain.inbound.email import InboundEmail
from lambdas.domain.inbound.notification import Verdicts
from lambdas.domain.inbound.trust import (
    DMARC_FAIL_POLICY_NONE,
    FROM_MISMATCH,
    NO_FROM,
    RELAYED,
    condemned_by_verdicts,
)
from lambdas.domain.organizer.outcomes import OrganizerOutcome, Refused
from lambdas.domain.organizer.reading import OrganizerMessage

__all__ = [
    "DMARC_FAIL_POLICY_NONE",
    "FROM_MISMATCH",
    "NOT_ON_ALLOW_LIST",
    "NO_FROM",
    "RELAYED",
    "OrganizerPolicy",
    "check_sender",
]

NOT_ON_ALLOW_LIST = "not_on_allow_list"


@frozen
class OrganizerPolicy:
    """Who may run events from their calendar: whole addresses, and domains (every address there)."""

    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> OrganizerPolicy:
        """From the CDK context's list: ``alice@example.org`` is one address; ``example.org`` or
        ``@example.org`` is a domain. Case does not matter; blank entries are ignored."""
        addresses, domains = set(), set()
        for entry in entries:
            text = entry.strip().lower()
            if not text:
                continue
            if text.startswith("@"):
                domains.add(text[1:])
            elif "@" in text:
                addresses.add(text)
            else:
                domains.add(text)
        return cls(frozenset(addresses), frozenset(domains))

    def allows(self, address: str) -> bool:
        address = address.strip().lower()
        return address in self.addresses or address.rpartition("@")[2] in self.domains


def check_sender(
    verdicts: Verdicts, email: InboundEmail, message: OrganizerMessage, policy: OrganizerPolicy
) -> Refused | None:
    """None when the sender may act on ``message``; else the first check it fails."""
    condemned = condemned_by_verdicts(verdicts)
    if condemned:
        return Refused(OrganizerOutcome.UNTRUSTED, condemned)
    if verdicts.dmarc == "FAIL":  # under p=none, by now (an enforcing policy was condemned above)
        return Refused(OrganizerOutcome.UNTRUSTED, DMARC_FAIL_POLICY_NONE)
    sender = email.from_address
    if not sender:
        return Refused(OrganizerOutcome.UNTRUSTED, NO_FROM)
    organizer = message.organizer.email
    if sender != organizer and (organizer in email.reply_to or organizer == email.sender_address):
        return Refused(
            OrganizerOutcome.UNTRUSTED, f"{RELAYED}: From: {sender} is not the ORGANIZER {organizer}"
        )
    if not policy.allows(sender):
        return Refused(OrganizerOutcome.NOT_ALLOWED, f"{NOT_ON_ALLOW_LIST}: {sender}")
    if sender != organizer:
        return Refused(
            OrganizerOutcome.ANOTHER_ORGANIZER,
            f"{FROM_MISMATCH}: ORGANIZER {organizer} is not the sender {sender}",
        )
    return None
