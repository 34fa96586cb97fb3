"""AWS calls per recorded reply, measured at the transport in front of moto (local.transport).

``bench_reply_calls()`` returns the figures for ``make bench`` (``python -m bench reply``). It
stores replies in the inbound bucket as SES receiving does, delivers their SNS-wrapped receipt
notifications to the real handler in batches of ten, and counts every HTTP request the function
made, retries included:

* an answer (here a change of mind): S3 GetObject, one TransactGetItems (event and attendee
  items), one TransactWriteItems (the answer and the counters) = 3 calls;
* the first answers to a version arriving together: the same, plus a read and a write again for
  each answer that lost the race to start that version's counts (informational: it depends on how
  the batch's threads interleave);
* the same answer delivered again: the write is never attempted (2 calls);
* a REFRESH: the read, the claim, SendEmail and the record (5 calls);
* an answer for one occurrence of a series (RECURRENCE-ID), a change of mind: S3 GetObject, one
  TransactGetItems (event, attendee and the occurrence's counts), one TransactWriteItems = 3 calls;
  the first answers to an occurrence race to create its counts, and each that lost
  reads and writes again (informational, as for the series);
* an unverified answer (relayed, as Nextcloud sends it): S3 GetObject, the read, one UpdateItem.
"""

from __future__ import annotations

from collections import Counter

from bench.aws import BATCH, _by_operation, _without_harness, local_aws
from bench.figures import Figure, at_most

REPLY_CALLS_GOAL = 3.0
UID = "bench-replies@example.com"
SERIES_UID = "bench-series@example.com"
GOALS = ("reply", "occurrence reply")


def bench_reply_calls() -> list[Figure]:
    from local.samples import invite_body, reply_mail

    attendees = [f"guest{i}@example.org" for i in range(BATCH)]
    with local_aws() as (server, account):
        account.invoke("invite", invite_body(uid=UID, attendee=attendees))
        weekly = {"rrule": "FREQ=WEEKLY;COUNT=10"}
        account.invoke("invite", invite_body(uid=SERIES_UID, attendee=attendees, **weekly))
        account.drain("invite")
        first = [account.receive(reply_mail(a, "ACCEPTED", uid=UID)) for a in attendees]
        later = "20261125T090000Z"
        minds = [account.receive(reply_mail(a, "DECLINED", uid=UID, dtstamp=later)) for a in attendees]
        refreshes = [account.receive(reply_mail(a, None, uid=UID, method="REFRESH")) for a in attendees]
        one_occurrence = ("RECURRENCE-ID:20261208T150000Z",)
        first_instances = [
            account.receive(reply_mail(a, "DECLINED", uid=SERIES_UID, event_lines=one_occurrence))
            for a in attendees
        ]
        instances = [  # a change of mind for that occurrence, as "reply" is for the series
            account.receive(
                reply_mail(a, "ACCEPTED", uid=SERIES_UID, event_lines=one_occurrence, dtstamp=later)
            )
            for a in attendees
        ]
        relayed = [
            account.receive(
                reply_mail(
                    a,
                    "ACCEPTED",
                    uid=SERIES_UID,
                    sender="no-reply@cloud.example.net",
                    headers={"Reply-To": a},
                )
            )
            for a in attendees
        ]
        measured = {
            "first reply": _counted(server, account, first),
            "reply": _counted(server, account, minds),
            "duplicate reply": _counted(server, account, minds),
            "refresh": _counted(server, account, refreshes),
            "first occurrence reply": _counted(server, account, first_instances),
            "occurrence reply": _counted(server, account, instances),
            "unverified reply": _counted(server, account, relayed),
        }
    figures = []
    for kind, counted in measured.items():
        per_reply = sum(counted.values()) / BATCH
        goal = kind in GOALS
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
