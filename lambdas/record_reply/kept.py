"""Record Reply, an answer kept on the attendee item alone and never counted: an answer that may be
the attendee's but is not proven to be (unverified), and a COUNTER's proposal. Loaded by the first
such answer: most answers are verified REPLYs (docs/performance.md, "Cold start")."""

from __future__ import annotations

from collections.abc import Callable

from lambdas.adapters.reply_expressions import Received
from lambdas.adapters.store import Pair
from lambdas.domain.decide_again import Refused, decide_and_write
from lambdas.domain.inbound.itip import CalendarAnswer
from lambdas.domain.inbound.trust import Trust
from lambdas.domain.items import AttendeeItem, EventItem
from lambdas.domain.rarer_answers import decide_counter, decide_unverified
from lambdas.domain.replies import Refusal, ReplyOutcome
from lambdas.domain.vocabulary import Method
from lambdas.record_reply.answers import Answered, contended, refused
from lambdas.runtime.services import Services


def kept_on_attendee(
    services: Services,
    answer: CalendarAnswer,
    decide: Callable[[CalendarAnswer, EventItem | None, AttendeeItem | None], Refusal | None],
    keep: Callable[[AttendeeItem], bool],
) -> Answered | None:
    """An answer kept on the attendee item alone (a proposal, an unverified answer): decided on the
    event and attendee items, kept with a write conditioned on the attendee item, decided again on
    both items read again when that write is refused (its refusal returns no item). None once kept."""

    def write(_, items: Pair) -> Refused[Pair] | None:
        if keep(items[1]):
            return None
        return Refused(services.store.event_and_attendee(answer.uid, answer.attendee))

    settled = decide_and_write(
        services.store.event_and_attendee(answer.uid, answer.attendee),
        decide=lambda items: decide(answer, *items),
        writes=lambda refusal: refusal is None,
        write=write,
    )
    if settled is None:
        return contended("the attendee item")
    return refused(settled.decision) if not settled.written else None


def record_unverified(
    services: Services, answer: CalendarAnswer, trusted: Trust, received: Received
) -> Answered:
    """Keep an answer that may be the attendee's, apart from their own and out of the counts."""
    if answer.method != Method.REPLY:
        return ReplyOutcome.SKIPPED, {"reason": f"a {answer.method} is answered only for verified mail"}

    def keep(attendee: AttendeeItem) -> bool:
        return services.store.record_unverified(answer, trusted, received, attendee)

    return kept_on_attendee(services, answer, decide_unverified, keep) or (
        ReplyOutcome.UNVERIFIED,
        {"reason": trusted.reason},
    )


def record_counter(services: Services, answer: CalendarAnswer, received: Received) -> Answered:
    def keep(attendee: AttendeeItem) -> bool:
        return services.store.record_counter(answer, received, attendee)

    return kept_on_attendee(services, answer, decide_counter, keep) or (
        ReplyOutcome.COUNTER_RECORDED,
        {"proposed": dict(answer.proposed)},
    )
