"""What a record ended as: the one structured log line per record carries it.

Each function has its own outcomes (``SendOutcome`` in decisions, ``ReplyOutcome`` in replies,
``FeedbackOutcome`` in feedback), and every one of them is an :class:`Outcome`: it says itself
whether SQS delivers the record again (reported in ``batchItemFailures``) and at which level its
line is logged, which is all the batch loop (``lambdas.runtime.batch``) reads. ``SharedOutcome``
holds the ones any function may end in, most of them the batch loop's own.
"""

from __future__ import annotations

import logging
from enum import StrEnum


class Outcome(StrEnum):
    """The base of every function's outcomes; a member is ``NAME = "value"`` or
    ``NAME = "value", RETRIED, logging.WARNING``. The value is what the log line says (docs and
    the local runtime's readers match on it: keep it stable)."""

    retry: bool  # reported as a batch item failure: SQS delivers the record again
    level: int  # the level of its log line

    def __new__(cls, value: str, retry: bool = False, level: int = logging.INFO):
        member = str.__new__(cls, value)
        member._value_ = value
        member.retry = retry
        member.level = level
        return member


RETRIED = True  # a member's second field: reported as a batch item failure


class SharedOutcome(Outcome):
    """Outcomes any function may end in."""

    INVALID = "invalid", False, logging.WARNING  # can never succeed: sent to the DLQ with its reason
    FAILED = "failed", RETRIED, logging.ERROR  # transient error: SQS redelivers this record alone
    # Refused, and nothing the item says explains it (it changed between the write and the copy the
    # refusal returned, or kept changing under every decision): SQS redelivers it, decided again then.
    RETRY_LATER = "retry_later", RETRIED, logging.WARNING
    # Not sent, over the SES rate or daily quota: put back on the queue, delayed (not a failure).
    THROTTLED = "throttled", False, logging.WARNING
    SUPPRESSED = "suppressed"  # not sent: SES refused the address (hard bounce or complaint)
