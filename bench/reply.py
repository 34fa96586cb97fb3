"""AWS calls per recorded reply, measured at the transport in front of moto (tests.support.server).

``bench_reply_calls()`` returns the figures for ``make bench`` (register it in ``bench/run.py``'s
SUITES, e.g. ``"reply": _reply_calls`` with ``from bench.reply import bench_reply_calls``). It
stores replies in the inbound bucket as SES receiving does, delivers their SNS-wrapped receipt
notifications to the real handler in batches of ten, and counts every HTTP request the function
made, retries included:

* a new answer: S3 GetObject, one TransactGetItems (event and attendee items), one
  TransactWriteItems (the answer and the counters) = 3 calls, and a decision again (read and
  write) for an answer whose write was refused because a concurrent one changed the items;
* the same answer delivered again: the write is never attempted (2 calls);
* a REFRESH: the read, the claim, SendEmail and the record (5 calls).
"""

from __future__ import annotations

from collections import Counter

from bench.aws import BATCH, _by_operation, _without_harness, local_aws
from bench.figures import Figure, at_most

# 3 per answer, plus one read and one write for each answer that loses the race to start the
# counts of a version (the first answers to an invitation or an update, when they arrive together).
REPLY_CALLS_GOAL = 3.5
UID = "bench-replies@example.com"


def bench_reply_calls() -> list[Figure]:
    from tests.integration.test_record_reply import Inbox, reply_mail
    from tests.support.aws import invite_body

    attendees = [f"guest{i}@example.org" for i in range(BATCH)]
    with local_aws() as (server, account):
        account.invoke("invite", invite_body(uid=UID, attendee=attendees))
        account.drain("invite")
        inbox = Inbox(account)
        answers = [inbox.store(reply_mail(a, "ACCEPTED", uid=UID)) for a in attendees]
        refreshes = [inbox.store(reply_mail(a, None, uid=UID, method="REFRESH")) for a in attendees]
        measured = {
            "reply": _counted(server, account, answers),
            "duplicate reply": _counted(server, account, answers),
            "refresh": _counted(server, account, refreshes),
        }
    figures = []
    for kind, counted in measured.items():
        per_reply = sum(counted.values()) / BATCH
        goal = kind == "reply"
        figures.append(
            Figure(
                key=f"calls_per_{kind.replace(' ', '_')}",
                label=f"AWS calls per {kind}, batch of {BATCH} to one event",
                value=per_reply,
                unit="calls",
                goal=f"<= {REPLY_CALLS_GOAL:g}" if goal else "",
                met=at_most(per_reply, REPLY_CALLS_GOAL) if goal else None,
                command="python -m bench reply",
                detail={"by_operation": _by_operation(counted)},
            )
        )
    return figures


def _counted(server, account, bodies: list[str]) -> Counter:
    server.reset_calls()
    response = account.invoke("reply", *bodies)
    if response["batchItemFailures"]:
        raise RuntimeError(f"reply batch failed: {response}")
    counted = Counter()
    for (service, operation), n in _without_harness(server.snapshot()).items():
        # S3 is a REST API: the transport names its requests by method and path (one per object).
        counted[
            (service, "GetObject" if service == "s3" and operation.startswith("GET ") else operation)
        ] += n
    return counted
