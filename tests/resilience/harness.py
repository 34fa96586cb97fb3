"""What the resilience tests drive the functions with: a virtual clock, an SQS queue on that clock,
and oracles that read the outcome from the transport and the SES outbox, not from the code under
test. Delivery itself is Lambda's poller emulation (local.sources.sqs), the same the local runtime
runs."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from unittest import mock

from lambdas.adapters.queues import Queues
from lambdas.runtime import config
from local.lambda_logs import OutcomeLog
from local.outbox import SentEmail, sent_emails
from local.sandbox import REGION
from local.shapes import sqs_record
from local.sources.sqs import FunctionCrash, invoke_batch

LEASE = config.DEFAULT_CLAIM_LEASE_SECONDS
VISIBILITY = 6 * LEASE + 2  # the stack's rule: 6x the function timeout (= lease) + batching window
MAX_RECEIVE_COUNT = 5


class Crash(FunctionCrash):
    """The process dies here: no handler in the function catches it; the whole batch comes back."""


class VirtualClock:
    """The functions' clock (``Services.clock``): leases expire when the test says so."""

    def __init__(self):
        self._now = datetime.now(UTC).timestamp()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.fromtimestamp(self._now, UTC)

    def time(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def use_clock(monkeypatch, clock: VirtualClock) -> None:
    from lambdas.runtime import services

    build = services.build
    monkeypatch.setattr(services, "build", lambda s: dataclasses.replace(build(s), clock=clock.now))


@dataclass
class Message:
    message_id: str
    body: str
    receives: int = 0
    visible_at: float = 0.0
    attributes: dict[str, str] = field(default_factory=dict)

    def received(self) -> dict:
        """As ReceiveMessage returns it."""
        attributes = {k: {"StringValue": v, "DataType": "String"} for k, v in self.attributes.items()}
        return {"MessageId": self.message_id, "Body": self.body, "MessageAttributes": attributes}


@dataclass
class Queue:
    """SQS's timing on the virtual clock: batches of 10, a record reported as failed (or a whole
    batch whose invocation crashed) comes back after the visibility timeout, and a message received
    MAX_RECEIVE_COUNT times without success moves to the DLQ. A record the function puts back on
    its queue (throttled by SES) joins it as a new message, visible after its delay."""

    clock: VirtualClock
    messages: list[Message] = field(default_factory=list)
    dead: list[Message] = field(default_factory=list)
    invocations: int = 0
    crashes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, body: dict, message_id: str) -> None:
        self.messages.append(Message(message_id, json.dumps(body), visible_at=self.clock.time()))

    # A throttled record comes back as a new message and may be throttled again: rounds are many,
    # and cheap while nothing is visible (the clock jumps to the next message).
    def run(self, account, function: str, *, concurrency: int = 4, max_rounds: int = 1000) -> None:
        with (
            account.environment_of(function),  # once, before the threads start
            mock.patch.object(Queues, "put_back", self._put_back),
        ):
            self._run(account, function, concurrency, max_rounds)

    def _put_back(self, body: str, delay_seconds: float, attributes: dict[str, str]) -> int:
        delay = round(delay_seconds)
        message = Message(uuid.uuid4().hex, body, visible_at=self.clock.time() + delay, attributes=attributes)
        with self._lock:
            self.messages.append(message)
        return delay

    def _run(self, account, function: str, concurrency: int, max_rounds: int) -> None:
        for _ in range(max_rounds):
            if not self.messages:
                return
            now = self.clock.time()
            visible = [m for m in self.messages if m.visible_at <= now]
            if not visible:
                self.clock.advance(min(m.visible_at for m in self.messages) - now)
                continue
            batches = [visible[i : i + 10] for i in range(0, len(visible), 10)]
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                outcomes = list(pool.map(lambda batch: self.deliver(account, function, batch), batches))
            for batch, failed in zip(batches, outcomes, strict=True):
                for message in batch:
                    message.receives += 1
                    if message.message_id not in failed:
                        self.messages.remove(message)
                    elif message.receives >= MAX_RECEIVE_COUNT:
                        self.messages.remove(message)
                        self.dead.append(message)
                    else:
                        message.visible_at = self.clock.time() + VISIBILITY
        raise AssertionError(f"{len(self.messages)} messages still queued after {max_rounds} rounds")

    def deliver(self, account, function: str, batch: list[Message]) -> set[str]:
        """One invocation with these messages; returns the ids SQS would make visible again."""
        self.invocations += 1
        records = [sqs_record(m.body, region=REGION, message=m.received()) for m in batch]
        outcome = invoke_batch(account.handler(function), records)
        if outcome.error:
            raise AssertionError(f"{function} raised: {outcome.error}")
        self.crashes += outcome.crashed
        return set(outcome.failed)


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
