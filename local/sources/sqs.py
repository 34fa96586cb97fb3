"""Lambda's SQS poller: records in Lambda's shape, the partial batch response, what is deleted.

The one emulation of an SQS event source mapping, used by the local runtime (on the queues of the
template), by local/driver.py (a function's own queue, for the tests and the bench) and by the
resilience harness (the same queues, moto's clock moved forward), with the records
``local.shapes.sqs_record`` builds:

* ``QueuePoller.receive`` takes up to ``batch_size`` messages (ReceiveMessage returns at most 10);
* ``invoke_batch`` calls the handler with ``{"Records": [...]}``: with ``ReportBatchItemFailures``
  the records listed in ``batchItemFailures`` are left for redelivery (an invalid list fails the
  whole batch); without it a normal return succeeds the whole batch, failed records included; a
  handler that raises, whose process dies (``FunctionCrash``) or that runs past the function's
  timeout (``FunctionTimedOut``, local/execution.py), leaves the whole batch;
* ``QueuePoller.settle`` deletes the rest. What it leaves stays invisible until the visibility
  timeout it was received with expires, as in SQS: nothing here shortens it, because a claim's
  lease (the function timeout) must expire before the message comes back (docs/idempotency.md).
  The queue's redrive policy (``maxReceiveCount``) moves a message received that many times to
  its DLQ, as SQS does (moto implements it on receive).
"""

from __future__ import annotations

import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local.execution import FunctionTimedOut
from local.resources.base import label
from local.shapes import sqs_record
from local.sources.base import maps

if TYPE_CHECKING:
    from local.resources.base import Creation
    from local.resources.lambda_function import Function
    from local.resources.sqs import Queue

RECEIVE_LIMIT = 10  # ReceiveMessage returns at most ten messages; the batch APIs take ten entries
DEFAULT_BATCH_SIZE = 10  # SQS event source mappings default to 10


class FunctionCrash(BaseException):
    """The process running the function dies here: not an Exception, so no handler in the function
    catches it; Lambda reports an invocation error and the whole batch comes back."""


@dataclass
class BatchOutcome:
    failed: list[str]  # message ids left on the queue for redelivery
    response: Any = None
    error: str | None = None
    crashed: bool = False
    timed_out: bool = False
    seconds: float = 0.0


def reported_failures(response: Any, ids: list[str]) -> list[str]:
    """The partial batch response, read the way Lambda reads it.

    Success: no response, no ``batchItemFailures`` or an empty list. Whole batch failed: any entry
    without a non-empty ``itemIdentifier`` of this batch, or a response that is not an object.
    """
    if response is None:
        return []
    if not isinstance(response, dict):
        return list(ids)
    failures = response.get("batchItemFailures")
    if not failures:
        return []
    if not isinstance(failures, list):
        return list(ids)
    reported = []
    for entry in failures:
        identifier = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not identifier or identifier not in ids:
            return list(ids)
        reported.append(identifier)
    return list(dict.fromkeys(reported))


def invoke_batch(
    handler: Callable[[dict], Any], records: list[dict], *, report_batch_item_failures: bool = True
) -> BatchOutcome:
    """One invocation with these records, and which of them Lambda leaves for redelivery."""
    ids = [r["messageId"] for r in records]
    started = time.monotonic()
    try:
        response = handler({"Records": records})
    except FunctionCrash:
        return BatchOutcome(failed=list(ids), crashed=True, seconds=time.monotonic() - started)
    except FunctionTimedOut as timed_out:
        print(timed_out)  # into the function's log, as Lambda writes it
        seconds = time.monotonic() - started
        return BatchOutcome(failed=list(ids), error=str(timed_out), timed_out=True, seconds=seconds)
    except Exception as exception:
        traceback.print_exc()  # into the function's log, as Lambda would
        error = f"{type(exception).__name__}: {exception}"
        return BatchOutcome(failed=list(ids), error=error, seconds=time.monotonic() - started)
    seconds = time.monotonic() - started
    if not report_batch_item_failures:
        return BatchOutcome(failed=[], response=response, seconds=seconds)  # all deleted
    return BatchOutcome(failed=reported_failures(response, ids), response=response, seconds=seconds)


