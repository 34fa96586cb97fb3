"""DynamoDB throttling is retried by botocore (standard mode, 5 attempts) inside the invocation, and
a record whose calls still fail is reported for redelivery. SES throttling gets 3 attempts; a send
SES still refuses goes back onto the queue with a delay, counted as handled, so it never reaches
the DLQ; nothing is dropped or sent twice (docs/idempotency.md, "Throttling")."""

from __future__ import annotations

import pytest
from botocore.retries import standard

from lambdas.adapters import clients
from lambdas.adapters.mailer import MAX_PACING_WAIT_SECONDS
from lambdas.domain.vocabulary import AttendeeStatus
from local.samples import invite_body
from local.transport import Fault
from tests.resilience.harness import LEASE, EveryCallFails, ScriptedFaults, outbox

UID = "evt-throttle@example.com"
WHO = "bob@example.org"
ATTEMPTS = 5
SES_ATTEMPTS = 3
DYNAMODB_THROTTLING = [
    (("dynamodb", "TransactWriteItems"), Fault(400, "ProvisionedThroughputExceededException")),
    (("dynamodb", "TransactWriteItems"), Fault(400, "ThrottlingException")),
]
SES_THROTTLING = [
    (("sesv2", "SendEmail"), Fault(429, "TooManyRequestsException")),
    (("sesv2", "SendEmail"), Fault(400, "Throttling", "Maximum sending rate exceeded.")),
    (("sesv2", "SendEmail"), Fault(400, "ThrottlingException", "Maximum sending rate exceeded.")),
]
THROTTLING = [*DYNAMODB_THROTTLING, *SES_THROTTLING]


def ids(cases):
    return [f"{op}-{fault.code}" for (_, op), fault in cases]


def attempts(operation) -> int:
    return SES_ATTEMPTS if operation[0] == "sesv2" else ATTEMPTS


# The function timeout this design needs (docs/performance.md): a record's path is at most four
# calls one after another (claim, send, release after a failed send, the batch's completion write)
# when the pool has a worker per record, each DynamoDB call may back off for up to 1+2+4+8 s and
# the send for 1+2 s, and the send may first wait its turn for up to MAX_PACING_WAIT_SECONDS.
RECOMMENDED_TIMEOUT_SECONDS = 90
_DELAY_AMOUNT = standard.ExponentialBackoff.delay_amount  # botocore's own, before any test patches it


def test_clients_use_standard_retries_with_five_attempts_and_three_for_ses():
    client = clients.client("dynamodb", "us-east-1")
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": ATTEMPTS}
    ses = clients.client("sesv2", "us-east-1")
    assert ses.meta.config.retries == {"mode": "standard", "total_max_attempts": SES_ATTEMPTS}


@pytest.mark.parametrize(("operation", "fault"), THROTTLING, ids=ids(THROTTLING))
def test_throttling_is_retried_inside_the_invocation(server, account, backoff, operation, fault):
    faults = ScriptedFaults(operation, fault, count=attempts(operation) - 1)
    server.faults = faults

    assert account.invoke("invite", invite_body(uid=UID, attendee=WHO)) == {"batchItemFailures": []}

    assert len(outbox()) == 1
    assert faults.seen >= attempts(operation)  # throttled attempts, then the one that went through
    delays = [delay for name, delay in backoff.delays]
    assert len(delays) == attempts(operation) - 1
    # Throttling backs off on the 1 s scale (non-throttling errors: 25-50 ms), jittered.
    assert all(0 <= d <= min(2**i, 20) for i, d in enumerate(delays))
    assert account.attendee_item(UID, WHO).status is AttendeeStatus.INVITED


