"""SQS: fan-out onto a work queue, and dead-lettering of invalid input with its reason."""

from __future__ import annotations

import json
from collections.abc import Sequence

from botocore.exceptions import ClientError

SEND_BATCH_LIMIT = 10  # SendMessageBatch accepts at most ten entries
MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds
PARTIAL_FAILURE_ATTEMPTS = 3


class QueueError(RuntimeError):
    """Entries could not be enqueued; the record is retried, so nothing is lost."""


class Queues:
    def __init__(self, sqs_client, queue_url: str, dlq_url: str):
        self._sqs = sqs_client
        self._queue_url = queue_url
        self._dlq_url = dlq_url

    def enqueue(self, bodies: Sequence[str]) -> int:
        """Put every body on the work queue, ten per call. Raises QueueError if any is left over."""
        for start in range(0, len(bodies), SEND_BATCH_LIMIT):
            entries = [
                {"Id": str(index), "MessageBody": body}
                for index, body in enumerate(bodies[start : start + SEND_BATCH_LIMIT])
            ]
            for _ in range(PARTIAL_FAILURE_ATTEMPTS):
                response = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
                failed = {f["Id"] for f in response.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            else:
                raise QueueError(f"{len(entries)} messages could not be enqueued")
        return len(bodies)

    def onto(self, queue_url: str) -> Queues:
        """The same client, enqueueing onto another work queue (the organizer function hands its
        changes to the send functions' queues); dead-lettering stays this function's own."""
        return Queues(self._sqs, queue_url, self._dlq_url)

    def put_back(self, body: str, delay_seconds: float, attributes: dict[str, str]) -> int:
        """The same body on the work queue again, invisible for ``delay_seconds`` (at most 15 min),
        with these string attributes; returns the delay given."""
        delay = max(0, min(MAX_DELAY_SECONDS, round(delay_seconds)))
        self._sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=body,
            DelaySeconds=delay,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
        )
        return delay

    def dead_letter(self, body: str, source_message_id: str, reason: str, errors: list[dict]) -> None:
        """Move an invalid message to the DLQ at once, unchanged, with why it was rejected."""
        attributes = {
            "reason": {"DataType": "String", "StringValue": reason[:1024] or "invalid"},
            "errors": {"DataType": "String", "StringValue": json.dumps(errors)[:8192]},
            "source_message_id": {"DataType": "String", "StringValue": source_message_id or "unknown"},
        }
        try:
            self._sqs.send_message(
                QueueUrl=self._dlq_url, MessageBody=body or " ", MessageAttributes=attributes
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "InvalidMessageContents":
                raise
            # Characters SQS refuses (only reachable when invoked directly, not from SQS): keep the
            # body losslessly as a JSON string and say so.
            attributes["body_encoding"] = {"DataType": "String", "StringValue": "json-string"}
            self._sqs.send_message(
                QueueUrl=self._dlq_url, MessageBody=json.dumps(body), MessageAttributes=attributes
            )
