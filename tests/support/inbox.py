"""Mail arriving at the RSVP address, as SES receiving delivers it: the raw email stored in the
inbound bucket, and the SNS-wrapped receipt notification that points at it."""

from __future__ import annotations

import uuid

from lambdas.runtime import config
from local.driver import Driver
from tests.unit.inbound.ses import TOPIC_ARN, ses_notification, sns_envelope

BUCKET = "cis-inbox-test"
PREFIX = "inbound/"


class Inbox:
    """The inbound bucket, and SES receiving's notification for each stored email.

    It plays the receipt rule, so it tells the reply function the origin its notifications have
    (the topic, this bucket, the prefix), in place of the template's: as the stack does."""

    def __init__(self, account: Driver):
        self.account = account
        self.s3 = account.client("s3")
        self.s3.create_bucket(Bucket=BUCKET)
        account.overrides.update(
            {
                config.ENV_INBOUND_TOPIC_ARN: TOPIC_ARN,
                config.ENV_INBOUND_BUCKET: BUCKET,
                config.ENV_INBOUND_KEY_PREFIX: PREFIX,
            }
        )

    def store(self, raw: bytes, message_id: str | None = None, **notification) -> str:
        """Store the email; returns the SQS body that announces it (for RSVP, from the topic)."""
        message_id = message_id or uuid.uuid4().hex
        key = f"{PREFIX}{message_id}"
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=raw)
        notification = {"recipients": (self.account.rsvp,), **notification}
        return sns_envelope(ses_notification(message_id=message_id, bucket=BUCKET, key=key, **notification))

    def deliver(self, raw: bytes, **notification) -> dict:
        return self.account.invoke("reply", self.store(raw, **notification))
