"""Each function's outcomes, and the batch semantics they all share (lambdas.domain.outcomes)."""

import logging

from lambdas.domain.decisions import SendOutcome
from lambdas.domain.feedback import FeedbackOutcome
from lambdas.domain.organizer.outcomes import OrganizerOutcome
from lambdas.domain.outcomes import Outcome, SharedOutcome
from lambdas.domain.replies import ReplyOutcome

FUNCTIONS = (SendOutcome, ReplyOutcome, FeedbackOutcome, OrganizerOutcome)


def test_only_transient_outcomes_are_retried():
    # NOT_YET_RECORDED: feedback on an email sent moments ago, retried once (docs/feedback.md).
    retried = {(type(o).__name__, o.value) for kind in (*FUNCTIONS, SharedOutcome) for o in kind if o.retry}
    assert retried == {
        ("SendOutcome", "in_flight"),
        ("ReplyOutcome", "in_flight"),
        ("FeedbackOutcome", "not_yet_recorded"),
        ("SharedOutcome", "failed"),
        ("SharedOutcome", "retry_later"),
    }


def test_retry_later_is_not_in_flight():
    # In flight: another delivery holds the claim. Retry later: nothing explains a refusal.
    assert SharedOutcome.RETRY_LATER.value != SendOutcome.IN_FLIGHT.value
    assert SharedOutcome.RETRY_LATER.retry and SendOutcome.IN_FLIGHT.retry


def test_log_levels_follow_what_an_operator_must_look_at():
    levels = {o.value: o.level for kind in (*FUNCTIONS, SharedOutcome) for o in kind}
    assert levels["failed"] == logging.ERROR
    warned = {value for value, level in levels.items() if level == logging.WARNING}
    # an organizer reaching for another's event is looked at; one not on the allow-list is not
    # (anyone may invite the event address: docs/organizer.md, "Outcomes")
    assert warned == {
        "invalid",
        "in_flight",
        "retry_later",
        "untrusted",
        "throttled",
        "another_organizer",
        "owned_by_another_organizer",
    }


def test_every_function_outcome_is_an_outcome_the_batch_loop_reads():
    for kind in (*FUNCTIONS, SharedOutcome):
        assert issubclass(kind, Outcome)
        for outcome in kind:
            assert isinstance(outcome.retry, bool) and isinstance(outcome.level, int)


def test_a_value_means_the_same_in_every_function():
    # The log readers (local/, bench/, docs) match on the value alone.
    seen: dict[str, tuple[bool, int]] = {}
    for kind in (*FUNCTIONS, SharedOutcome):
        for outcome in kind:
            assert seen.setdefault(outcome.value, (outcome.retry, outcome.level)) == (
                outcome.retry,
                outcome.level,
            )
