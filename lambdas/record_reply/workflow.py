"""Record Reply: one SES receipt notification in, one outcome out.

notification -> the raw email from S3 (streamed, bounded) -> its iTIP answers -> for each answer:
trust, then the table's rules (lambdas.domain.replies), written with optimistic concurrency.
The rules and their reasons: docs/replies.md, "Recording".
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lambdas.adapters.mailbox import MailMissing, MailTooLarge
from lambdas.adapters.reply_expressions import Received
from lambdas.domain.decisions import Outcome, itip_status, suppression_fields
from lambdas.domain.inbound.email import CalendarAnswer, InboundEmail, read_email
from lambdas.domain.inbound.notification import ReceivedMail, SetupNotification, parse_receipt_notification
from lambdas.domain.inbound.trust import Trust, TrustLevel, trust
from lambdas.domain.items import series_with_overrides, without_excluded
from lambdas.domain.occurrence_answers import answered_occurrence, decide_occurrence_reply, one_occurrence
from lambdas.domain.replies import (
    MAX_REFRESHES,
    Refusal,
    decide_counter,
    decide_refresh,
    decide_reply,
    decide_unverified,
    event_refusal,
)
from lambdas.domain.validation import FieldError, InvalidRequest
from lambdas.domain.vocabulary import Method, PartStat
from lambdas.runtime.batch import RecordResult
from lambdas.runtime.delivery import send_itip
from lambdas.runtime.services import Services

# A write refused because another writer changed the items is decided again on the items as that
# writer left them (the refusal returns them). Each refusal means someone else's write succeeded,
# so a few attempts settle even twelve concurrent copies; past them SQS retries the record.
DECIDE_ATTEMPTS = 5
MAX_SUBJECT_LOGGED = 200

Answered = tuple[Outcome, dict[str, Any]]


def handle_received_mail(services: Services, record: dict[str, Any]) -> RecordResult:
    try:
        mail = parse_receipt_notification(record.get("body"))  # InvalidRequest: the DLQ, with its reason
    except SetupNotification as setup:
        return RecordResult(Outcome.IGNORED, fields={"reason": f"SES setup notification: {setup}"})
    where = {"sesMessageId": mail.ses_message_id, "bucket": mail.bucket, "key": mail.object_key}
    email = _read_stored_email(services, mail)
    fields = {**where, "from": email.from_address, "subject": email.subject[:MAX_SUBJECT_LOGGED]}
    if not email.answers:
        if email.calendar_error:
            return RecordResult(Outcome.MALFORMED_CALENDAR, fields={**fields, "reason": email.calendar_error})
        # Never forwarded: relaying untrusted mail from our SES identity would spend its sending
        # reputation and break DMARC alignment (docs/replies.md, "Recording"). It stays in the bucket
        # until it expires; this line says where to read it.
        reason = "no iTIP calendar: kept in the bucket, not forwarded"
        kind = {"automatic": email.automatic_reason} if email.automatic else {}
        return RecordResult(Outcome.NOT_CALENDAR, fields={**fields, **kind, "reason": reason})
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
        return Outcome.UNTRUSTED, {**fields, "reason": trusted.reason}
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
            return Outcome.UNSUPPORTED, {**fields, "reason": reason}
    if answer.method == Method.REFRESH and email.automatic:
        # docs/replies.md: automatic mail is never answered, so two robots cannot loop.
        reason = f"automatic mail ({email.automatic_reason}) is never answered"
        return Outcome.SKIPPED, {**fields, "reason": reason}
    step = _STEPS.get(answer.method)
    if answer.recurrence_id and answer.method == Method.REPLY:
        step = _occurrence_reply
    if step is None:
        return Outcome.UNSUPPORTED, {
            **fields,
            "reason": f"METHOD:{answer.method} is not an attendee's answer",
        }
    received = Received(mail.ses_message_id, services.clock().isoformat(timespec="seconds"))
    outcome, more = step(services, answer, received)
    return outcome, {**fields, **more}


def _refused(refusal: Refusal) -> Answered:
    return refusal.outcome, {"reason": refusal.reason}


def _retry_later(what: str) -> Answered:
    return Outcome.FAILED, {"error": f"{what} changed under every one of {DECIDE_ATTEMPTS} attempts"}


def _reply(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    event, attendee = services.replies.read(answer.uid, answer.attendee)
    for _ in range(DECIDE_ATTEMPTS):
        change = decide_reply(answer, event, attendee)
        if isinstance(change, Refusal):
            return _refused(change)
        now = services.replies.record_reply(answer, change, received, event, attendee)
        if now is None:
            return change.outcome, {"countedAs": change.counted_as, "version": change.version}
        event, attendee = now  # another writer got there first: decide again on what it left
    return _retry_later("the event or attendee item")


def _occurrence_reply(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    """An answer for one occurrence: recorded for it and counted in its own counts; the series
    answer is left as it is (docs/replies.md, "Answers per occurrence")."""
    guess = answer.recurrence_id  # UTC when it had a zone: the table's form for a zoned series
    for _ in range(DECIDE_ATTEMPTS):
        event, attendee, tally = services.replies.read_occurrence(answer.uid, answer.attendee, guess)
        refused = event_refusal(event)
        if refused:
            return _refused(refused)
        occurrence = answered_occurrence(answer.recurrence_id, event, attendee)
        if isinstance(occurrence, Refusal):
            return _refused(occurrence)
        if occurrence != guess:  # floating, or a date: read the occurrence's own counts
            guess = occurrence
            event, attendee, tally = services.replies.read_occurrence(answer.uid, answer.attendee, occurrence)
        change = decide_occurrence_reply(answer, occurrence, event, attendee, tally)
        if isinstance(change, Refusal):
            return _refused(change)
        if services.replies.record_occurrence_reply(answer, change, received, attendee, tally):
            return Outcome.RECORDED, {
                "occurrence": occurrence,
                "countedAs": change.counted_as,
                "version": change.version,
            }
    return _retry_later("the occurrence's items")


def _unverified(services: Services, answer: CalendarAnswer, trusted: Trust, received: Received) -> Answered:
    """Keep an answer that may be the attendee's, apart from their own and out of the counts."""
    if answer.method != Method.REPLY:
        return Outcome.SKIPPED, {"reason": f"a {answer.method} is answered only for verified mail"}
    for _ in range(DECIDE_ATTEMPTS):
        event, attendee = services.replies.read(answer.uid, answer.attendee)
        refusal = decide_unverified(answer, event, attendee)
        if refusal is not None:
            return _refused(refusal)
        if services.replies.record_unverified(answer, trusted, received, attendee):
            return Outcome.UNVERIFIED, {"reason": trusted.reason}
    return _retry_later("the attendee item")


