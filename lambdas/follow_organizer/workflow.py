"""Follow Organizer: one SES receipt notification for the event address in, one outcome out.

notification -> its origin (the event address's receipt rule, else the DLQ) and SES's verdicts
(what they condemn is refused unread) -> the raw email from S3 -> the organizer's REQUEST or CANCEL
(lambdas.domain.organizer.reading) -> trust (``check_sender``) -> the attendees' UID -> decided on
the event item, written with what the change owes (the fan-out, the answers; what an earlier change
still owes is handed over before anything is written over it), decided again on a refused write
(lambdas.domain.decide_again) -> the fan-out handed to the send functions' queues (``fan_out``) ->
the answers to the organizer (``answers``). docs/organizer.md.
"""

from __future__ import annotations

from typing import Any

from lambdas.adapters.mailbox import MailMissing, MailTooLarge
from lambdas.domain.decide_again import DECIDE_ATTEMPTS, Refused, decide_and_write
from lambdas.domain.inbound.email import InboundEmail
from lambdas.domain.inbound.notification import ReceivedMail
from lambdas.domain.organizer.decisions import Apply, decide
from lambdas.domain.organizer.identity import attendee_uid
from lambdas.domain.organizer.outcomes import OrganizerOutcome
from lambdas.domain.organizer.outcomes import Refused as Refusal
from lambdas.domain.organizer.pending import OrganizerState, answers_of, fan_out_of
from lambdas.domain.organizer.reading import OrganizerMessage, read_organizer_email
from lambdas.domain.organizer.trust import OrganizerPolicy, check_sender
from lambdas.domain.outcomes import SharedOutcome
from lambdas.domain.validation import FieldError, InvalidRequest
from lambdas.follow_organizer.answers import answer_organizer
from lambdas.follow_organizer.fan_out import settle_fan_out
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.receiving import MAX_SUBJECT_LOGGED, screened, where
from lambdas.runtime.services import Services


def handle_organizer_mail(services: Services, record: dict[str, Any]) -> RecordResult:
    mail = screened(services, record, OrganizerOutcome)
    if isinstance(mail, RecordResult):
        return mail
    email, reading = _read_stored_email(services, mail)
    fields = {**where(mail), "from": email.from_address, "subject": email.subject[:MAX_SUBJECT_LOGGED]}
    if reading is None:
        # Never forwarded nor answered: it stays in the bucket until it expires.
        kind = {"automatic": email.automatic_reason} if email.automatic else {}
        reason = "no iTIP calendar: kept in the bucket, not forwarded"
        return RecordResult(OrganizerOutcome.NOT_CALENDAR, fields={**fields, **kind, "reason": reason})
    if reading.refusal is not None:
        return _refused(reading.refusal, {**fields, "method": reading.method})
    message = reading.message
    fields |= {
        "method": message.method,
        "organizerUid": message.uid,
        "organizerSequence": message.sequence,
        "kind": message.kind,
    }
    refusal = check_sender(
        mail.verdicts, email, message, OrganizerPolicy.from_entries(services.settings.allowed_organizers)
    )
    if refusal is not None:
        return _refused(refusal, fields)
    uid = attendee_uid(message.organizer.email, message.uid, services.settings.sender.rpartition("@")[2])
    fields["uid"] = uid
    return _follow(services, mail, email, message, uid, fields)


def _read_stored_email(services: Services, mail: ReceivedMail):
    try:
        with services.mailbox.open(mail.bucket, mail.object_key) as stream:
            return read_organizer_email(stream)
    except (MailMissing, MailTooLarge) as gone:
        # Retrying cannot bring it back: the notification goes to the DLQ, naming where it was.
        raise InvalidRequest([FieldError("receipt.action.objectKey", str(gone))]) from None


def _follow(
    services: Services,
    mail: ReceivedMail,
    email: InboundEmail,
    message: OrganizerMessage,
    uid: str,
    fields: dict[str, Any],
) -> RecordResult:
    """Decide on the event item, write the change with what it owes, then do what it owes."""
    now = services.clock()
    event_address = services.settings.sender
    # A whole REQUEST says whom the organizer's own calendar invites (docs/organizer.md, "Identity").
    invited_directly = (
        tuple(p.email for p in message.attendees if p.email != event_address)
        if message.event is not None
        else None
    )

    def write(change: Apply, state: OrganizerState) -> Refused[OrganizerState] | None:
        # What an earlier change still owes the attendees is handed over before anything is
        # written over it (the write's condition: nothing owed).
        state = settle_fan_out(services, uid, state)
        answers = {attribute: mail.ses_message_id for attribute in answers_of(change)}
        refused = services.store.write_organizer_change(
            uid,
            change,
            state,
            fan_out_of(change, mail.ses_message_id),
            answers,
            now.isoformat(timespec="seconds"),
            invited_directly,
        )
        return None if refused is None else Refused(refused.items)

    settled = decide_and_write(
        services.store.organizer_state(uid),
        decide=lambda state: decide(message, state.event, state.record, uid),
        writes=lambda decision: isinstance(decision, Apply),
        write=write,
    )
    if settled is None:
        reason = f"the event item changed under every one of {DECIDE_ATTEMPTS} attempts: decided again later"
        return RecordResult(SharedOutcome.RETRY_LATER, fields={**fields, "reason": reason})
    decision = settled.decision
    if not settled.written:
        # A redelivery of a mail whose change was written: what is still owed for it is done now.
        state = settled.items
        if state.fan_out is not None and state.fan_out.message == mail.ses_message_id:
            state = settle_fan_out(services, uid, state)
        return _refused(decision, {**fields, **_answer(services, mail, email, message, uid, state)})
    state = settle_fan_out(services, uid, services.store.organizer_state(uid))
    more = {"sequence": decision.attendee_sequence, **_answer(services, mail, email, message, uid, state)}
    if decision.fan_out:
        more["handedOver"] = state.fan_out is None
    return RecordResult(decision.outcome, fields={**fields, **more})


def _answer(
    services: Services,
    mail: ReceivedMail,
    email: InboundEmail,
    message: OrganizerMessage,
    uid: str,
    state: OrganizerState,
) -> dict[str, Any]:
    owed = state.owed(mail.ses_message_id)
    if not owed:
        return {}
    if email.automatic:
        # Automatic mail is never answered, so two robots cannot loop (docs/replies.md).
        return {"answered": [], "reason": f"automatic mail ({email.automatic_reason}) is never answered"}
    sent = answer_organizer(services, uid, mail.ses_message_id, message, owed)
    return {"answered": sorted(sent)} if sent else {}


def _refused(refusal: Refusal, fields: dict[str, Any]) -> RecordResult:
    return RecordResult(refusal.outcome, fields={**fields, "reason": refusal.reason})
