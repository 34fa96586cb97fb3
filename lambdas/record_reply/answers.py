"""What one answer ends as, for every step of record reply: its outcome and its log fields."""

from __future__ import annotations

from typing import Any

from lambdas.domain.decide_again import DECIDE_ATTEMPTS
from lambdas.domain.outcomes import Outcome, SharedOutcome
from lambdas.domain.replies import Refusal

Answered = tuple[Outcome, dict[str, Any]]


def refused(refusal: Refusal) -> Answered:
    return refusal.outcome, {"reason": refusal.reason}


def contended(what: str) -> Answered:
    return SharedOutcome.RETRY_LATER, {
        "reason": f"{what} changed under every one of {DECIDE_ATTEMPTS} attempts: decided again later"
    }