@pytest.mark.parametrize(("operation", "fault"), DYNAMODB_THROTTLING, ids=ids(DYNAMODB_THROTTLING))
def test_a_record_still_throttled_after_five_attempts_is_reported_and_redelivered(
    server, account, clock, operation, fault
):
    server.faults = ScriptedFaults(operation, fault, count=ATTEMPTS)
    first = account.invoke("invite", invite_body(uid=UID, attendee=WHO))

    assert len(first["batchItemFailures"]) == 1  # reported: SQS redelivers it
    assert outbox() == []
    item = account.attendee_item(UID, WHO)
    assert item is None or item.pending is None  # claim released or never taken

    server.faults = None
    assert account.invoke("invite", invite_body(uid=UID, attendee=WHO)) == {"batchItemFailures": []}
    assert len(outbox()) == 1
    assert account.attendee_item(UID, WHO).status is AttendeeStatus.INVITED


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_a_throttled_completion_write_is_reported_and_is_the_documented_window(
    server, account, clock, outcomes, code
):
    # Let the claim through, then throttle every DynamoDB write: the batch's completion write and
    # its item-by-item fallback.
    claim = ScriptedFaults(("dynamodb", "TransactWriteItems"), Fault(400, code), count=50, skip=1)
    server.faults = lambda op, call_id: (
        claim(op, call_id) or (Fault(400, code) if op == ("dynamodb", "UpdateItem") else None)
    )
    first = account.invoke("invite", invite_body(uid=UID, attendee=WHO))
    assert len(first["batchItemFailures"]) == 1
    assert len(outbox()) == 1 and outcomes.sent_but_not_recorded() == {outbox()[0].ses_id}

    server.faults = None
    # Redelivered within the lease: the claim is still live, nothing is sent.
    assert len(account.invoke("invite", invite_body(uid=UID, attendee=WHO))["batchItemFailures"]) == 1
    clock.advance(LEASE + 1)
    assert account.invoke("invite", invite_body(uid=UID, attendee=WHO)) == {"batchItemFailures": []}
    emails = outbox()
    assert len(emails) == 2 and {(e.uid, e.sequence) for e in emails} == {(UID, 0)}


def test_a_batch_throttled_on_every_call_completes_within_the_timeout(server, account, backoff):
    """Every call of a batch of 10 is throttled four times before it goes through."""
    dynamodb = EveryCallFails({"dynamodb": Fault(400, "ThrottlingException")}, attempts=ATTEMPTS - 1)
    ses = EveryCallFails({"sesv2": Fault(429, "TooManyRequestsException")}, attempts=SES_ATTEMPTS - 1)
    server.faults = lambda operation, call_id: dynamodb(operation, call_id) or ses(operation, call_id)
    bodies = [invite_body(uid=UID, attendee=f"guest{i}@example.org") for i in range(10)]

    assert account.invoke("invite", *bodies) == {"batchItemFailures": []}
    assert len(outbox()) == 10
    # Ten claims and the completion write on DynamoDB, ten sends on SES (and the reads of the
    # account's sending rate, which the template's pacing makes once per sending instance).
    retried = [operation for operation, _ in backoff.delays if operation != "GetAccount"]
    assert len(retried) == 11 * (ATTEMPTS - 1) + 10 * (SES_ATTEMPTS - 1)
    # Time the invocation would have spent sleeping on its longest thread, plus the completion
    # write on the handler thread: within the worst case, within the timeout.
    path = max(backoff.by_thread.values())
    assert path <= 2 * worst_case_backoff() + worst_case_backoff(SES_ATTEMPTS)
    assert sum(sorted(backoff.by_thread.values())[-2:]) <= RECOMMENDED_TIMEOUT_SECONDS


def worst_case_backoff(attempts: int = ATTEMPTS) -> float:
    """botocore's own backoff for a throttled call, with the jitter at its maximum."""

    class Context:
        http_response = None
        attempt_number = 0

    backoff = standard.ExponentialBackoff(random=lambda: 1.0)
    backoff._get_base_scale = lambda context: 1  # the throttling scale
    total = 0.0
    for attempt in range(1, attempts):
        Context.attempt_number = attempt
        total += _DELAY_AMOUNT(backoff, Context)
    return total


def test_the_worst_case_retry_time_fits_the_recommended_timeout():
    assert worst_case_backoff() == 1 + 2 + 4 + 8
    assert worst_case_backoff(SES_ATTEMPTS) == 1 + 2
    claim, release, complete = (worst_case_backoff(),) * 3
    turn, send = MAX_PACING_WAIT_SECONDS, worst_case_backoff(SES_ATTEMPTS)
    assert claim + turn + send + release + complete <= RECOMMENDED_TIMEOUT_SECONDS * 0.75
