"""SES v2 SendEmail with raw MIME content."""

from __future__ import annotations


class Mailer:
    def __init__(self, sesv2_client, sender: str):
        self._ses = sesv2_client
        self._sender = sender

    def send(self, recipient: str, raw: bytes) -> str:
        """Send one message to one recipient; returns the SES message id."""
        response = self._ses.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": [recipient]},
            Content={"Raw": {"Data": raw}},
        )
        return response["MessageId"]