class QueuePoller:
    """Receive from and settle one SQS queue, through any boto3 SQS client (served or in-process moto)."""

    def __init__(
        self,
        sqs,
        url: str,
        *,
        arn: str = "",
        region: str = "",
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        self.sqs = sqs
        self.url = url
        self.arn = arn
        self.region = region
        self.batch_size = batch_size

    def receive(self) -> list[dict]:
        """Up to the mapping's batch size, ten per ReceiveMessage. It stops at the first receive
        that finds fewer messages than it asked for: asking again would only catch a message of this
        very batch whose short visibility timeout ran out meanwhile (a second or two, on a busy
        machine), received twice and counted twice toward maxReceiveCount."""
        messages: dict[str, dict] = {}
        while len(messages) < self.batch_size:
            wanted = min(RECEIVE_LIMIT, self.batch_size - len(messages))
            received = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=wanted,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            messages.update((m["MessageId"], m) for m in received)  # once each, its newest receipt
            if len(received) < wanted:
                break
        return list(messages.values())

    def records(self, messages: list[dict]) -> list[dict]:
        return [sqs_record(m["Body"], queue_arn=self.arn, region=self.region, message=m) for m in messages]

    def settle(self, messages: list[dict], failed: list[str]) -> list[str]:
        """Delete what succeeded; the failed messages come back after their visibility timeout, as
        Lambda leaves them. The deleted ids."""
        by_id = {m["MessageId"]: m for m in messages}
        left = set(failed)
        deleted = [i for i in by_id if i not in left]
        self._batched(self.sqs.delete_message_batch, [by_id[i] for i in deleted])
        return deleted

    def poll(self, handler: Callable[[dict], Any], *, report_batch_item_failures: bool = True):
        """One receive and, if anything came, one invocation: (messages, outcome, deleted ids)."""
        messages = self.receive()
        if not messages:
            return [], None, []
        outcome = invoke_batch(
            handler, self.records(messages), report_batch_item_failures=report_batch_item_failures
        )
        return messages, outcome, self.settle(messages, outcome.failed)

    def is_empty(self) -> bool:
        """No message visible, in flight or delayed. Asked twice: moto counts the visible messages
        before the ones in flight, each at its own instant, so a message whose visibility timeout
        runs out between the two counts is in neither, and a queue still holding it reads empty
        (a drain then stopped before the message's last deliveries, on a busy machine)."""
        return self._counts_nothing() and self._counts_nothing()

    def _counts_nothing(self) -> bool:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=names)["Attributes"]
        return not any(int(attributes.get(name, 0)) for name in names)

    def _batched(self, operation, messages: list[dict]) -> None:
        for start in range(0, len(messages), RECEIVE_LIMIT):
            chunk = messages[start : start + RECEIVE_LIMIT]
            entries = [
                {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)
            ]
            response = operation(QueueUrl=self.url, Entries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"{operation.__name__} failed: {response['Failed']}")


# ------------------------------------------------------------------ the runtime's event source


@dataclass
class Invocation:
    function: Function
    queue: Queue
    message_ids: list[str]
    failed: list[str]  # left on the queue for redelivery
    deleted: list[str]
    outcomes: Counter
    seconds: float
    response: Any = None
    error: str | None = None
    timed_out: bool = False  # ran past the function's timeout: abandoned, its records left
    lines: list[dict] = field(default_factory=list)  # the outcome lines' fields, one per record


@dataclass
class SqsEventSourceMapping:
    """An AWS::Lambda::EventSourceMapping on a queue of the template.

    AWS's timing is kept where it decides where a message ends: a record handed back comes back
    after the queue's visibility timeout, and an invocation past the function's timeout is
    abandoned (local/execution.py). Two liberties remain: the batching window is not waited for,
    and invocations run one at a time (each sets the process environment), whatever
    ``MaximumConcurrency`` says; the records of a batch still run on the function's own thread
    pool (docs/local-runtime.md).
    """

    stack: str
    logical_id: str
    function: Function
    queue: Queue
    poller: QueuePoller
    batch_size: int
    batching_window: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool = True

    def poll_once(self) -> list[Invocation]:
        messages = self.poller.receive()
        return [self.deliver(messages)] if messages else []

    def is_idle(self) -> bool:
        return self.poller.is_empty()

    def deliver(self, messages: list[dict]) -> Invocation:
        function = self.function
        with function.invocation() as (call, outcomes):
            outcome = invoke_batch(
                call,
                self.poller.records(messages),
                report_batch_item_failures=self.report_batch_item_failures,
            )
        deleted = self.poller.settle(messages, outcome.failed)
        return Invocation(
            function=function,
            queue=self.queue,
            message_ids=[m["MessageId"] for m in messages],
            failed=outcome.failed,
            deleted=deleted,
            outcomes=outcomes.count(),
            seconds=outcome.seconds,
            response=outcome.response,
            error=outcome.error,
            timed_out=outcome.timed_out,
            lines=outcomes.outcome_lines(),
        )


@maps("sqs")
def sqs_mapping(c: Creation, function: Function) -> SqsEventSourceMapping | None:
    props = c.properties
    queue = c.inventory.queues.get(props.get("EventSourceArn", ""))
    if queue is None:
        return None
    if props.get("FilterCriteria"):
        c.note(f"{label(c.logical_id)}: FilterCriteria are not emulated (every message is delivered)")
    batch_size = int(props.get("BatchSize", DEFAULT_BATCH_SIZE))
    return SqsEventSourceMapping(
        stack=c.stack,
        logical_id=c.logical_id,
        function=function,
        queue=queue,
        poller=QueuePoller(c.client("sqs"), queue.url, arn=queue.arn, region=c.region, batch_size=batch_size),
        batch_size=batch_size,
        batching_window=int(props.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        maximum_concurrency=(props.get("ScalingConfig") or {}).get("MaximumConcurrency"),
        enabled=props.get("Enabled", True) not in (False, "false"),
    )
