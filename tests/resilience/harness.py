"""What the resilience tests drive the functions with: a virtual clock, an SQS-like redelivery loop,
and oracles that read the outcome from the transport and the SES outbox, not from the code under
test."""

from __future__ import annotations

import dataclasses
import email
import json
import logging
import os
import re
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from unittest import mock

from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from lambdas.runtime import config
from tests.support.aws import HANDLERS, REGION, record

LEASE = config.DEFAULT_CLAIM_LEASE_SECONDS
VISIBILITY = 6 * LEASE + 2  # the stack's rule: 6x the function timeout (= lease) + batching window
MAX_RECEIVE_COUNT = 5


class Crash(BaseException):
    """The process dies here: not an Exception, so no handler in the function catches it."""


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


@dataclass
class Queue:
    """SQS as the event source mapping uses it: batches of 10, a record reported as failed (or a
    whole batch whose invocation crashed) comes back after the visibility timeout, and a message
    received MAX_RECEIVE_COUNT times without success moves to the DLQ."""

    clock: VirtualClock
    messages: list[Message] = field(default_factory=list)
    dead: list[Message] = field(default_factory=list)
    invocations: int = 0
    crashes: int = 0

    def send(self, body: dict, message_id: str) -> None:
        self.messages.append(Message(message_id, json.dumps(body), visible_at=self.clock.time()))

    def run(self, account, function: str, *, concurrency: int = 4, max_rounds: int = 200) -> None:
        # The function's environment is set once, here: patching os.environ from concurrent
        # threads would restore it out of order.
        with mock.patch.dict(os.environ, account.environment(function)):
            self._run(account, function, concurrency, max_rounds)

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
        records = [record(m.body, message_id=m.message_id) for m in batch]
        try:
            response = invoke(account, function, records)
        except Crash:
            self.crashes += 1
            return {m.message_id for m in batch}  # Lambda failed: the whole batch comes back
        return {f["itemIdentifier"] for f in response["batchItemFailures"]}


def invoke(account, function: str, records: list[dict]) -> dict:
    """The handler, in this thread; in the function's environment if it is not set already."""
    wanted = account.environment(function)
    if all(os.environ.get(name) == value for name, value in wanted.items()):
        return HANDLERS[function]({"Records": records}, None)
    return account.invoke(function, records=records)


# ------------------------------------------------------------------------------------------- oracles


@dataclass(frozen=True)
class Sent:
    ses_id: str
    recipient: str
    uid: str
    sequence: int
    method: str
    message_id_header: str


_LINE = re.compile(r"^(UID|SEQUENCE|METHOD):(.*)$", re.MULTILINE)


def outbox() -> list[Sent]:
    """Every email SES accepted, with the iTIP identity (UID, SEQUENCE, METHOD) of its calendar."""
    sent = []
    for message in get_backend("ses")[DEFAULT_ACCOUNT_ID][REGION].sent_messages:
        raw = message.raw_data if isinstance(message.raw_data, bytes) else message.raw_data.encode()
        parsed = email.message_from_bytes(raw, policy=policy.default)
        calendar = next(p for p in parsed.walk() if p.get_content_type() == "text/calendar")
        text = calendar.get_content().replace("\r\n ", "")
        fields = dict(_LINE.findall(text.replace("\r\n", "\n")))
        sent.append(
            Sent(
                ses_id=message.id,
                recipient=message.destinations[0].lower(),
                uid=fields["UID"].strip(),
                sequence=int(fields["SEQUENCE"]),
                method=fields["METHOD"].strip(),
                message_id_header=parsed["Message-ID"],
            )
        )
    return sent


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


class Outcomes(logging.Handler):
    """The functions' one log line per record, as structured fields."""

    def __init__(self):
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, log_record: logging.LogRecord) -> None:
        self.lines.append(dict(log_record.__dict__))

    def sent_but_not_recorded(self) -> set[str]:
        return {
            line["sesMessageId"]
            for line in self.lines
            if line.get("error") == "sent but not recorded" and "sesMessageId" in line
        }

    def count(self) -> Counter:
        return Counter(line.get("outcome") for line in self.lines if "outcome" in line)


def by_request(sent: list[Sent]) -> dict[tuple[str, str, int, str], list[Sent]]:
    grouped = defaultdict(list)
    for s in sent:
        grouped[(s.uid, s.recipient, s.sequence, s.method)].append(s)
    return grouped
