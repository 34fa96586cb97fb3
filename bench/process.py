"""Peak RSS and CPU of a function's first batch, each in a fresh interpreter (import time:
bench.imports).

It runs against the built asset (bench.asset), as Lambda would: the asset directory first on
``sys.path``, boto3/botocore from this environment (the Lambda runtime provides them). This
interpreter reads no bytecode of the asset's (it has none, or the runtime's CPython 3.13's), so it
compiles the asset's modules as a cold start without bytecode does; it runs with ``-B`` so that
nothing is cached between runs either.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from bench import asset as asset_builder
from bench.figures import Figure, at_most
from bench.imports import BASELINE, HANDLERS
from bench.imports import fresh as _fresh

RSS_GOAL_MB = 100.0
PROBE_RUNS = 3
BATCH = 10

_PROBE = """
import json, sys, time
sys.path.insert(0, {path!r})
records = json.loads(sys.stdin.read())

def peak_rss_kb():
    # VmHWM: this process image's peak RSS. (ru_maxrss survives exec on Linux, so a child started
    # from a large parent would report the parent's peak.)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

from {module} import lambda_handler
cpu, wall = time.process_time(), time.perf_counter()
response = lambda_handler({{"Records": records}}, None)
print(json.dumps({{
    "maxrss_kb": peak_rss_kb(),
    "cpu_s": time.process_time() - cpu,
    "wall_s": time.perf_counter() - wall,
    "failures": len(response["batchItemFailures"]),
}}))
"""

_BASELINE_RSS = """
import sys
sys.path.insert(0, {path!r})
import boto3, icalendar
boto3.session.Session().client("dynamodb", region_name="us-east-1")
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")))
"""


def memory() -> list[Figure]:
    from bench.aws import local_aws

    path = asset_builder.build()
    probes: dict[str, list[dict]] = defaultdict(list)
    with local_aws() as (_server, account):
        for run in range(PROBE_RUNS):  # each run's batches are new work: their own event
            for function, (short, records) in _first_batches(account, f"rss-{run}").items():
                assert len(records) == BATCH, (function, len(records))  # a batch of ten, not fewer
                probes[function].append(_probe(path, function, account.environment(short), records))
    figures = []
    for function, runs in probes.items():
        mb = max(probe["maxrss_kb"] for probe in runs) / 1024
        figures.append(
            Figure(
                key=f"peak_rss_mb_{function}",
                label=f"Peak RSS, {function}, fresh process, batch of 10",
                value=mb,
                unit="MB",
                goal=f"<= {RSS_GOAL_MB:g}",
                met=at_most(mb, RSS_GOAL_MB),
                command="python -m bench memory",
                detail={"runs": len(runs), "statistic": "the largest"},
            )
        )
        wall_ms = statistics.median(probe["wall_s"] for probe in runs) * 1000
        figures.append(
            Figure(
                key=f"first_batch_cpu_ms_{function}",
                label=f"First batch of 10 after a cold start, {function}: CPU (import not counted)",
                value=round(statistics.median(probe["cpu_s"] for probe in runs) * 1000, 1),
                unit="ms",
                command="python -m bench memory",
                detail={
                    "batch_wall_ms_cold": round(wall_ms, 1),
                    "runs": len(runs),
                    "statistic": "median",
                    "note": "a fresh process: the clients the batch uses are made in it; no injected RTT",
                },
            )
        )
    baseline_kb = int(_fresh(_BASELINE_RSS.format(path=str(path))).stdout)
    figures.append(
        Figure(
            key="peak_rss_mb_baseline",
            label=f"Peak RSS of a process that imports {BASELINE} and makes one client",
            value=baseline_kb / 1024,
            unit="MB",
            command="python -m bench memory",
        )
    )
    return figures


def _first_batches(account, tag: str) -> dict[str, tuple[str, list[dict]]]:
    """Each queue function's first batch of ten (function -> its short name and records): sends of
    invitations and cancellations (the heaviest work; record reply's bound on a 40 MB email is
    asserted with tracemalloc in tests/integration/test_record_reply.py), answers to them, and the
    delivery feedback of the emails they sent."""
    from bench.aws import _cancel, _invite
    from local.samples import record, reply_mail
    from local.shapes import delivery, sns_envelope

    uid = f"{tag}@example.com"
    pairs = [(uid, f"guest{i}@example.org") for i in range(BATCH)]
    # The cancellations, answers and feedback need invited attendees: invite them first, here.
    setup = account.invoke("invite", *[_invite(u, a) for u, a in pairs])
    assert setup["batchItemFailures"] == [], setup
    answers = [account.receive(reply_mail(a, "ACCEPTED", uid=u)) for u, a in pairs]
    # SES's Delivery event for each invitation, as its topic hands it on (moto runs in another
    # process, whose outbox the runtime's publish_delivery_event cannot read).
    now = datetime.now(UTC)
    delivered = [
        sns_envelope(delivery(account.attendee_item(u, a).message_id, a, now, now - timedelta(seconds=1)))
        for u, a in pairs
    ]
    return {  # in this order: the answers and the feedback are to the event before it is cancelled
        "send-invite": ("invite", [record(_invite(f"{tag}-more@example.com", a)) for _, a in pairs]),
        "record-reply": ("reply", [record(body) for body in answers]),
        "record-feedback": ("feedback", [record(body) for body in delivered]),
        "send-cancellation": ("cancel", [record(_cancel(u, a)) for u, a in pairs]),
    }


def _probe(path, function: str, environment: dict[str, str], records: list[dict]) -> dict:
    """The batch handled by the function's handler in a fresh interpreter, in its environment."""
    env = {
        **{k: v for k, v in os.environ.items() if k.startswith("AWS_") or k == "PATH"},
        **environment,
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, code built here
        [sys.executable, "-I", "-B", "-c", _PROBE.format(path=str(path), module=HANDLERS[function])],
        input=json.dumps(records),
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    if probe["failures"]:
        raise RuntimeError(f"{function}: {probe['failures']} records failed in the fresh-process probe")
    return probe
