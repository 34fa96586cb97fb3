"""12 concurrent copies of SES feedback, each its own invocation, against moto over HTTP: counted once."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from lambdas.domain.vocabulary import DeliveryState
from lambdas.runtime import services
from local import shapes
from local.samples import invite_body, record
from local.shapes import sns_envelope
from tests.resilience.harness import Outcomes

UID = "evt-feedback-storm@example.com"
WHO = "bob@example.org"
COPIES = 12
REDELIVERIES = 10


@pytest.fixture
def feedback_outcomes():
    handler = Outcomes()
    logger = logging.getLogger("record-feedback")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def storm(account, bodies: list[str]) -> list[str]:
    """Each body in its own invocation, all at once; failed ones redelivered (as SQS would) until
    none is left. Returns every outcome logged."""
    barrier = threading.Barrier(len(bodies))
    failed: list[str] = []
    lock = threading.Lock()

    def deliver(body: str) -> None:
        barrier.wait()
        response = account.invoke("feedback", records=[record(body)])
        if response["batchItemFailures"]:
            with lock:
                failed.append(body)

    # The environment is set once, before the threads start (see local.sandbox).
    with account.environment_of("feedback"):
        services.from_environment()  # clients made once, as in a warm container
        threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for _ in range(REDELIVERIES):
            if not failed:
                break
            again, failed[:] = list(failed), []
            for body in again:
                if account.invoke("feedback", records=[record(body)])["batchItemFailures"]:
                    failed.append(body)
    assert not failed
    return failed


def sent_invitation(account) -> str:
    assert account.invoke("invite", invite_body(uid=UID, attendee=WHO)) == {"batchItemFailures": []}
    return account.attendee_item(UID, WHO).message_id


def test_12_concurrent_copies_of_one_bounce_count_once(server, account, feedback_outcomes):
    server.latency = 0.02  # a real round trip, so that the copies' writes are in flight together
    message_id = sent_invitation(account)
    sent = datetime.now(UTC) - timedelta(hours=1)
    body = sns_envelope(shapes.bounce(message_id, WHO, sent + timedelta(minutes=1), sent))

    storm(account, [body] * COPIES)

    event = account.event_item(UID)
    assert (event.delivered, event.bounced, event.complained) == (0, 1, 0)
    item = account.attendee_item(UID, WHO)
    assert item.delivery.state is DeliveryState.BOUNCED and item.suppressed is not None
    assert item.counted_feedback == (f"bounced#{message_id}",)
    recorded = [line for line in feedback_outcomes.lines if line.get("outcome") == "feedback_recorded"]
    assert len(recorded) == 1


def test_12_concurrent_deliveries_and_complaints_of_one_email_count_once_each_and_the_newest_wins(
    server, account, feedback_outcomes
):
    server.latency = 0.02
    message_id = sent_invitation(account)
    sent = datetime.now(UTC) - timedelta(hours=1)
    delivered = sns_envelope(shapes.delivery(message_id, WHO, sent + timedelta(minutes=1), sent))
    complained = sns_envelope(shapes.complaint(message_id, WHO, sent + timedelta(minutes=20), sent))

    storm(account, [delivered, complained] * (COPIES // 2))

    event = account.event_item(UID)
    assert (event.delivered, event.bounced, event.complained) == (1, 0, 1)
    item = account.attendee_item(UID, WHO)
    assert item.delivery.state is DeliveryState.COMPLAINED  # whatever order the writes landed in
    assert item.suppressed.reason is DeliveryState.COMPLAINED
    assert sorted(item.counted_feedback) == [f"complained#{message_id}", f"delivered#{message_id}"]
