"""Record Reply, an answer for one occurrence of a series (RECURRENCE-ID): recorded for that
occurrence and counted in its own counts. Loaded by the first such answer: most answers are the
whole event's or series' (docs/performance.md, "Cold start")."""

from __future__ import annotations

from lambdas.adapters.reply_expressions import Received
from lambdas.domain.decide_again import DECIDE_ATTEMPTS
from lambdas.domain.inbound.itip import CalendarAnswer
from lambdas.domain.occurrence_answers import answered_occurrence, decide_occurrence_reply
from lambdas.domain.replies import Refusal, ReplyOutcome, event_refusal
from lambdas.record_reply.answers import Answered, contended, refused
from lambdas.runtime.services import Services


def record_occurrence_reply(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    """An answer for one occurrence: recorded for it and counted in its own counts; the series
    answer is left as it is (docs/replies.md, "Answers per occurrence")."""
    guess = answer.recurrence_id  # UTC when it had a zone: the table's form for a zoned series
    for _ in range(DECIDE_ATTEMPTS):
        event, attendee, tally = services.store.occurrence_items(answer.uid, answer.attendee, guess)
        refusal = event_refusal(event)
        if refusal:
            return refused(refusal)
        occurrence = answered_occurrence(answer.recurrence_id, event, attendee)
        if isinstance(occurrence, Refusal):
            return refused(occurrence)
        if occurrence != guess:  # floating, or a date: read the occurrence's own counts
            guess = occurrence
            event, attendee, tally = services.store.occurrence_items(answer.uid, answer.attendee, occurrence)
        change = decide_occurrence_reply(answer, occurrence, event, attendee, tally)
        if isinstance(change, Refusal):
            return refused(change)
        if services.store.record_occurrence_reply(answer, change, received, attendee, tally):
            return ReplyOutcome.RECORDED, {
                "occurrence": occurrence,
                "countedAs": change.counted_as,
                "version": change.version,
            }
    return contended("the occurrence's items")
