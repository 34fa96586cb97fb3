"""The adapters a function needs, wired from its environment once per container, on first use."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

from lambdas.adapters import clients
from lambdas.adapters.mailbox import Mailbox
from lambdas.adapters.mailer import Mailer, account_send_rate
from lambdas.adapters.pacing import TokenBucket
from lambdas.adapters.queues import Queues
from lambdas.adapters.store import Store
from lambdas.domain.frozen import frozen
from lambdas.runtime import config

if TYPE_CHECKING:
    from lambdas.domain.message import Envelope

# The rate a container paces at when SES cannot tell the account's: the SES sandbox's, the lowest
# any account has. Slow, never throttled; the records it cannot send in time go back to the queue.
FALLBACK_SEND_RATE = 1.0

_logger = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _new_token() -> str:
    return uuid.uuid4().hex


@frozen
class Services:
    settings: config.Settings
    store: Store
    mailer: Mailer
    queues: Queues
    mailbox: Mailbox  # record reply: the raw emails SES receiving stored in S3
    clock: Callable[[], datetime] = field(default=_utc_now)
    new_token: Callable[[], str] = field(default=_new_token)

    @property
    def envelope(self) -> Envelope:
        # The email rendering code is loaded by the first email sent: record feedback never sends,
        # record reply only for a REFRESH (docs/performance.md, "Cold start").
        from lambdas.domain.message import Envelope

        s = self.settings
        return Envelope(sender=s.sender, reply_to=s.rsvp_email, subject_prefix=s.subject_prefix)


def account_rate(sesv2_client) -> float:
    """The account's SES sending rate, or FALLBACK_SEND_RATE (logged) if SES will not tell it."""
    try:
        return account_send_rate(sesv2_client)
    except Exception as error:  # denied, unreachable, or an emulator without GetAccount
        _logger.warning(
            "SES sending rate unknown: pacing at the fallback rate",
            extra={"error": repr(error), "fallbackRate": FALLBACK_SEND_RATE},
        )
        return FALLBACK_SEND_RATE


def send_pace(settings: config.Settings, sesv2_client) -> TokenBucket | None:
    """This container's share of the account's sending rate: the rate divided among every instance
    that may send at once. A configured rate costs no call; otherwise one GetAccount per container."""
    if not settings.paced:
        return None
    rate = settings.max_send_rate or account_rate(sesv2_client)
    share = rate / settings.sending_instances
    _logger.info("pacing sends", extra={"accountRate": rate, "instanceRate": share})
    return TokenBucket(share)


def build(settings: config.Settings) -> Services:
    """Every function's adapters. Only the DynamoDB client, which every record uses, is made now;
    the others, and the sending pace, are made by their first use (clients.lazy)."""
    region = settings.region
    ses = clients.lazy("sesv2", region)
    return Services(
        settings=settings,
        store=Store(clients.client("dynamodb", region), settings.table_name),
        mailer=Mailer(
            ses, settings.sender, settings.configuration_set, pace=lambda: send_pace(settings, ses)
        ),
        queues=Queues(clients.lazy("sqs", region), settings.queue_url, settings.dlq_url),
        mailbox=Mailbox(clients.lazy("s3", region)),
    )


def from_environment() -> Services:
    """Services for the current environment, built on first use and then reused by the container.

    Keyed by the settings and the credentials its clients are made with, so one process can host
    several functions, each with its role's credentials (tests, ``make demo``).
    """
    return _build_once(config.Settings.from_environ(), os.environ.get("AWS_ACCESS_KEY_ID"))


@cache
def _build_once(settings: config.Settings, _access_key_id: str | None) -> Services:
    return build(settings)


def reset() -> None:
    """Forget cached services and clients (tests and the local runtime switch AWS endpoints)."""
    _build_once.cache_clear()
    clients.reset()
