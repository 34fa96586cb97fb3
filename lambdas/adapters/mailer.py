"""SES v2 SendEmail with raw MIME content."""

from __future__ import annotations


class Mailer:
    def __init__(self, sesv2_client, sender: str, configuration_set: str = ""):
        self._ses = sesv2_client
        self._sender = sender
        # Its event destination publishes the delivery feedback (docs/feedback.md); "" sends without.
        self._configuration_set = configuration_set

    def send(self, recipient: str, raw: bytes) -> str:
        """Send one message to one recipient; returns the SES message id."""
        request = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [recipient]},
            "Content": {"Raw": {"Data": raw}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        response = self._ses.send_email(**request)
        return response["MessageId"]
