"""Numbers that a benchmark may tune. Everything derived from them is computed in code."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

# Lambda sizing. 256 MB until the bench issue measures the functions; the timeout covers a
# batch of 10 sends (about 10 SES calls plus a handful of DynamoDB writes, in parallel threads).
FUNCTION_MEMORY_MB = 256
FUNCTION_TIMEOUT = Duration.seconds(30)

# SQS event source mapping. A batch of 10 is what SQS returns per ReceiveMessage call; the
# function processes the records of a batch in BATCH_SIZE threads (BATCH_MAX_WORKERS env).
BATCH_SIZE = 10
# Waiting a little lets bursts (one invite fanned out to many attendees) fill whole batches.
MAX_BATCHING_WINDOW = Duration.seconds(2)
# Lambda's lower bound for an SQS event source's maximum concurrency.
MIN_MAX_CONCURRENCY = 2
MAX_MAX_CONCURRENCY = 1000

# AWS recommends a visibility timeout of at least six times the function timeout, plus the
# batching window, so that retries after throttling or a crash do not make a message visible
# again while an invocation is still working on it.
VISIBILITY_TIMEOUT_FACTOR = 6

# Receives before SQS moves a message to the DLQ. Not 1: a whole-batch failure (timeout, crash,
# throttled SES) counts against every message of the batch, including the healthy ones, so a few
# retries let them succeed in another batch. Not 15 (the Solutions Constructs default): records the
# function cannot handle are sent to the DLQ by the function itself, so what is left to retry are
# transient errors, and 5 attempts spaced one visibility timeout apart (about 15 minutes) ride out
# throttling without keeping a poison message cycling for long.
MAX_RECEIVE_COUNT = 5

# Work queues keep the SQS default of 4 days; the DLQ keeps the maximum, 14 days, because SQS
# counts a standard queue message's retention from its first enqueue, not from the move to the DLQ.
QUEUE_RETENTION = Duration.days(4)
DLQ_RETENTION = Duration.days(14)

LOG_RETENTION = logs.RetentionDays.ONE_MONTH

# DLQ depth alarm: any message in a DLQ needs a human.
DLQ_ALARM_THRESHOLD = 1
DLQ_ALARM_PERIOD = Duration.minutes(1)


def visibility_timeout(function_timeout: Duration, batching_window: Duration) -> Duration:
    """The queue visibility timeout for a worker with this timeout and batching window."""
    return Duration.seconds(
        VISIBILITY_TIMEOUT_FACTOR * function_timeout.to_seconds() + batching_window.to_seconds()
    )
