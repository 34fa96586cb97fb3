"""boto3 clients, created once per container on first use and shared by the batch's threads."""

from __future__ import annotations

import os
from functools import cache

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
    return _client(service, region, os.environ.get("AWS_ACCESS_KEY_ID"))


@cache
def _client(service: str, region: str, access_key_id: str | None):
    # boto3.client() is not thread-safe; it is called from the handler thread before the pool starts
    # (or, for the mailbox's S3 client, under its lock).
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
