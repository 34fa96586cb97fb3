"""Clients a function's records may never use are made by their first call (lambdas/adapters/
clients.py): record feedback never makes an SES client, record reply asks SES for the account's rate
only when a REFRESH sends, and no client is made twice by the threads of a batch."""

from __future__ import annotations

import threading

import pytest

from lambdas.adapters import clients
from lambdas.runtime import config, services
from tests.unit.test_pacing import settings


class MadeClients:
    """Stands in for botocore: which clients were made, each a stub that answers every call."""

    def __init__(self):
        self.made: list[str] = []
        self.calls: list[tuple[str, str]] = []

    def __call__(self, service: str, region: str, access_key_id: str | None):
        self.made.append(service)
        return _Stub(service, self.calls)


class _Stub:
    def __init__(self, service: str, calls: list):
        self.service, self.calls = service, calls

    def __getattr__(self, operation: str):
        def call(**_kwargs):
            self.calls.append((self.service, operation))
            if operation == "get_account":
                return {"SendQuota": {"MaxSendRate": 14.0}}
            return {"MessageId": "m-1"}

        return call


@pytest.fixture
def made(monkeypatch):
    recorder = MadeClients()
    monkeypatch.setattr(clients, "_client", recorder)
    return recorder


def test_a_lazy_client_is_made_by_its_first_call_once_whatever_the_threads(made):
    sqs = clients.lazy("sqs", "eu-west-1")
    assert made.made == []
    start = threading.Barrier(8)

    def send():
        start.wait()
        sqs.send_message(QueueUrl="q", MessageBody="b")

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made.made == ["sqs"]
    assert made.calls == [("sqs", "send_message")] * 8


def test_on_first_use_makes_its_value_once_even_when_making_it_makes_another():
    inner = clients.OnFirstUse(lambda: object())
    made = []
    outer = clients.OnFirstUse(lambda: made.append(inner.get()) or len(made))  # as a mailer its client
    assert [outer.get() for _ in range(3)] == [1, 1, 1]
    assert made == [inner.get()]


def test_what_failed_to_be_made_is_made_again_by_the_next_use():
    attempts = []

    def make():
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("GetAccount timed out")
        return "made"

    value = clients.OnFirstUse(make)
    with pytest.raises(ConnectionError):
        value.get()
    assert value.get() == value.get() == "made"
    assert len(attempts) == 2


def test_making_one_value_holds_up_only_those_waiting_for_it(made):
    started, release = threading.Event(), threading.Event()

    def slow():  # a sending pace reading the account's rate from a slow SES
        started.set()
        release.wait(5)
        return "pace"

    pace, sqs = clients.OnFirstUse(slow), clients.lazy("sqs", "eu-west-1")
    reading = threading.Thread(target=pace.get)
    reading.start()
    started.wait(5)
    sqs.send_message(QueueUrl="q", MessageBody="b")
    assert reading.is_alive()  # the SQS client was made while the pace was still being read
    release.set()
    reading.join()
    assert made.made == ["sqs"] and pace.get() == "pace"


def test_a_function_s_adapters_make_only_the_dynamodb_client_until_a_record_needs_another(made):
    wired = services.build(settings(**{config.ENV_MAX_SEND_RATE: config.READ_FROM_ACCOUNT}))
    assert made.made == ["dynamodb"]
    assert made.calls == []  # and ask nothing: the account's rate is read by the first send

    wired.queues.dead_letter("body", "m-0", "invalid", [])
    assert made.made == ["dynamodb", "sqs"]

    assert wired.mailer.send("bob@example.org", b"raw") == "m-1"
    assert wired.mailer.send("eve@example.org", b"raw") == "m-1"
    assert made.made == ["dynamodb", "sqs", "sesv2"]
    sesv2 = [operation for service, operation in made.calls if service == "sesv2"]
    assert sesv2 == ["get_account", "send_email", "send_email"]  # the rate, once per container