def _counter(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    for _ in range(DECIDE_ATTEMPTS):
        event, attendee = services.replies.read(answer.uid, answer.attendee)
        refusal = decide_counter(answer, event, attendee)
        if refusal is not None:
            return _refused(refusal)
        if services.replies.record_counter(answer, received, attendee):
            return Outcome.COUNTER_RECORDED, {"proposed": dict(answer.proposed)}
    return _retry_later("the attendee item")


def _refresh(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    """Send the latest REQUEST again (same SEQUENCE), once per REFRESH mail, whatever redelivers it."""
    uid, email, inbound = answer.uid, answer.attendee, received.ses_message_id
    event, attendee = services.replies.read(uid, email)
    sequence = decide_refresh(event, attendee, inbound)
    if isinstance(sequence, Refusal):
        return _refused(sequence)
    details = event.details()  # before the claim: stored details too thin to render hold nothing
    if details is None:
        return Outcome.UNKNOWN_EVENT, {"reason": "the stored event has too few details to send again"}
    occurrence = None
    if answer.recurrence_id:  # "this event only": that occurrence is sent again, as it stands
        occurrence = answered_occurrence(answer.recurrence_id, event, attendee)
        if isinstance(occurrence, Refusal):
            return _refused(occurrence)
    now, token, lease = services.clock(), services.new_token(), services.settings.claim_lease_seconds
    claim = services.replies.claim_refresh(uid, email, sequence, inbound, token, now.timestamp(), lease)
    if not claim.claimed:
        before = claim.attendee
        if before is not None and inbound in before.refreshed:
            return Outcome.DUPLICATE, {"reason": "this refresh request was already answered"}
        claimed = before.refresh_pending if before else None
        if claimed is not None and claimed.since > now.timestamp() - lease:
            return Outcome.IN_FLIGHT, {"reason": "another delivery is answering this refresh"}
        if before is not None and before.suppressed is not None:
            return Outcome.SUPPRESSED, suppression_fields(before)
        if before is not None and len(before.refreshed) >= MAX_REFRESHES:
            return Outcome.SKIPPED, {"reason": f"{MAX_REFRESHES} refresh requests were already answered"}
        return Outcome.IN_FLIGHT, {"reason": "the attendee item changed: decide again later"}
    overrides = ()
    if details.recurrence is not None:  # the series as it stands: its changed and cancelled occurrences
        details, overrides = series_with_overrides(details, services.store.overrides(uid))
        details, overrides = without_excluded(details, overrides, attendee.excluded_occurrences)
    if occurrence is not None:
        details, overrides = one_occurrence(details, overrides, occurrence), ()
    # The REFRESH is the one answer that sends an email: the rendering is loaded by the first one.
    from lambdas.domain.calendar import ItipMessage

    itip = ItipMessage(
        method=Method.REQUEST,
        event=details,
        attendee=attendee.person,
        sequence=sequence,
        organizer_mailbox=services.settings.rsvp_email,
        dtstamp=now,
        status=itip_status(Method.REQUEST),
        attendee_partstat=_partstat_for(attendee, occurrence) or PartStat.NEEDS_ACTION,
        overrides=overrides,
    )
    release = lambda: services.replies.release_refresh(uid, email, token)  # noqa: E731
    message_id = send_itip(services, itip, release=release)
    entry = {
        "method": Method.REQUEST,
        "sequence": sequence,
        "at": now.isoformat(timespec="seconds"),
        "message_id": message_id,
        "refresh_of": inbound,
    }
    # Refused only if the lease ran out and a redelivery took over: it records its own send.
    services.replies.record_refresh(uid, email, inbound, token, entry)
    return Outcome.REFRESHED, {"sentMessageId": message_id}


def _partstat_for(attendee, occurrence: str | None) -> PartStat | None:
    """The answer the organizer has from the attendee: for one occurrence, its own if any."""
    reply = attendee.occurrence_replies.get(occurrence) if occurrence else None
    return reply.partstat if reply is not None and reply.partstat else attendee.partstat


_STEPS = {Method.REPLY: _reply, Method.COUNTER: _counter, Method.REFRESH: _refresh}
