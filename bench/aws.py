"""Figures measured against moto on loopback: AWS calls per email, and batch wall time.

moto runs in a child process (``local.transport.RemoteAws``), so its CPU never competes with the
function's threads for this interpreter's GIL. The functions run in this process, exactly as
Lambda runs them: the real handler, its cached boto3 clients, the batch thread pool.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench.figures import Figure, at_most

RTT_SECONDS = 0.020
LATENCY_RUNS = 15
MOTO_LATENCY_RUNS = 5
BATCH = 10
CALLS_GOAL = 3.0
LATENCY_GOAL_MS = 150.0


@contextlib.contextmanager
def local_aws() -> Iterator[tuple[object, object]]:
    """(server, Driver): the app's template deployed on a fresh local moto server, its functions
    driven one at a time (local/driver.py)."""
    import importlib
    import tempfile

    from local import assembly
    from local.driver import PACKAGES, driven
    from local.samples import CONTEXT
    from local.server import AttachedMoto
    from local.transport import RemoteAws

    with _quiet_function_logs():  # imported here, not by the deployment, so that their logs go nowhere
        for package in PACKAGES.values():
            importlib.import_module(f"lambdas.{package}.handler")
    with (
        RemoteAws() as server,
        tempfile.TemporaryDirectory(prefix="bench-") as work_dir,
        driven(assembly.locate(context=CONTEXT), Path(work_dir), AttachedMoto(server.endpoint_url)) as driver,
    ):
        yield server, driver


_SINK = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


@contextlib.contextmanager
def _quiet_function_logs():
    """The functions bind their log handler to sys.stdout when the handler module is imported: keep the
    JSON log lines (writing them is part of the function's cost) but send them to /dev/null."""
    with contextlib.redirect_stdout(_SINK):
        yield


def _invite(uid: str, attendee: str, sequence: int = 0) -> dict:
    from local.samples import invite_body

    return invite_body(uid=uid, attendee=attendee, sequence=sequence)


def _cancel(uid: str, attendee: str) -> dict:
    from lambdas.domain.cancellation_contract import event_cancellation_share
    from lambdas.domain.events import Person

    body = _invite(uid, attendee)  # the shape the whole-event fan-out enqueues, one per attendee
    return event_cancellation_share({**body["event"], "sequence": 1}, Person(**body["attendee"]))


def _shapes(tag: str) -> dict[str, list[tuple[str, str]]]:
    one_event = [(f"{tag}-one@example.com", f"guest{i}@example.org") for i in range(BATCH)]
    ten_events = [(f"{tag}-e{i}@example.com", f"guest{i}@example.org") for i in range(BATCH)]
    return {"one event": one_event, "10 events": ten_events}


def _counted(server, account, function: str, bodies: list[dict]) -> Counter:
    server.reset_calls()
    response = account.invoke(function, *bodies)
    if response["batchItemFailures"]:
        raise RuntimeError(f"{function} batch failed: {response}")
    return server.snapshot()


def calls() -> list[Figure]:
    figures = []
    with local_aws() as (server, account):
        # Warm instances, as the figures are per batch: each reads the account's sending rate once.
        _counted(server, account, "invite", [_invite("warm@example.com", "w@example.org")])
        _counted(server, account, "cancel", [_cancel("warm@example.com", "w@example.org")])
        for shape, pairs in _shapes("calls").items():
            invites = _counted(server, account, "invite", [_invite(uid, a) for uid, a in pairs])
            cancels = _counted(server, account, "cancel", [_cancel(uid, a) for uid, a in pairs])
            for kind, counted in (("invite", invites), ("cancellation", cancels)):
                sends = counted[("sesv2", "SendEmail")]
                if sends != BATCH:
                    raise RuntimeError(f"expected {BATCH} emails, SES saw {sends}: {counted}")
                per_email = sum(counted.values()) / BATCH
                figures.append(
                    Figure(
                        key=f"calls_per_{kind}_{shape.replace(' ', '_')}",
                        label=f"AWS calls per {kind}, batch of {BATCH} to {shape}",
                        value=per_email,
                        unit="calls",
                        goal=f"<= {CALLS_GOAL:g}",
                        met=at_most(per_email, CALLS_GOAL),
                        command="python -m bench calls",
                        detail={"by_operation": _by_operation(counted)},
                    )
                )
        figures += _fan_out_calls(server, account)
    return figures


def _fan_out_calls(server, account) -> list[Figure]:
    """End to end through the fan-out records: what one multi-attendee request costs per email."""
    from local.samples import invite_body

    uid = "fanout@example.com"
    attendees = [f"guest{i}@example.org" for i in range(BATCH)]
    server.reset_calls()
    account.invoke("invite", invite_body(uid=uid, attendee=attendees))
    account.drain("invite")  # the harness's own ReceiveMessage/DeleteMessage are not the function's
    invites = _without_harness(server.snapshot())
    server.reset_calls()
    account.invoke("cancel", {"event": {"uid": uid}})
    account.drain("cancel")
    cancels = _without_harness(server.snapshot())
    out = []
    for kind, counted, request in (
        ("invite", invites, "one request with 10 attendees"),
        ("cancellation", cancels, "cancel a 10-attendee event by uid"),
    ):
        out.append(
            Figure(
                key=f"calls_per_{kind}_fan_out",
                label=f"AWS calls per {kind}, {request} (fan-out included)",
                value=sum(counted.values()) / BATCH,
                unit="calls",
                command="python -m bench calls",
                detail={"by_operation": _by_operation(counted)},
            )
        )
    return out


# What the local poller (local.sources.sqs) calls on the function's behalf, as Lambda's poller does.
EVENT_SOURCE_MAPPING_CALLS = frozenset(
    ("sqs", op) for op in ("ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility")
)


def _without_harness(counted: Counter) -> Counter:
    # On Lambda the event source mapping receives and deletes; the function never does.
    return Counter({k: v for k, v in counted.items() if k not in EVENT_SOURCE_MAPPING_CALLS})


def _by_operation(counted: Counter) -> dict[str, int]:
    return {f"{service}:{op}": n for (service, op), n in sorted(counted.items())}


def latency() -> list[Figure]:
    """A batch of 10 invites with the template's environment (its BATCH_MAX_WORKERS), unpaced: the
    batch's own cost (bench/pacing.py times it under a share of the SES rate)."""
    from lambdas.runtime import config, services

    with local_aws() as (server, account):
        account.overrides[config.ENV_MAX_SEND_RATE] = ""
        workers = account.environment("invite").get(config.ENV_MAX_WORKERS, config.DEFAULT_MAX_WORKERS)
        # Against moto: records its answers, warms the clients; then with the delay.
        _timed_batch(account)
        server.configure(latency=RTT_SECONDS)
        with_moto = [_timed_batch(account) for _ in range(MOTO_LATENCY_RUNS)]
        # Timed: the same answers, replayed after the delay over keep-alive connections.
        moto_url = os.environ["AWS_ENDPOINT_URL"]
        os.environ["AWS_ENDPOINT_URL"] = server.replay_url
        services.reset()
        try:
            _timed_batch(account)  # new clients and connections, as a warm container has them
            server.reset_calls()
            replayed = [_timed_batch(account) for _ in range(LATENCY_RUNS)]
            counted = server.snapshot()
        finally:
            os.environ["AWS_ENDPOINT_URL"] = moto_url
            services.reset()
    if sum(counted.values()) != 21 * LATENCY_RUNS:
        raise RuntimeError(f"unexpected calls while timing: {counted}")
    wall = statistics.median(t for t, _ in replayed)
    cpu = statistics.median(c for _, c in replayed)
    return [
        Figure(
            key="batch_wall_ms",
            label=f"Batch of {BATCH} invites, {RTT_SECONDS * 1000:.0f} ms RTT, {workers} workers (deployed)",
            value=wall * 1000,
            unit="ms",
            goal=f"<= {LATENCY_GOAL_MS:g}",
            met=at_most(wall * 1000, LATENCY_GOAL_MS),
            command="python -m bench latency",
            detail={
                "runs_ms": [round(t * 1000, 1) for t, _ in replayed],
                "cpu_ms_median": round(cpu * 1000, 1),
                "with_moto_in_the_loop_ms": [round(t * 1000, 1) for t, _ in with_moto],
                "with_moto_in_the_loop_median_ms": round(
                    statistics.median(t for t, _ in with_moto) * 1000, 1
                ),
                "method": "moto's answers replayed after the injected RTT, keep-alive connections",
            },
        ),
        Figure(
            key="batch_cpu_ms",
            label=f"CPU time of the function per batch of {BATCH} invites",
            value=cpu * 1000,
            unit="ms",
            command="python -m bench latency",
            detail={"runs_ms": [round(c * 1000, 1) for _, c in replayed]},
        ),
    ]


def _timed_batch(account) -> tuple[float, float]:
    uid = f"lat-{uuid.uuid4().hex[:12]}@example.com"
    bodies = [_invite(uid, f"guest{i}@example.org") for i in range(BATCH)]
    cpu, start = time.process_time(), time.perf_counter()
    response = account.invoke("invite", *bodies)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if response["batchItemFailures"]:
        raise RuntimeError(f"batch failed: {response}")
    return wall, cpu
