"""20 concurrent deliveries of the same request, each its own invocation, send exactly one email."""

from __future__ import annotations

import threading

from lambdas.runtime import services
from local.samples import invite_body, record
from tests.resilience.harness import LEASE, outbox

UID = "evt-storm@example.com"
WHO = "bob@example.org"
STORM = 20


def test_a_storm_of_20_concurrent_deliveries_sends_one_email(server, account, clock, outcomes):
    server.latency = 0.02  # a real round trip, so that the 20 claims are in flight together
    barrier = threading.Barrier(STORM)
    responses = [None] * STORM

    def deliver(index: int) -> None:
        barrier.wait()
        responses[index] = account.invoke("invite", records=[record(invite_body(uid=UID, attendee=WHO))])

    # The environment is set once, before the threads start (patching os.environ from each
    # thread would restore it out of order).
    with account.environment_of("invite"):
        services.from_environment()  # clients made once, as in a warm container
        threads = [threading.Thread(target=deliver, args=(i,)) for i in range(STORM)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(outbox()) == 1
    counts = outcomes.count()
    assert counts["sent"] == 1
    # The other 19 met the live claim (retried later) or the finished record (done).
    assert counts["in_flight"] + counts["duplicate"] == STORM - 1
    assert sum(len(r["batchItemFailures"]) for r in responses) == counts["in_flight"]

    # SQS redelivers the in-flight ones after its visibility timeout: they find the record.
    clock.advance(LEASE + 1)
    for _ in range(counts["in_flight"]):
        assert account.invoke("invite", invite_body(uid=UID, attendee=WHO)) == {"batchItemFailures": []}
    assert len(outbox()) == 1
    item = account.attendee_item(UID, WHO)
    assert len(item.history) == 1 and item.pending is None
    assert account.event_item(UID).invites_sent == 1


def test_a_storm_inside_one_batch_sends_one_email(server, account, outcomes):
    """The same request 10 times in one batch: the thread pool races the claims."""
    server.latency = 0.02
    response = account.invoke("invite", *[invite_body(uid=UID, attendee=WHO) for _ in range(10)])
    assert len(outbox()) == 1
    assert outcomes.count()["sent"] == 1
    assert len(response["batchItemFailures"]) == outcomes.count()["in_flight"]
