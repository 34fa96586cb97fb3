"""The template-built runtime, driven one function at a time: what the tests and the benchmark use.

``Driver`` hands records to one function as its event source mapping would (its environment,
queues and table are the template's, as the runtime deployed them), feeds a function's own queue
back to it, plays SES receiving for the RSVP address, and reads what happened: the emails SES
accepted, the dead letters, the typed items. ``overrides`` set variables instead of the
template's (a test's trusted relays, the benchmark's worker count).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from local.assembly import Assembly
from local.outbox import SentEmail
from local.resources.lambda_function import LambdaContext
from local.runtime import Function, LocalRuntime
from local.samples import record
from local.sandbox import function_environment
from local.server import AttachedMoto, InProcessMoto
from local.sources.sqs import QueuePoller

# A function by its short name: the handler package it runs.
PACKAGES = {
    "invite": "send_invite",
    "cancel": "send_cancellation",
    "reply": "record_reply",
    "feedback": "record_feedback",
}


@contextlib.contextmanager
def driven(assembly: Assembly, work_dir: Path, moto: AttachedMoto | None = None) -> Iterator[Driver]:
    """The assembly deployed into moto patched into this process, or into ``moto`` (a served one
    with its latency and faults), for the duration of the block."""
    with LocalRuntime(assembly, work_dir=work_dir, moto=moto or InProcessMoto()) as runtime:
        yield Driver(runtime)


class Driver:
    def __init__(self, runtime: LocalRuntime):
        self.runtime = runtime
        self.region = runtime.region
        self.overrides: dict[str, str] = {}
        self.sqs = runtime.client("sqs")
        self.dynamodb = runtime.client("dynamodb")
        self.table = runtime.tables[0].name
        self.queues = {short: self._queues(short) for short in PACKAGES}  # function -> (queue, dlq)

    def client(self, service: str):
        return self.runtime.client(service)

    def function(self, short: str) -> Function:
        return next(f for f in self.runtime.functions if f.handler.startswith(f"lambdas.{PACKAGES[short]}."))

    def _queues(self, short: str) -> tuple[str, str]:
        variables = self.function(short).environment
        return variables["SQS_URL"], variables["DLQ_URL"]

    # ------------------------------------------------------------------------------ invocation

    def environment(self, function: str) -> dict[str, str]:
        return self.function(function).lambda_environment(self.overrides)

    def environment_of(self, function: str):
        """The process environment of one function, for the duration of the block (entered once,
        before any threads start, by tests that call the handler concurrently)."""
        return function_environment(self.environment(function))

    def handler(self, function: str):
        """The function's handler with an event, in its environment, on the caller's thread (the
        runtime's own invocations also keep to its timeout and write its log file); callable
        from several threads once ``environment_of`` is entered."""
        deployed = self.function(function)

        def call(event: dict):
            with self.environment_of(function):
                return deployed.entry(event, LambdaContext(deployed))

        return call

    def invoke(self, function: str, *bodies, records: list[dict] | None = None) -> dict:
        """One invocation with these records (by default one per body), as Lambda makes it."""
        records = records if records is not None else [record(body) for body in bodies]
        return self.handler(function)({"Records": records})

    def drain(self, function: str, max_rounds: int = 50) -> list[dict]:
        """Feed the function's own queue back to it (fan-out) until it is empty.

        Records the function reports as failed stay invisible for the queue's visibility timeout,
        as in SQS (a test that wants them again waits for it or invokes them itself).
        """
        queue, _ = self.queues[function]
        poller = QueuePoller(self.sqs, queue, region=self.region)
        responses = []
        for _ in range(max_rounds):
            messages, outcome, _deleted = poller.poll(self.handler(function))
            if not messages:
                return responses
            if outcome.error:
                raise AssertionError(f"{function} raised: {outcome.error}")
            responses.append(outcome.response)
        raise AssertionError("queue did not drain")

    # ------------------------------------------------------------------------------ receiving

    @property
    def rsvp(self) -> str:
        return self.function("reply").environment["RSVP_EMAIL"]

    def receive(self, raw: bytes, *, verdicts: dict[str, str] | None = None) -> str:
        """An email for the RSVP address through SES receiving (local/sources/ses_receiving.py):
        the body of the message it puts on the reply queue (the SNS envelope), taken off the queue."""
        self.runtime.receive_email(raw, recipient=self.rsvp, verdicts=verdicts)
        queue, _ = self.queues["reply"]
        [message] = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return message["Body"]

    # ------------------------------------------------------------------------------ inspection

    def sent(self) -> list[SentEmail]:
        return self.runtime.sent_emails()

    def dead_letters(self, function: str) -> list[dict]:
        _, dlq = self.queues[function]
        return self.sqs.receive_message(
            QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
        ).get("Messages", [])

    @property
    def store(self):
        from lambdas.adapters.store import Store

        return Store(self.dynamodb, self.table)

    def event_item(self, uid: str):
        """The event item, typed (lambdas.domain.items.EventItem), or None."""
        return self.store.get_event(uid)

    def attendee_item(self, uid: str, email_address: str):
        """The attendee item, typed (lambdas.domain.items.AttendeeItem), or None."""
        return self.store.get_attendee(uid, email_address)
