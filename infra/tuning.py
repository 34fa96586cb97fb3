"""Numbers that a benchmark may tune. Everything derived from them is computed in code."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

from lambdas.runtime.config import DEFAULT_CLAIM_LEASE_SECONDS, DEFAULT_MAX_WORKERS

# Lambda sizing, from `make bench` (docs/performance.md). A batch peaks at ~73 MB of RSS, so
# 128 MB would fit, but CPU comes with memory and a batch of 10 needs ~140 ms of a full core
# (rendering with the email package is most of it): 256 MB gets it done in about a second, and
# one instance then sends about as fast as SES's default production quota allows.
FUNCTION_MEMORY_MB = 256
# The longest path through an invocation is four calls one after another (claim, send, release
# after a failed send, the batch's completion write). botocore may back off for up to 15 s on each
# DynamoDB call and 3 s on the send (lambdas/adapters/clients.py), and the send may first wait its
# turn under the SES rate for up to 10 s (MAX_PACING_WAIT_SECONDS in lambdas/adapters/mailer.py;
# past that the record goes back to the queue): 58 s, plus round trips and CPU. 90 s keeps a third
# in reserve. The cost: the visibility timeout (6x) becomes 542 s, so a reported failure is
# retried after ~9 minutes.
# The number is the functions' default claim lease (the lease is the function timeout), defined
# once in lambdas/runtime/config.py; lambdas never import infra.
FUNCTION_TIMEOUT = Duration.seconds(DEFAULT_CLAIM_LEASE_SECONDS)

# SQS event source mapping. A batch of 10 is what SQS returns per ReceiveMessage call; the
# function processes the records of a batch in BATCH_SIZE threads (BATCH_MAX_WORKERS env), whose
# default in lambdas/runtime/config.py is this number.
BATCH_SIZE = DEFAULT_MAX_WORKERS
# Waiting a little lets bursts (one invite fanned out to many attendees) fill whole batches.
MAX_BATCHING_WINDOW = Duration.seconds(2)
# Lambda's lower bound for an SQS event source's maximum concurrency.
MIN_MAX_CONCURRENCY = 2
MAX_MAX_CONCURRENCY = 1000

# AWS recommends a visibility timeout of at least six times the function timeout, plus the
# batching window, so that retries after throttling or a crash do not make a message visible
# again while an invocation is still working on it.
VISIBILITY_TIMEOUT_FACTOR = 6

# Receives before SQS moves a message to the DLQ. Not 1: a whole-batch failure (timeout, crash)
# counts against every message of the batch, including the healthy ones, so a few retries let
# them succeed in another batch. Not 15 (the Solutions Constructs default): records the function
# cannot handle are sent to the DLQ by the function itself, so what is left to retry are transient
# errors, and 5 attempts spaced one visibility timeout apart (about 45 minutes) ride out DynamoDB
# throttling without keeping a poison message cycling for long. SES throttling never counts: the
# send is put back on the queue as a new message (docs/idempotency.md, "Throttling").
MAX_RECEIVE_COUNT = 5

# Work queues keep the SQS default of 4 days; the DLQ keeps the maximum, 14 days, because SQS
# counts a standard queue message's retention from its first enqueue, not from the move to the DLQ.
QUEUE_RETENTION = Duration.days(4)
DLQ_RETENTION = Duration.days(14)

LOG_RETENTION = logs.RetentionDays.ONE_MONTH

# Raw inbound mail is kept at least as long as a reply notification can wait in the reply DLQ,
# so that a redriven notification still finds its email. The default (config.py) is 30 days.
MIN_INBOUND_RETENTION_DAYS = int(DLQ_RETENTION.to_days())

# DLQ depth alarm: any message in a DLQ needs a human.
DLQ_ALARM_THRESHOLD = 1
DLQ_ALARM_PERIOD = Duration.minutes(1)

# SES sending reputation (AWS/SES Reputation.BounceRate and Reputation.ComplaintRate, account-wide
# rates between 0 and 1). AWS puts an account under review at a bounce rate of 5% or a complaint
# rate of 0.1%, and may pause its sending beyond that. An alarm at the review threshold fires when
# the damage is done, so each metric gets a second, earlier alarm at half of it: SES computes the
# rates over a representative window of recent sends, so they climb over hours, and half the
# threshold leaves the operator that time to find and stop the cause (docs/deployment.md). AWS
# itself advises keeping bounces under 2%, so 2.5% is not a normal state to be woken for.
BOUNCE_RATE_REVIEW_THRESHOLD = 0.05
COMPLAINT_RATE_REVIEW_THRESHOLD = 0.001
EARLY_WARNING_FRACTION = 0.5
# SES updates the rates periodically, not per send: the alarm takes each hour's highest value, and
# an hour without a datapoint keeps the alarm in its state rather than clearing it.
REPUTATION_ALARM_PERIOD = Duration.hours(1)


def sending_instances(max_concurrency: int, *, sending_functions: int) -> int:
    """How many function instances may send email at once: each sending function's event source
    mapping runs at most `max_concurrency` of them, one batch each."""
    return max_concurrency * sending_functions


def visibility_timeout(function_timeout: Duration, batching_window: Duration) -> Duration:
    """The queue visibility timeout for a worker with this timeout and batching window."""
    return Duration.seconds(
        VISIBILITY_TIMEOUT_FACTOR * function_timeout.to_seconds() + batching_window.to_seconds()
    )
