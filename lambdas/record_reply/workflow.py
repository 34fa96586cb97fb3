"""Record Reply: one SES receipt notification in, one outcome out.

notification -> its origin (the receipt rule's own, else the DLQ) and SES's verdicts (what they
condemn is refused unread) -> the raw email from S3 (streamed, bounded) -> its iTIP answers -> for
each answer: trust, then the table's rules (lambdas.domain.replies), written with optimistic concurrency:
decided, written as read, decided again on refusal (lambdas.domain.decide_again).
The rules and their reasons: docs/replies.md, "Recording".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lambdas.adapters.mailbox import MailMissing, MailTooLarge
from lambdas.adapters.reply_expressions import Received
from lambdas.domain.decide_again import decide_and_write
from lambdas.domain.inbound.email import InboundEmail
from lambdas.domain.inbound.itip import CalendarAnswer, read_email
from lambdas.domain.inbound.notification import ReceivedMail
from lambdas.domain.inbound.trust import Trust, TrustLevel, trust
from lambdas.domain.replies import Refusal, ReplyOutcome, decide_reply
from lambdas.domain.validation import FieldError, InvalidRequest
from lambdas.domain.vocabulary import Method
from lambdas.record_reply.answers import Answered, contended, refused
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.receiving import MAX_SUBJECT_LOGGED, screened, where
from lambdas.runtime.services import Services


def handle_received_mail(services: Services, record: dict[str, Any]) -> RecordResult:
    mail = screened(services, record, ReplyOutcome)
    if isinstance(mail, RecordResult):
        return mail
    email = _read_stored_email(services, mail)
    fields = {**where(mail), "from": email.from_address, "subject": email.subject[:MAX_SUBJECT_LOGGED]}
    if not email.answers:
        if email.calendar_error:
            return RecordResult(
                ReplyOutcome.MALFORMED_CALENDAR, fields={**fields, "reason": email.calendar_error}
            )
        # Never forwarded: relaying untrusted mail from our SES identity would spend its sending
        # reputation and break DMARC alignment (docs/replies.md, "Recording"). It stays in the bucket
        # until it expires; this line says where to read it.
        reason = "no iTIP calendar: kept in the bucket, not forwarded"
        kind = {"automatic": email.automatic_reason} if email.automatic else {}
        return RecordResult(ReplyOutcome.NOT_CALENDAR, fields={**fields, **kind, "reason": reason})
    if email.calendar_error:
        fields["calendarError"] = email.calendar_error
    answered = [_answer(services, mail, email, answer) for answer in email.answers]
    return _result(answered, fields)


def _read_stored_email(services: Services, mail: ReceivedMail) -> InboundEmail:
    try:
        with services.mailbox.open(mail.bucket, mail.object_key) as stream:
            return read_email(stream)
    except (MailMissing, MailTooLarge) as gone:
        # Retrying cannot bring it back: the notification goes to the DLQ, where it still names
        # the sender and subject (docs/replies.md, "Recording").
        raise InvalidRequest([FieldError("receipt.action.objectKey", str(gone))]) from None


def _result(answered: list[Answered], fields: dict[str, Any]) -> RecordResult:
    """One outcome per record: a retry if any answer needs one (the others are duplicates then)."""
    retried = [a for a in answered if a[0].retry]
    outcome, first = (retried or answered)[0]
    if len(answered) == 1:
        return RecordResult(outcome, fields={**fields, **first})
    answers = [{"outcome": o.value, **f} for o, f in answered]
    return RecordResult(outcome, fields={**fields, "answers": answers})


def _answer(services: Services, mail: ReceivedMail, email: InboundEmail, answer: CalendarAnswer) -> Answered:
    fields: dict[str, Any] = {
        "uid": answer.uid,
        "attendee": answer.attendee,
        "method": answer.method,
        "sequence": answer.sequence,
    }
    if answer.partstat:
        fields["partstat"] = answer.partstat
    if answer.dtstamp is None:
        # Neither DTSTAMP nor a readable Date: ordered by when SES received it (the same on every
        # redelivery, so a redelivered copy is still the same answer).
        received_at = mail.received_at or services.clock()
        answer = dataclasses.replace(answer, dtstamp=received_at, dtstamp_from="received")
    if answer.dtstamp_from != "DTSTAMP":
        fields["orderedBy"] = answer.dtstamp_from
    trusted = trust(mail, email, answer, services.settings.trusted_relay_domains)
    if trusted.level is TrustLevel.UNTRUSTED:
        return ReplyOutcome.UNTRUSTED, {**fields, "reason": trusted.reason}
    if trusted.relayed_by:
        fields["relayedBy"] = trusted.relayed_by
    if trusted.level is TrustLevel.UNVERIFIED:
        received = Received(mail.ses_message_id, services.clock().isoformat(timespec="seconds"))
        outcome, more = _unverified(services, answer, trusted, received)
        return outcome, {**fields, "trust": trusted.reason, **more}
    if answer.recurrence_id:
        fields["recurrenceId"] = answer.recurrence_id
        if answer.method == Method.COUNTER:
            reason = "a proposal for one occurrence (RECURRENCE-ID) is not kept; the series' is"
            return ReplyOutcome.UNSUPPORTED, {**fields, "reason": reason}
    if answer.method == Method.REFRESH and email.automatic:
        # docs/replies.md: automatic mail is never answered, so two robots cannot loop.
        reason = f"automatic mail ({email.automatic_reason}) is never answered"
        return ReplyOutcome.SKIPPED, {**fields, "reason": reason}
    step = _STEPS.get(answer.method)
    if answer.recurrence_id and answer.method == Method.REPLY:
        step = _occurrence_reply
    if step is None:
        return ReplyOutcome.UNSUPPORTED, {
            **fields,
            "reason": f"METHOD:{answer.method} is not an attendee's answer",
        }
    received = Received(mail.ses_message_id, services.clock().isoformat(timespec="seconds"))
    outcome, more = step(services, answer, received)
    return outcome, {**fields, **more}


def _reply(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    settled = decide_and_write(
        services.store.event_and_attendee(answer.uid, answer.attendee),
        decide=lambda items: decide_reply(answer, *items),
        writes=lambda change: not isinstance(change, Refusal),
        write=lambda change, items: services.store.record_reply(answer, change, received, *items),
    )
    if settled is None:
        return contended("the event or attendee item")
    change = settled.decision
    if not settled.written:
        return refused(change)
    return change.outcome, {"countedAs": change.counted_as, "version": change.version}


def _unverified(services: Services, answer: CalendarAnswer, trusted: Trust, received: Received) -> Answered:
    # Loaded by the first answer kept apart (unverified, or a proposal): most are verified REPLYs.
    from lambdas.record_reply.kept import record_unverified

    return record_unverified(services, answer, trusted, received)


def _counter(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    from lambdas.record_reply.kept import record_counter

    return record_counter(services, answer, received)


def _occurrence_reply(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    # Loaded by the first answer for one occurrence: most answers are the whole event's or series'.
    from lambdas.record_reply.occurrence import record_occurrence_reply

    return record_occurrence_reply(services, answer, received)


def _refresh(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    # Loaded by the first REFRESH, the one answer that sends an email (with the rendering).
    from lambdas.record_reply.refresh import send_again

    return send_again(services, answer, received)


_STEPS = {Method.REPLY: _reply, Method.COUNTER: _counter, Method.REFRESH: _refresh}
