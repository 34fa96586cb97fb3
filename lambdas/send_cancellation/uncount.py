"""Take a removed attendee's answers out of the counts, once whatever redelivers the cancellation.

Decided (lambdas.domain.replies.uncounted, occurrence_answers.occurrence_uncounted) and written
conditioned on the items as read, decided again on a new read when refused
(lambdas.domain.decide_again). Imported only when an answer was counted, so a cancellation's cold
start never loads the answer rules.
"""

from __future__ import annotations

from lambdas.adapters.store import Store
from lambdas.domain.decide_again import Refused, decide_and_write
from lambdas.domain.occurrence_answers import occurrence_uncounted
from lambdas.domain.replies import uncounted


def uncount(store: Store, uid: str, email: str) -> bool:
    """The series answer and every occurrence's. False when the items kept changing under every
    attempt (the cancellation is retried)."""

    def write(deltas, items) -> Refused | None:
        event, attendee = items
        return (
            None
            if store.uncount(uid, attendee, deltas, event)
            else Refused(store.event_and_attendee(uid, email))
        )

    settled = decide_and_write(
        store.event_and_attendee(uid, email),
        decide=lambda items: uncounted(*items),
        writes=lambda deltas: deltas is not None,
        write=write,
    )
    if settled is None:
        return False
    attendee = settled.items[1]
    occurrences = list(attendee.occurrence_replies) if attendee else []
    return all(uncount_occurrence(store, uid, email, occurrence) for occurrence in occurrences)


def uncount_occurrence(store: Store, uid: str, email: str, occurrence: str) -> bool:
    """The attendee's answer to one occurrence, out of that occurrence's counts (they were removed
    from it, or from the event). False when the items kept changing."""

    def read():
        _, attendee, tally = store.occurrence_items(uid, email, occurrence)
        return attendee, tally

    def decide(items):
        attendee, tally = items
        return occurrence_uncounted(attendee.occurrence_replies.get(occurrence) if attendee else None, tally)

    def write(deltas, items) -> Refused | None:
        attendee, tally = items
        written = store.uncount_occurrence(uid, attendee, occurrence, deltas, tally)
        return None if written else Refused(read())

    return decide_and_write(read(), decide, writes=lambda deltas: deltas is not None, write=write) is not None
