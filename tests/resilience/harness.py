"""What the resilience tests drive the functions with: a function's own work queue as the template
deployed it on the local runtime's SQS (its visibility timeout and redrive policy, moto's clock
moved forward instead of waited for), and oracles that read the outcome from the transport and
the SES outbox, not from the code under test. Delivery itself is Lambda's poller emulation
(local.sources.sqs), the same the local runtime runs."""

from __future__ import annotations

import collections
import json
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from lambdas.runtime import config
from local import moto_clock
from local.lambda_logs import OutcomeLog
from local.outbox import SentEmail, sent_emails
from local.sources.sqs import FunctionCrash, QueuePoller
from local.transport import Fault, Operation

LEASE = config.DEFAULT_CLAIM_LEASE_SECONDS


class Crash(FunctionCrash):
    """The process dies here: no handler in the function catches it; the whole batch comes back."""


class WorkQueue:
    """A function's work queue and DLQ in the local runtime, delivered to its handler on the caller's
    threads. A record reported as failed (or a whole batch whose invocation crashed) comes back
    after the queue's visibility timeout, and moto moves a message received ``max_receive_count``
    times to the DLQ; a record the function puts back (throttled by SES) is a new message, visible
    after its delay."""

    def __init__(self, account, function: str):
        self.account = account
        self.function = function
        self.url, self.dlq_url = account.queues[function]
        self.sqs = account.sqs
        self.poller = QueuePoller(self.sqs, self.url, region=account.region)
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["All"])["Attributes"]
        self.visibility_timeout = int(attributes["VisibilityTimeout"])
        self.max_receive_count = int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])
        self.invocations = 0
        self.crashes = 0
        self._lock = threading.Lock()

    def send(self, body: dict) -> str:
        return self.sqs.send_message(QueueUrl=self.url, MessageBody=json.dumps(body))["MessageId"]

    def send_all(self, bodies: list[dict]) -> None:
        for start in range(0, len(bodies), 10):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps(b)} for i, b in enumerate(bodies[start : start + 10])
            ]
            assert not self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries).get("Failed")

    def deliver(self) -> set[str] | None:
        """One receive and, if anything came, one invocation: the ids SQS makes visible again."""
        messages, outcome, _deleted = self.poller.poll(self.account.handler(self.function))
        if not messages:
            return None
        if outcome.error:
            raise AssertionError(f"{self.function} raised: {outcome.error}")
        with self._lock:
            self.invocations += 1
            self.crashes += outcome.crashed
        return set(outcome.failed)

    def redeliver(self) -> set[str] | None:
        """What SQS does after the visibility timeout: deliver what came back."""
        moto_clock.advance(self.visibility_timeout)
        return self.deliver()

    # A throttled record comes back as a new message and may be throttled again: rounds are many,
    # and cheap while nothing is visible (the clock jumps to the next message).
    def run(self, *, concurrency: int = 4, max_rounds: int = 1000) -> None:
        runtime = self.account.runtime
        name = runtime.queue(self.url).name
        with self.account.environment_of(self.function):  # once, before the threads start
            for _ in range(max_rounds):
                with runtime.server.locked():
                    waits = moto_clock.ready_in(name, runtime.site.account, runtime.region)
                if not waits:
                    return
                moto_clock.advance(min(waits))
                ready = sum(1 for wait in waits if wait <= min(waits))
                batches = min(concurrency, -(-ready // 10))  # a receive takes at most 10
                with ThreadPoolExecutor(max_workers=batches) as pool:
                    list(pool.map(lambda _: self.deliver(), range(batches)))
        raise AssertionError(f"{self.function}'s queue still held messages after {max_rounds} rounds")

    def dead_letters(self) -> list[dict]:
        """Every message of the DLQ (each read once more: its ApproximateReceiveCount counts this read)."""
        letters: dict[str, dict] = {}
        while True:
            received = self.sqs.receive_message(
                QueueUrl=self.dlq_url,
                MaxNumberOfMessages=10,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
                VisibilityTimeout=60,
            ).get("Messages", [])
            if not received:
                return list(letters.values())
            letters.update((m["MessageId"], m) for m in received)


# ------------------------------------------- fault policies the throttling tests give local.transport


@dataclass
class ScriptedFaults:
    """Let ``skip`` requests of one operation through, answer the next ``count`` with ``fault``,
    then let the rest through."""

    operation: Operation
    fault: Fault
    count: int
    skip: int = 0
    seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, operation: Operation, call_id: str = "") -> Fault | None:
        if operation != self.operation:
            return None
        with self._lock:
            self.seen += 1
            return self.fault if self.skip < self.seen <= self.skip + self.count else None


@dataclass
class EveryCallFails:
    """Fail the first ``attempts`` attempts of every call to the given services with ``fault``."""

    faults: dict[str, Fault]
    attempts: int
    _seen: collections.Counter = field(default_factory=collections.Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, operation: Operation, call_id: str = "") -> Fault | None:
        fault = self.faults.get(operation[0])
        if fault is None:
            return None
        with self._lock:
            self._seen[call_id] += 1
            return fault if self._seen[call_id] <= self.attempts else None


# ------------------------------------------------------------------------------------------- oracles


def outbox() -> list[SentEmail]:
    """Every email SES accepted, with the iTIP identity (UID, SEQUENCE, METHOD) of its calendar."""
    return sent_emails()


class Recorder:
    """Transport-level evidence: which SES message ids a successful DynamoDB write recorded."""

    def __init__(self):
        self.recorded: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, operation, request: dict, status: int, body: bytes) -> None:
        if operation[0] != "dynamodb" or status != 200:
            return
        if operation[1] == "TransactWriteItems":
            updates = [item.get("Update", {}) for item in request.get("TransactItems", [])]
        elif operation[1] == "UpdateItem":
            updates = [request]
        else:
            return
        with self._lock:
            for update in updates:
                mid = update.get("ExpressionAttributeValues", {}).get(":mid", {}).get("S")
                if mid:
                    self.recorded.add(mid)


class Outcomes(OutcomeLog):
    """The functions' one log line per record, as structured fields."""

    def ses_ids_received(self) -> set[str]:
        """Every SES message id a function was told of (its send's answer reached it)."""
        return {line["sesMessageId"] for line in self.lines if "sesMessageId" in line}

    def sent_but_not_recorded(self) -> set[str]:
        return {
            line["sesMessageId"]
            for line in self.lines
            if line.get("error") == "sent but not recorded" and "sesMessageId" in line
        }


def by_request(sent: list[SentEmail]) -> dict[tuple[str, str, int | None, str], list[SentEmail]]:
    grouped = defaultdict(list)
    for s in sent:
        grouped[(s.uid, s.recipient.lower(), s.sequence, s.method)].append(s)
    return grouped
