"""SES v2 SendEmail with raw MIME content, paced to this container's share of the sending rate."""

from __future__ import annotations

import random
from collections.abc import Callable

from botocore.exceptions import ClientError

from lambdas.adapters.clients import OnFirstUse
from lambdas.adapters.pacing import TokenBucket

# What SES answers when the account's sending rate or daily quota is reached: the email was NOT
# accepted (SES drops it), so sending it later cannot duplicate it. SES documents ThrottlingException
# with "Maximum sending rate exceeded" or "Daily message quota exceeded"; SES v1 said "Throttling";
# TooManyRequestsException is SES v2's per-operation request rate; LimitExceededException is a
# quota, treated as the daily one.
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException"}
)
DAILY_QUOTA_CODES = frozenset({"LimitExceededException"})
# What SES refuses for good (e.g. an unverified recipient in the sandbox): retrying cannot help, so
# the record goes to the DLQ with SES's reason, to be redriven once the cause is fixed.
PERMANENT_SES_ERRORS = frozenset(
    {"MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException"}
)
DAILY_QUOTA_MESSAGE = "daily message quota"
# The longest a record's thread waits for its turn to send. Past it, the record goes back to the
# queue (batch.py) rather than holding the invocation: the function timeout reasoning
# (infra/tuning.py) counts this wait once per record.
MAX_PACING_WAIT_SECONDS = 10.0
# When to try again after SES refused for its rate: a few seconds, jittered so that the records
# of one throttled batch come back spread out. SES's own advice is "up to 10 minutes".
RATE_RETRY_SECONDS = (5.0, 60.0)
# After the daily quota: SQS's longest delay (15 min), less jitter. SES counts the quota over a
# rolling 24 hours, so sends become possible again gradually; the container also stops asking SES
# for as long (TokenBucket.hold), deferring its records without a call.
DAILY_RETRY_SECONDS = (600.0, 900.0)


class SendThrottled(Exception):
    """Not sent, and not to be counted as a failure: the sending rate or daily quota is used up.

    The record goes back onto its queue with a delay (``retry_after``), so throttling never uses
    up the queue's receive count (docs/idempotency.md, "Throttling")."""

    def __init__(self, reason: str, retry_after: float, *, daily: bool = False, by_ses: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.daily = daily
        self.by_ses = by_ses  # False: this container's own pacing held it back, SES was not asked


def ses_throttling(error: Exception) -> SendThrottled | None:
    """The throttling SES answered with, as SendThrottled; None for any other error."""
    if not isinstance(error, ClientError):
        return None
    details = error.response.get("Error", {})
    code, message = details.get("Code") or "", details.get("Message") or ""
    if code not in THROTTLING_CODES:
        return None
    daily = code in DAILY_QUOTA_CODES or DAILY_QUOTA_MESSAGE in message.lower()
    low, high = DAILY_RETRY_SECONDS if daily else RATE_RETRY_SECONDS
    reason = f"SES {code}: {message}" if message else f"SES {code}"
    return SendThrottled(reason, random.uniform(low, high), daily=daily)  # noqa: S311 - jitter only


def ses_permanent_refusal(error: Exception) -> str:
    """SES's reason when it refused a send for good (PERMANENT_SES_ERRORS); "" for any other error."""
    if not isinstance(error, ClientError):
        return ""
    details = error.response.get("Error", {})
    code = details.get("Code") or ""
    return (details.get("Message") or code) if code in PERMANENT_SES_ERRORS else ""


def account_send_rate(sesv2_client) -> float:
    """The account's maximum sending rate in this region (emails per second), from GetAccount."""
    rate = float(sesv2_client.get_account()["SendQuota"]["MaxSendRate"])
    if rate <= 0:
        raise ValueError(f"GetAccount reported a maximum send rate of {rate}")
    return rate


class Mailer:
    def __init__(
        self,
        sesv2_client,
        sender: str,
        configuration_set: str = "",
        pace: TokenBucket | Callable[[], TokenBucket | None] | None = None,
    ):
        self._ses = sesv2_client
        self._sender = sender
        # Its event destination publishes the delivery feedback (docs/feedback.md); "" sends without.
        self._configuration_set = configuration_set
        # None: unpaced (the function was given no rate). A callable makes the pace on the first
        # send: reading the account's rate (GetAccount) is a call that a function which seldom
        # sends (record reply, for a REFRESH) should not make at every cold start.
        self._pace = OnFirstUse(pace if callable(pace) else lambda: pace)

    def send(self, recipient: str, raw: bytes) -> str:
        """Send one message to one recipient; returns the SES message id.

        Raises SendThrottled when this container's share of the rate has no turn for it soon
        enough, or when SES refused it for the rate or the daily quota."""
        pace = self._pace.get()
        if pace is not None and pace.acquire(MAX_PACING_WAIT_SECONDS) is None:
            wait = pace.wait_time()
            reason = f"over this instance's share of the SES rate ({pace.rate:g}/s)"
            raise SendThrottled(reason, wait + random.uniform(0, wait / 2), by_ses=False)  # noqa: S311
        request = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [recipient]},
            "Content": {"Raw": {"Data": raw}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._ses.send_email(**request)
        except ClientError as error:
            throttled = ses_throttling(error)
            if throttled is None:
                raise
            if throttled.daily and pace is not None:
                pace.hold(DAILY_RETRY_SECONDS[0])
            raise throttled from error
        return response["MessageId"]
