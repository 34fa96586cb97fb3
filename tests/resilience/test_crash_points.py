"""The function dies at every boundary between the steps of processing a record; SQS redelivers
after the visibility timeout (longer than the claim lease). The documented outcome, per point:
exactly one email, except after SES accepted the email and before the completion write, where the
redelivery sends the same message (same UID and SEQUENCE) a second time."""

from __future__ import annotations

import pytest

from lambdas.adapters.mailer import Mailer
from lambdas.adapters.store import Store
from lambdas.domain.cancellation_contract import event_cancellation_share
from lambdas.domain.contract import Person
from lambdas.domain.vocabulary import AttendeeStatus, Method
from local.samples import invite_body
from tests.resilience.harness import Crash, WorkQueue, by_request, outbox

UID = "evt-crash@example.com"
WHO = "bob@example.org"

# (adapter method, before or after the call) -> emails the attendee ends up with
INVITE_POINTS = {
    (Store, "claim_invite", "before"): 1,
    (Store, "claim_invite", "after"): 1,
    (Mailer, "send", "before"): 1,
    (Mailer, "send", "after"): 2,  # SES accepted, nothing recorded: the documented window
    (Store, "complete", "before"): 2,  # the same window, one step later
    (Store, "complete", "after"): 1,  # recorded: the redelivery is a duplicate
}
CANCEL_POINTS = {
    (Store, "claim_cancellation", "before"): 1,
    (Store, "claim_cancellation", "after"): 1,
    (Mailer, "send", "before"): 1,
    (Mailer, "send", "after"): 2,
    (Store, "complete", "before"): 2,
    (Store, "complete", "after"): 1,
}


def arm(monkeypatch, owner, name: str, when: str, times: int = 1) -> list:
    """Make the next ``times`` calls of owner.name die before or after doing their work."""
    real = getattr(owner, name)
    fired = []

    def crashing(self, *args, **kwargs):
        if len(fired) < times and when == "before":
            fired.append(args)
            raise Crash(f"died before {name}")
        result = real(self, *args, **kwargs)
        if len(fired) < times and when == "after":
            fired.append(args)
            raise Crash(f"died after {name}")
        return result

    monkeypatch.setattr(owner, name, crashing)
    return fired


def ids(points):
    return [f"{when}-{name}" for (_, name, when) in points]


@pytest.mark.parametrize(("point", "expected"), INVITE_POINTS.items(), ids=ids(INVITE_POINTS))
def test_invite_crash_then_redelivery(server, account, clock, outcomes, monkeypatch, point, expected):
    owner, name, when = point
    fired = arm(monkeypatch, owner, name, when)
    queue = WorkQueue(account, "invite")
    message = queue.send(invite_body(uid=UID, attendee=WHO))

    first = queue.deliver()
    assert fired and first == {message} and queue.crashes == 1

    holds_claim = point not in {(Store, "claim_invite", "before"), (Store, "complete", "after")}
    if holds_claim:
        # Within the lease a copy of the request (a producer retry) must not send: in flight.
        copy = account.invoke("invite", invite_body(uid=UID, attendee=WHO))
        assert len(copy["batchItemFailures"]) == 1
        assert outcomes.count()["in_flight"] == 1
    sent_before = len(outbox())

    # SQS redelivers after its visibility timeout (6x the lease, the template's)
    assert queue.redeliver() == set()

    emails = outbox()
    assert len(emails) == expected
    assert {(e.uid, e.recipient, e.sequence, e.method) for e in emails} == {(UID, WHO, 0, "REQUEST")}
    if expected == 2:
        assert sent_before == 1  # the first copy left before the crash
        assert len({e.message_id_header for e in emails}) == 2  # re-rendered: same UID/SEQUENCE
    recorded = [e.ses_id for e in emails if e.ses_id in server.recorder.recorded]
    assert len(recorded) == 1
    item = account.attendee_item(UID, WHO)
    assert item.status is AttendeeStatus.INVITED and item.pending is None
    assert [h.message_id for h in item.history] == recorded
    assert account.event_item(UID).invites_sent == 1
    last = outcomes.lines[-1]["outcome"]
    assert last == ("duplicate" if point == (Store, "complete", "after") else "sent")


@pytest.mark.parametrize(("point", "expected"), CANCEL_POINTS.items(), ids=ids(CANCEL_POINTS))
def test_cancellation_crash_then_redelivery(server, account, clock, outcomes, monkeypatch, point, expected):
    assert account.invoke("invite", invite_body(uid=UID, attendee=WHO)) == {"batchItemFailures": []}
    owner, name, when = point
    fired = arm(monkeypatch, owner, name, when)
    queue = WorkQueue(account, "cancel")
    invite = invite_body(uid=UID, attendee=WHO)
    message = queue.send(event_cancellation_share(invite["event"], Person(**invite["attendee"])))

    assert queue.deliver() == {message} and fired
    assert queue.redeliver() == set()

    cancels = [e for e in outbox() if e.method == "CANCEL"]
    assert len(cancels) == expected
    assert {(e.uid, e.recipient, e.sequence) for e in cancels} == {(UID, WHO, 1)}
    item = account.attendee_item(UID, WHO)
    assert item.status is AttendeeStatus.CANCELLED and item.pending is None
    assert [h.method for h in item.history] == [Method.REQUEST, Method.CANCEL]
    assert account.event_item(UID).cancellations_sent == 1


def test_a_crash_in_a_batch_redelivers_the_batch_and_only_unrecorded_sends_repeat(
    server, account, clock, outcomes, monkeypatch
):
    """One record dies after its send: the whole invocation fails, so no record of the batch was
    recorded. Every record whose email SES had accepted is in the window; the rest send once."""
    arm(monkeypatch, Mailer, "send", "after")
    queue = WorkQueue(account, "invite")
    for i in range(5):
        queue.send(invite_body(uid=UID, attendee=f"guest{i}@example.org"))

    assert len(queue.deliver()) == 5
    window = {e.recipient for e in outbox()}
    assert len(window) >= 1
    assert queue.redeliver() == set()

    for who, emails in {k[1]: v for k, v in by_request(outbox()).items()}.items():
        assert len(emails) == (2 if who in window else 1), who
        assert sum(e.ses_id in server.recorder.recorded for e in emails) == 1
    assert account.event_item(UID).invites_sent == 5
