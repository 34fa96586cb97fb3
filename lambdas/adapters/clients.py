"""boto3 clients, created once per container on first use and shared by the batch's threads.

A client a function's records may never use (record reply's SES client, for a REFRESH; any
function's SQS client, for putting a record back or dead-lettering it) is ``lazy``: made by its
first call, not when the function's adapters are wired. Making the SES v2 client alone takes 35 to
50 ms of CPU, on top of the account's sending rate read with it (docs/performance.md, "Cold start").
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cache
from typing import Generic, TypeVar

import boto3
from botocore.config import Config

# "standard" retries throttling (SES Throttling/TooManyRequests, DynamoDB throughput errors) and
# transient 5xx with jittered exponential back-off: up to 1+2+4+8 = 15 s for a throttled call
# over its five attempts (docs/performance.md). A record that still fails is reported to SQS for
# redelivery, never dropped. "total_max_attempts" counts the first attempt; botocore's older
# "max_attempts" key counts retries only (5 would mean 6 attempts and up to 31 s of back-off).
RETRY_CONFIG = {"mode": "standard", "total_max_attempts": 5}
# SES sends get three attempts (at most 1+2 s of back-off): a throttled send that still fails goes
# back onto its queue with a delay (lambdas/adapters/mailer.py) instead of holding a worker thread,
# and fewer retries of a send whose answer was lost also mean fewer chances of a duplicate email.
# Not botocore's "adaptive" mode: its client-side limiter sleeps without bound and only learns the
# rate from the throttling it meets; the container's TokenBucket knows the rate beforehand.
SES_RETRY_CONFIG = {"mode": "standard", "total_max_attempts": 3}
RETRIES = {"sesv2": SES_RETRY_CONFIG}

T = TypeVar("T")
# Held while a client is made: boto3 does not make clients thread-safely.
_MAKING = threading.Lock()


def client_config(max_pool_connections: int = 16, retries: dict | None = None) -> Config:
    return Config(
        retries=retries or RETRY_CONFIG,
        connect_timeout=3,
        read_timeout=10,
        # One connection per batch worker thread, so concurrent records never queue for a socket.
        max_pool_connections=max_pool_connections,
        parameter_validation=False,
    )


def client(service: str, region: str):
    # Also keyed by the credentials in the environment, which a client keeps: on Lambda a container
    # runs one function, but the local runtime runs every function in one process, each as its role.
    with _MAKING:
        return _client(service, region, os.environ.get("AWS_ACCESS_KEY_ID"))


def lazy(service: str, region: str):
    """The client of ``client(service, region)``, made by its first call from any thread, with the
    credentials in the environment now (a function's, in the local runtime's shared process)."""
    access_key_id = os.environ.get("AWS_ACCESS_KEY_ID")

    def make():
        with _MAKING:
            return _client(service, region, access_key_id)

    return _Lazy(OnFirstUse(make))


class OnFirstUse(Generic[T]):
    """What ``make()`` returns, made by the first ``get()`` of any thread, once, and shared after
    (made again by the next ``get()`` if making it raised). Each has its lock, so that making one
    (a call to AWS, say) holds up only the threads that wait for that one."""

    def __init__(self, make: Callable[[], T]):
        self._make: Callable[[], T] | None = make
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        if self._make is not None:
            with self._lock:
                if self._make is not None:  # another thread may have made it while this one waited
                    self._value, self._make = self._make(), None
        return self._value  # type: ignore[return-value]  # made above, or before


class _Lazy:
    """A client's stand-in: every attribute is the client's, which the first one asked for makes."""

    def __init__(self, client: OnFirstUse):
        self._made = client

    def __getattr__(self, name: str):
        return getattr(self._made.get(), name)


@cache
def _client(service: str, region: str, access_key_id: str | None):
    # boto3.client() is not thread-safe: every caller holds _MAKING.
    return _session(access_key_id).client(
        service, region_name=region, config=client_config(retries=RETRIES.get(service))
    )


@cache
def _session(_access_key_id: str | None) -> boto3.session.Session:
    # One session for a function's clients: making one costs more than a client (about 25 ms).
    return boto3.session.Session()


def reset() -> None:
    """Forget cached clients (tests that switch between mocked AWS endpoints)."""
    _client.cache_clear()
    _session.cache_clear()
