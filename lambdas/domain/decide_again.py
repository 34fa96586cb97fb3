"""Decide, write, decide again on refusal: the optimistic concurrency every answer and every
feedback event is recorded with.

A decision is pure, made from the items as read. Its write is conditioned on those items still
being as read, so a concurrent writer makes DynamoDB refuse it; the refusal hands back the items as
that writer left them (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), and the decision is made
again on them, with no new read. Each refusal means someone else's write succeeded, so a few
attempts settle even twelve concurrent copies of one message; past them the record is retried
later (``SharedOutcome.RETRY_LATER``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from lambdas.domain.frozen import frozen

DECIDE_ATTEMPTS = 5

Items = TypeVar("Items")
Decision = TypeVar("Decision")


@frozen
class Refused(Generic[Items]):
    """A conditional write refused: the items as they are now (the refusal's copy of each one whose
    condition failed, the others as read; None for an item that is gone)."""

    items: Items


@frozen
class Settled(Generic[Items, Decision]):
    decision: Decision  # the last decision
    items: Items  # the items it was made from
    written: bool  # False: the decision writes nothing (a refusal, a duplicate, no change)


def decide_and_write(
    items: Items,
    decide: Callable[[Items], Decision],
    writes: Callable[[Decision], bool],
    write: Callable[[Decision, Items], Refused[Items] | None],
    attempts: int = DECIDE_ATTEMPTS,
) -> Settled[Items, Decision] | None:
    """Decide on ``items``; write the decision when ``writes(decision)``; on a refusal, decide
    again on the items it returned. None when every attempt was refused (contended)."""
    for _ in range(attempts):
        decision = decide(items)
        if not writes(decision):
            return Settled(decision, items, written=False)
        refused = write(decision, items)
        if refused is None:
            return Settled(decision, items, written=True)
        items = refused.items
    return None
