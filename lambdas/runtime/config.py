"""Configuration from the environment, read once per container on first use."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lambdas.domain.frozen import frozen

if TYPE_CHECKING:
    from lambdas.domain.inbound.origin import ReceiptOrigin

# Environment variable names; the CDK stack imports these so the two can never drift apart.
ENV_REGION = "REGION"
ENV_TABLE = "DYNAMODB_TABLE"
ENV_SENDER = "SENDER"
ENV_RSVP_EMAIL = "RSVP_EMAIL"
ENV_QUEUE_URL = "SQS_URL"
ENV_DLQ_URL = "DLQ_URL"
ENV_SUBJECT_PREFIX = "SUBJECT_PREFIX"
ENV_CLAIM_LEASE_SECONDS = "CLAIM_LEASE_SECONDS"
ENV_MAX_WORKERS = "BATCH_MAX_WORKERS"
ENV_CONFIGURATION_SET = "SES_CONFIGURATION_SET"
# The account's SES sending rate (emails per second), or READ_FROM_ACCOUNT: ask SES (GetAccount)
# once per container. Unset: sends are not paced (the stack sets it on every function that sends).
ENV_MAX_SEND_RATE = "SES_MAX_SEND_RATE"
# How many instances may send at once, over all the functions that send: each paces itself at
# the rate divided by this (docs/performance.md, "Keeping to the SES rate").
ENV_SENDING_INSTANCES = "SES_SENDING_INSTANCES"
READ_FROM_ACCOUNT = "account"
# Comma-separated mail domains whose relayed answers count as the attendee's own (docs/replies.md).
ENV_TRUSTED_RELAY_DOMAINS = "TRUSTED_RELAY_DOMAINS"
# Comma-separated addresses and domains that may run events from their calendar (docs/organizer.md);
# unset: nobody. Set on the organizer function only.
ENV_ALLOWED_ORGANIZERS = "ALLOWED_ORGANIZERS"
# The work queues an organizer's change is handed to, as the requests a producer would enqueue.
ENV_INVITE_QUEUE_URL = "INVITE_QUEUE_URL"
ENV_CANCELLATION_QUEUE_URL = "CANCELLATION_QUEUE_URL"

# The record reply function's receipt origin (lambdas/domain/inbound/origin.py): the inbound topic's
# ARN, the inbound bucket and the receipt rule's object key prefix. A notification naming anything
# else is dead-lettered unread. Set by the stack on the reply function only; all three or none.
ENV_INBOUND_TOPIC_ARN = "INBOUND_TOPIC_ARN"
ENV_INBOUND_BUCKET = "INBOUND_BUCKET"
ENV_INBOUND_KEY_PREFIX = "INBOUND_KEY_PREFIX"
RECEIPT_ORIGIN = (ENV_INBOUND_TOPIC_ARN, ENV_INBOUND_BUCKET, ENV_INBOUND_KEY_PREFIX)
# The rule's recipient: the RSVP address for the reply function (the default), the event address
# for the organizer function (its receipt rule's only recipient).
ENV_INBOUND_RECIPIENT = "INBOUND_RECIPIENT"

REQUIRED = (ENV_REGION, ENV_TABLE, ENV_SENDER, ENV_RSVP_EMAIL, ENV_QUEUE_URL, ENV_DLQ_URL)

DEFAULT_SUBJECT_PREFIX = "CalendarSnack"
# The sender the stack is built with when none is configured: an address on a reserved domain,
# which infra/config.py refuses to deploy. The tests and the local runtime send from it.
PLACEHOLDER_SENDER = "invites@example.com"
# How long an in-flight send "owns" an attendee before a redelivery may take over. It is the
# function timeout: the stack deploys this very number (infra/tuning.py FUNCTION_TIMEOUT, where
# its reasons are) and sets the variable too. SQS redelivers only after the visibility timeout
# (>= 6x the function timeout), so a live invocation is never overtaken.
DEFAULT_CLAIM_LEASE_SECONDS = 90
# A worker thread per record of a full batch: the stack's batch size (infra/tuning.py BATCH_SIZE).
DEFAULT_MAX_WORKERS = 10


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete; raised on the first invocation, not at import."""


