"""SES refuses sends over the account's rate or daily quota: the record goes back onto its queue,
delayed, and counts as handled. It never reaches the DLQ, the attendee gets exactly one email, and
the counters count exactly the emails SES accepted (docs/idempotency.md, "Throttling")."""

from __future__ import annotations

import random
import threading

import pytest

from lambdas.adapters import mailer
from lambdas.runtime.delivery import MAX_SES_REFUSALS, SES_REFUSALS_ATTRIBUTE
from local.samples import invite_body, record
from local.transport import Fault
from tests.resilience.harness import by_request, outbox

UID = "evt-rate@example.com"
WHO = "bob@example.org"
SES_ATTEMPTS = 3
RATE_EXCEEDED = Fault(400, "ThrottlingException", "Maximum sending rate exceeded.")
DAILY_QUOTA = Fault(400, "ThrottlingException", "Daily message quota exceeded.")


class ThrottleSends:
    """Every attempt of a drawn SendEmail call is refused (the refusal reaches the function), with
    probability ``rate``; the first ``always`` calls are refused whatever the draw."""

    def __init__(self, fault: Fault, rate: float = 1.0, seed: int = 7, always: int = 0):
        self.fault, self.rate, self.always = fault, rate, always
        self._random = random.Random(seed)
        self._calls: dict[str, bool] = {}
        self._lock = threading.Lock()
        self.refused_calls = 0

    def __call__(self, operation, call_id: str = ""):
        if operation != ("sesv2", "SendEmail"):
            return None
        with self._lock:
            if call_id not in self._calls:
                refuse = len(self._calls) < self.always or self._random.random() < self.rate
                self._calls[call_id] = refuse
                self.refused_calls += refuse
            return self.fault if self._calls[call_id] else None


def queue_counts(account, function: str) -> tuple[int, int, int]:
    queue, dlq = account.queues[function]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
    queued = account.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=names)["Attributes"]
    dead = account.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=names[:1])["Attributes"]
    return (
        int(queued["ApproximateNumberOfMessages"]),
        int(queued["ApproximateNumberOfMessagesDelayed"]),
        int(dead["ApproximateNumberOfMessages"]),
    )


@pytest.mark.parametrize(
    ("fault", "low", "high", "daily"),
    [
        (RATE_EXCEEDED, *mailer.RATE_RETRY_SECONDS, False),
        (DAILY_QUOTA, *mailer.DAILY_RETRY_SECONDS, True),
    ],
    ids=["rate", "daily-quota"],
)
def test_a_send_ses_keeps_refusing_goes_back_on_the_queue_delayed_not_to_the_dlq(
    server, account, outcomes, fault, low, high, daily
):
    server.faults = ThrottleSends(fault)

    response = account.invoke("invite", invite_body(uid=UID, attendee=WHO))

    assert response == {"batchItemFailures": []}  # handled: the receive count does not grow
    assert outbox() == []
    item = account.attendee_item(UID, WHO)
    assert item.pending is None and item.sequence is None  # the claim given back, nothing recorded
    event = account.event_item(UID)
    assert event is None or event.invites_sent == 0
    assert queue_counts(account, "invite") == (0, 1, 0)  # one copy, delayed; nothing dead-lettered
    [line] = [line for line in outcomes.outcome_lines() if line["outcome"] == "throttled"]
    assert line["uid"] == UID and line["attendee"] == WHO and line["dailyQuota"] is daily
    assert low <= line["delaySeconds"] <= high
    assert [r["levelname"] for r in outcomes.lines if r.get("outcome") == "throttled"] == ["WARNING"]


def test_the_copy_put_back_counts_the_refusals_and_too_many_fail_the_record_for_sqs(
    server, account, monkeypatch
):
    monkeypatch.setattr(mailer, "RATE_RETRY_SECONDS", (0.0, 0.0))
    server.faults = ThrottleSends(RATE_EXCEEDED)
    account.invoke("invite", invite_body(uid=UID, attendee=WHO))
    queue, _ = account.queues["invite"]
    [copy] = account.sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    assert copy["MessageAttributes"][SES_REFUSALS_ATTRIBUTE]["StringValue"] == "1"

    worn = record(copy["Body"])
    worn["messageAttributes"] = {
        SES_REFUSALS_ATTRIBUTE: {"stringValue": str(MAX_SES_REFUSALS), "dataType": "String"}
    }
    response = account.invoke("invite", records=[worn])

    # Past the bound, SQS retries it as any failure, and its redrive policy ends it in the DLQ.
    assert response == {"batchItemFailures": [{"itemIdentifier": worn["messageId"]}]}


def test_a_fan_out_with_a_third_of_its_sends_throttled_ends_with_one_email_each_and_exact_counts(
    server, account, outcomes, monkeypatch
):
    monkeypatch.setattr(mailer, "RATE_RETRY_SECONDS", (0.0, 0.0))  # the copies come back at once
    throttle = ThrottleSends(RATE_EXCEEDED, rate=0.33, always=3)
    server.faults = throttle
    guests = [f"guest{i}@example.org" for i in range(40)]

    account.invoke("invite", invite_body(uid=UID, attendee=guests))
    account.drain("invite", max_rounds=100)

    sent = outbox()
    assert sorted(s.recipient for s in sent) == sorted(guests)  # every attendee exactly one email
    assert all(len(copies) == 1 for copies in by_request(sent).values())
    assert account.event_item(UID).invites_sent == len(sent) == len(guests)
    assert queue_counts(account, "invite") == (0, 0, 0)
    count = outcomes.count()
    assert count["throttled"] == throttle.refused_calls >= 3
    assert count["sent"] == len(guests) and count["failed"] == 0
