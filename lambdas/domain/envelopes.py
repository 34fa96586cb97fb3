"""SQS bodies as JSON objects, unwrapping the SNS notification envelope that some queues carry."""

from __future__ import annotations

import json
from typing import Any

from lambdas.domain.validation import FieldError, InvalidRequest


def decode_body(body: Any) -> dict[str, Any]:
    """JSON object from an SQS body, unwrapping an SNS notification envelope if present."""
    return decode_sns_body(body)[0]


def decode_sns_body(body: Any) -> tuple[dict[str, Any], str]:
    """As ``decode_body``, with the envelope's ``TopicArn``: the topic SNS says it delivers from
    ("" for a body without an SNS envelope, or an envelope without a string ``TopicArn``)."""
    document = _load_json(body, "body")
    if document.get("Type") == "Notification" and "Message" in document:
        topic = document.get("TopicArn")
        return _load_json(document["Message"], "Message"), topic if isinstance(topic, str) else ""
    return document, ""


def _load_json(raw: Any, name: str) -> dict[str, Any]:
    if isinstance(raw, bytes | bytearray):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest([FieldError(name, "is not valid UTF-8")]) from None
    if not isinstance(raw, str):
        raise InvalidRequest([FieldError(name, "must be a JSON string")])
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidRequest([FieldError(name, "is not valid JSON")]) from None
    if not isinstance(document, dict):
        raise InvalidRequest([FieldError(name, "must be a JSON object")])
    return document