@frozen
class Settings:
    region: str
    table_name: str
    sender: str
    rsvp_email: str
    queue_url: str
    dlq_url: str
    subject_prefix: str = DEFAULT_SUBJECT_PREFIX
    claim_lease_seconds: int = DEFAULT_CLAIM_LEASE_SECONDS
    max_workers: int = DEFAULT_MAX_WORKERS
    configuration_set: str = ""  # the SES configuration set every send uses ("" = none)
    max_send_rate: float | None = None  # configured emails per second (None: see the next field)
    send_rate_from_account: bool = False  # read the rate from SES GetAccount (else, if no rate: unpaced)
    sending_instances: int = 1
    trusted_relay_domains: frozenset[str] = frozenset()  # lower-case mail domains
    receipt_origin: ReceiptOrigin | None = None  # None: not configured (the functions that do not receive)
    allowed_organizers: tuple[str, ...] = ()  # lower-case addresses and domains (organizer function)
    invite_queue_url: str = ""  # the organizer function's hand-over queues ("" elsewhere)
    cancellation_queue_url: str = ""

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        missing = [name for name in REQUIRED if not env.get(name)]
        if missing:
            raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
        return cls(
            region=env[ENV_REGION],
            table_name=env[ENV_TABLE],
            sender=env[ENV_SENDER],
            rsvp_email=env[ENV_RSVP_EMAIL],
            queue_url=env[ENV_QUEUE_URL],
            dlq_url=env[ENV_DLQ_URL],
            subject_prefix=env.get(ENV_SUBJECT_PREFIX) or DEFAULT_SUBJECT_PREFIX,
            claim_lease_seconds=_positive_int(env, ENV_CLAIM_LEASE_SECONDS, DEFAULT_CLAIM_LEASE_SECONDS),
            max_workers=_positive_int(env, ENV_MAX_WORKERS, DEFAULT_MAX_WORKERS),
            configuration_set=env.get(ENV_CONFIGURATION_SET, "").strip(),
            max_send_rate=_send_rate(env),
            send_rate_from_account=env.get(ENV_MAX_SEND_RATE, "").strip() == READ_FROM_ACCOUNT,
            sending_instances=_positive_int(env, ENV_SENDING_INSTANCES, 1),
            trusted_relay_domains=frozenset(
                d.strip().lower() for d in env.get(ENV_TRUSTED_RELAY_DOMAINS, "").split(",") if d.strip()
            ),
            receipt_origin=_receipt_origin(env),
            allowed_organizers=tuple(
                e.strip().lower() for e in env.get(ENV_ALLOWED_ORGANIZERS, "").split(",") if e.strip()
            ),
            invite_queue_url=env.get(ENV_INVITE_QUEUE_URL, "").strip(),
            cancellation_queue_url=env.get(ENV_CANCELLATION_QUEUE_URL, "").strip(),
        )

    def required_receipt_origin(self) -> ReceiptOrigin:
        """The receipt origin, for the function that reads received mail; without it, no
        notification could be told from a forgery."""
        if self.receipt_origin is None:
            raise ConfigurationError(
                f"missing environment variables: {', '.join(RECEIPT_ORIGIN)} "
                "(the inbound topic, bucket and key prefix that received mail must come from)"
            )
        return self.receipt_origin

    @property
    def paced(self) -> bool:
        return self.max_send_rate is not None or self.send_rate_from_account


def _receipt_origin(env) -> ReceiptOrigin | None:
    given = {name: env.get(name, "").strip() for name in RECEIPT_ORIGIN}
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ConfigurationError(
            f"missing environment variables: {', '.join(missing)} (the receipt origin needs all of "
            f"{', '.join(RECEIPT_ORIGIN)})"
        )
    # Only the function that receives mail is told its origin: the others never load the inbound code.
    from lambdas.domain.inbound.origin import ReceiptOrigin

    return ReceiptOrigin(
        topic_arn=given[ENV_INBOUND_TOPIC_ARN],
        bucket=given[ENV_INBOUND_BUCKET],
        key_prefix=given[ENV_INBOUND_KEY_PREFIX],
        recipient=(env.get(ENV_INBOUND_RECIPIENT) or env[ENV_RSVP_EMAIL]).strip().lower(),
    )


def _send_rate(env) -> float | None:
    raw = env.get(ENV_MAX_SEND_RATE, "").strip()
    if raw in ("", READ_FROM_ACCOUNT):
        return None
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ConfigurationError(
            f"{ENV_MAX_SEND_RATE} must be a positive number or {READ_FROM_ACCOUNT!r}, got {raw!r}"
        )
    return value


def _positive_int(env, name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a positive integer, got {raw!r}") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, got {raw!r}")
    return value
