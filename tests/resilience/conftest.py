"""The functions of the app's template against moto over HTTP (local.transport), on moto's clock,
which the tests move forward (local.moto_clock)."""

from __future__ import annotations

import dataclasses
import logging
import threading

import pytest
from botocore.retries import standard

from lambdas.runtime import config, services
from local import moto_clock
from local.driver import driven
from local.sandbox import fresh_function_services
from local.transport import LocalAws
from tests.resilience.harness import Outcomes, Recorder


@pytest.fixture(scope="session")
def local_aws():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with LocalAws() as server:
        yield server


class Backoff:
    """botocore's real retry delays, recorded instead of slept (the tests would take minutes)."""

    def __init__(self, original):
        self.original = original
        self.delays: list[tuple[str, float]] = []
        self.by_thread: dict[int, float] = {}

    def record(self, backoff, context) -> float:
        delay = self.original(backoff, context)
        self.delays.append((context.operation_model.name if context.operation_model else "?", delay))
        thread = threading.get_ident()
        self.by_thread[thread] = self.by_thread.get(thread, 0.0) + delay
        return 0.0


@pytest.fixture
def backoff(monkeypatch):
    recorder = Backoff(standard.ExponentialBackoff.delay_amount)

    def delay_amount(self, context):
        return recorder.record(self, context)

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", delay_amount)
    return recorder


@pytest.fixture
def clock(monkeypatch):
    """moto's SQS clock (visibility timeouts, delays), which the functions read too (``Services.clock``:
    their claims' leases): ``clock.advance(seconds)`` moves both."""
    build = services.build
    monkeypatch.setattr(services, "build", lambda s: dataclasses.replace(build(s), clock=moto_clock.now))
    yield moto_clock
    moto_clock.rewind()


@pytest.fixture
def outcomes():
    with Outcomes().attached(("send-invite", "send-cancellation")) as handler:
        yield handler


@pytest.fixture
def server(local_aws, monkeypatch, backoff, clock):
    """A clean local AWS, the functions' clients pointed at it, retries not slept."""
    local_aws.faults = None
    local_aws.latency = 0.0
    local_aws.observers.clear()
    local_aws.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_aws.endpoint_url)
    recorder = Recorder()
    local_aws.observers.append(recorder)
    local_aws.recorder = recorder
    with fresh_function_services():
        yield local_aws
    local_aws.faults = None
    local_aws.observers.clear()


@pytest.fixture
def account(server, samples_assembly, tmp_path):
    """The app's template deployed on the transport's moto, its functions driven one at a time."""
    with driven(samples_assembly, tmp_path / "runtime", server.attach()) as driver:
        # A configured rate (`sesMaxSendRate`), as a deployment may set: these tests refuse a share of
        # every AWS call, and a container whose one GetAccount was refused paces at the fallback
        # rate (1 email/s) for its lifetime, which the moved clock would wait out for ever.
        driver.overrides[config.ENV_MAX_SEND_RATE] = "1000"
        yield driver
