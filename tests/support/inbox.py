"""Mail arriving at the RSVP address, as SES receiving delivers it: the raw email stored in the
inbound bucket, and the SNS-wrapped receipt notification that points at it."""

from __future__ import annotations

import uuid

from local.driver import Driver
from tests.unit.inbound.ses import ses_notification, sns_envelope

BUCKET = "cis-inbox-test"


class Inbox:
    """The inbound bucket, and SES receiving's notification for each stored email."""

    def __init__(self, account: Driver):
        self.account = account
        self.s3 = account.client("s3")
        self.s3.create_bucket(Bucket=BUCKET)

    def store(self, raw: bytes, message_id: str | None = None, **notification) -> str:
        """Store the email; returns the SQS body that announces it."""
        message_id = message_id or uuid.uuid4().hex
        key = f"inbound/{message_id}"
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=raw)
        return sns_envelope(ses_notification(message_id=message_id, bucket=BUCKET, key=key, **notification))

    def deliver(self, raw: bytes, **notification) -> dict:
        return self.account.invoke("reply", self.store(raw, **notification))
