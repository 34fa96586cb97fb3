"""Keeping to the SES sending rate: the token bucket, reading the rate, and SES's throttling."""

from __future__ import annotations

import itertools
import logging
import threading

import pytest
from botocore.exceptions import ClientError

from lambdas.adapters import mailer as mailer_module
from lambdas.adapters.mailer import (
    DAILY_RETRY_SECONDS,
    MAX_PACING_WAIT_SECONDS,
    RATE_RETRY_SECONDS,
    Mailer,
    SendThrottled,
    ses_throttling,
)
from lambdas.adapters.pacing import TokenBucket
from lambdas.runtime import config
from lambdas.runtime.services import FALLBACK_SEND_RATE, send_pace


class FakeTime:
    """A clock that only moves when slept on or advanced: no test sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def bucket(rate: float, time: FakeTime) -> TokenBucket:
    return TokenBucket(rate, clock=time.clock, sleep=time.sleep)


# ---------------------------------------------------------------------------------- token bucket


def test_the_first_send_goes_at_once_and_the_next_waits_its_turn():
    time = FakeTime()
    pace = bucket(2.0, time)

    assert pace.acquire(10) == 0
    assert pace.acquire(10) == pytest.approx(0.5)
    assert pace.acquire(10) == pytest.approx(1.0)  # reservations queue up behind each other
    assert time.slept == pytest.approx([0.5, 1.0])


def test_an_idle_bucket_holds_one_token_only_so_a_container_never_bursts():
    time = FakeTime()
    pace = bucket(5.0, time)
    pace.acquire(10)
    time.advance(3600)

    waits = [pace.acquire(10) for _ in range(3)]

    assert waits == pytest.approx([0, 0.2, 0.4])


def test_no_more_than_the_rate_is_sent_over_any_stretch_of_time():
    time = FakeTime()
    pace = bucket(3.0, time)
    sent_at = []
    for _ in range(30):
        waited = pace.acquire(60)
        time.advance(waited)  # the caller slept that long
        sent_at.append(time.now)

    span = sent_at[-1] - sent_at[0]
    assert span == pytest.approx(29 / 3.0)
    assert all(b - a == pytest.approx(1 / 3.0) for a, b in itertools.pairwise(sent_at))


def test_a_turn_further_away_than_the_budget_is_refused_and_takes_no_token():
    time = FakeTime()
    pace = bucket(0.1, time)  # one send every 10 s
    assert pace.acquire(5) == 0

    assert pace.acquire(5) is None
    assert pace.wait_time() == pytest.approx(10)  # the refusal reserved nothing
    time.advance(10)
    assert pace.acquire(5) == 0
    assert time.slept == []


def test_hold_refuses_every_turn_until_it_ends():
    time = FakeTime()
    pace = bucket(100.0, time)
    pace.hold(600)

    assert pace.acquire(MAX_PACING_WAIT_SECONDS) is None
    assert pace.wait_time() == pytest.approx(600)
    time.advance(600)
    assert pace.acquire(MAX_PACING_WAIT_SECONDS) == 0


def test_threads_sharing_the_bucket_each_get_a_distinct_turn():
    time = FakeTime()
    pace = bucket(4.0, time)
    waits = []
    lock = threading.Lock()

    def send():
        waited = pace.acquire(60)
        with lock:
            waits.append(waited)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(waits) == pytest.approx([i / 4.0 for i in range(10)])


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)


# ------------------------------------------------------------------------------ reading the rate


class StubSes:
    def __init__(self, rate: float | None = 14.0, error: Exception | None = None):
        self.rate, self.error, self.calls = rate, error, 0

    def get_account(self):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return {"SendQuota": {"MaxSendRate": self.rate, "Max24HourSend": 50000.0}}


def settings(**environ) -> config.Settings:
    base = {
        config.ENV_REGION: "us-east-1",
        config.ENV_TABLE: "t",
        config.ENV_SENDER: "s@example.com",
        config.ENV_RSVP_EMAIL: "r@example.com",
        config.ENV_QUEUE_URL: "q",
        config.ENV_DLQ_URL: "d",
    }
    return config.Settings.from_environ({**base, **environ})


def test_without_a_rate_the_function_does_not_pace_and_asks_ses_nothing():
    ses = StubSes()
    assert send_pace(settings(), ses) is None
    assert ses.calls == 0


def test_a_configured_rate_is_shared_among_the_sending_instances_without_asking_ses():
    ses = StubSes(error=AssertionError("GetAccount must not be called"))
    pace = send_pace(settings(**{config.ENV_MAX_SEND_RATE: "50", config.ENV_SENDING_INSTANCES: "4"}), ses)
    assert pace.rate == pytest.approx(12.5)
    assert ses.calls == 0


def test_the_account_rate_is_read_from_ses_once_and_shared():
    ses = StubSes(rate=14.0)
    pace = send_pace(
        settings(**{config.ENV_MAX_SEND_RATE: "account", config.ENV_SENDING_INSTANCES: "6"}), ses
    )
    assert pace.rate == pytest.approx(14.0 / 6)
    assert ses.calls == 1


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetAccount"),
        NotImplementedError("The get_account action has not been implemented"),  # moto
    ],
)
def test_a_rate_ses_will_not_tell_falls_back_to_the_sandbox_rate_and_says_so(caplog, error):
    caplog.set_level(logging.WARNING)
    ses = StubSes(error=error)
    pace = send_pace(
        settings(**{config.ENV_MAX_SEND_RATE: "account", config.ENV_SENDING_INSTANCES: "2"}), ses
    )
    assert pace.rate == pytest.approx(FALLBACK_SEND_RATE / 2)
    [line] = [r for r in caplog.records if "fallback" in r.getMessage()]
    assert line.levelno == logging.WARNING and type(error).__name__ in line.error


def test_a_zero_rate_from_ses_is_not_believed():
    pace = send_pace(settings(**{config.ENV_MAX_SEND_RATE: "account"}), StubSes(rate=0.0))
    assert pace.rate == FALLBACK_SEND_RATE


@pytest.mark.parametrize("raw", ["fast", "0", "-1", "nan", "inf"])
def test_a_send_rate_that_is_not_a_positive_number_is_a_configuration_error(raw):
    with pytest.raises(config.ConfigurationError, match=config.ENV_MAX_SEND_RATE):
        settings(**{config.ENV_MAX_SEND_RATE: raw})


# ------------------------------------------------------------------------------------ throttling


def ses_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "SendEmail")


class Sesv2:
    def __init__(self, error: Exception | None = None):
        self.error, self.sent = error, []

    def send_email(self, **request):
        if self.error is not None:
            raise self.error
        self.sent.append(request)
        return {"MessageId": f"id-{len(self.sent)}"}


@pytest.mark.parametrize("code", ["Throttling", "ThrottlingException", "TooManyRequestsException"])
def test_the_sending_rate_refusal_is_throttling_with_a_short_jittered_delay(code):
    throttled = ses_throttling(ses_error(code, "Maximum sending rate exceeded."))
    assert isinstance(throttled, SendThrottled) and not throttled.daily and throttled.by_ses
    assert RATE_RETRY_SECONDS[0] <= throttled.retry_after <= RATE_RETRY_SECONDS[1]
    assert code in throttled.reason


@pytest.mark.parametrize(
    ("code", "message"),
    [("ThrottlingException", "Daily message quota exceeded."), ("LimitExceededException", "")],
)
def test_the_daily_quota_refusal_waits_long_and_holds_the_container_back(code, message):
    time = FakeTime()
    pace = bucket(10.0, time)
    mailer = Mailer(Sesv2(ses_error(code, message)), "s@example.com", pace=pace)

    with pytest.raises(SendThrottled) as raised:
        mailer.send("bob@example.org", b"raw")

    assert raised.value.daily
    assert DAILY_RETRY_SECONDS[0] <= raised.value.retry_after <= DAILY_RETRY_SECONDS[1]
    assert pace.wait_time() == pytest.approx(DAILY_RETRY_SECONDS[0] - 0.1, abs=0.2)


@pytest.mark.parametrize("code", ["MessageRejected", "InternalFailure", "SendingPausedException"])
def test_other_ses_errors_are_not_throttling(code):
    mailer = Mailer(Sesv2(ses_error(code, "nope")), "s@example.com")
    with pytest.raises(ClientError):
        mailer.send("bob@example.org", b"raw")
    assert ses_throttling(ValueError("x")) is None


def test_a_send_past_the_pacing_budget_is_held_back_without_asking_ses(monkeypatch):
    time = FakeTime()
    pace = bucket(0.05, time)  # one send every 20 s, beyond the 10 s budget
    ses = Sesv2()
    mailer = Mailer(ses, "s@example.com", pace=pace)

    assert mailer.send("a@example.org", b"raw") == "id-1"
    with pytest.raises(SendThrottled) as raised:
        mailer.send("b@example.org", b"raw")

    assert not raised.value.by_ses and len(ses.sent) == 1
    assert 20 <= raised.value.retry_after <= 30  # its turn, jittered by up to half as much
    assert mailer_module.MAX_PACING_WAIT_SECONDS < 20
