"""The DynamoDB requests the store sends, built as plain data: no client, no I/O.

Every request is built one way, with :class:`Expression`: each attribute name and each value goes
through a placeholder, never inline. This module holds that builder, the reads and the writes more
than one function sends; the writes of one function are built beside it, in a module of their own
that only that function loads (docs/performance.md, "Cold start"): ``send_expressions`` (claims,
and the completion write with its fallbacks: every condition that makes delivery idempotent,
docs/idempotency.md), ``reply_expressions`` (answers) and ``feedback_expressions``. ``store.py``
sends them, retries and pages; these modules decide what they say, and are unit-tested on their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from lambdas.domain.items import MESSAGE_EXPIRY_ATTRIBUTE, message_expiry
from lambdas.domain.keys import (
    ATTENDEE_PREFIX,
    OCCURRENCE_ANSWERS_PREFIX,
    OCCURRENCE_PREFIX,
    PARTITION_KEY,
    SORT_KEY,
    attendee_key,
    event_key,
    event_pk,
    message_key,
    occurrence_answers_key,
)

CONDITION_FAILED = "ConditionalCheckFailed"  # a CancellationReasons code

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attribute_values(values: Mapping[str, Any]) -> dict[str, dict]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class Expression:
    """The placeholders of one request: every name and value goes through #name / :value, never
    inline, so no attribute name (a reserved word, an occurrence id as a map key) and no value can
    change what an expression says.

    A plain attribute name reads as itself (``#sequence``), any other as ``#n<i>``; a value reads
    as ``:<label>`` when the store or a fallback reads it back from the request (``:token``), else
    as ``:v<i>``."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # placeholder -> attribute name
        self.values: dict[str, Any] = {}  # placeholder -> value

    def name(self, path: str) -> str:
        """The placeholders of a dotted attribute path (``pending.token`` -> ``#pending.#token``)."""
        return ".".join(self._name(part) for part in path.split("."))

    def _name(self, attribute: str) -> str:
        for placeholder, existing in self.names.items():
            if existing == attribute:
                return placeholder
        placeholder = f"#{attribute}" if _PLAIN_NAME.fullmatch(attribute) else f"#n{len(self.names)}"
        while placeholder in self.names:
            placeholder = f"#n{len(self.names)}_{placeholder[1:]}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any, label: str = "") -> str:
        placeholder = f":{label}" if label else f":v{len(self.values)}"
        while not label and placeholder in self.values:
            placeholder += "_"
        if label and placeholder in self.values and self.values[placeholder] != _number(value):
            raise ValueError(f"{placeholder} already holds another value")
        self.values[placeholder] = _number(value)
        return placeholder

    def as_read(self, path: str, read: Any) -> str:
        """The attribute still holds what was read (or is still absent)."""
        if read is None:
            return f"attribute_not_exists({self.name(path)})"
        return f"{self.name(path)} = {self.value(read)}"

    def request(self, table: str, key: Mapping[str, Any], **parts: Any) -> dict[str, Any]:
        """The request on the item at ``key`` (plain values, as ``lambdas.domain.keys`` gives it)."""
        return self.query(table, Key=to_attribute_values(key), **parts)

    def query(self, table: str, **parts: Any) -> dict[str, Any]:
        """A request on the table with these placeholders (a Query: no key)."""
        request: dict[str, Any] = {"TableName": table, **parts}
        if self.names:
            request["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            request["ExpressionAttributeValues"] = to_attribute_values(self.values)
        return request


def _number(value: Any) -> Any:
    """DynamoDB numbers are Decimals; a float (a time in epoch seconds) is written as its text."""
    return Decimal(str(value)) if isinstance(value, float) else value


def from_item(item: Mapping[str, dict] | None) -> dict[str, Any] | None:
    """A stored item as plain Python values (numbers as int or float), or None if there is none."""
    if not item:
        return None
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------------ reads


def read_event(table: str, uid: str) -> dict:
    return Expression().request(table, event_key(uid), ConsistentRead=True)


def read_attendee(table: str, uid: str, email: str) -> dict:
    return Expression().request(table, attendee_key(uid, email), ConsistentRead=True)


def read_message(table: str, ses_message_id: str) -> dict:
    return Expression().request(table, message_key(ses_message_id), ConsistentRead=True)


def read_occurrence_answers(table: str, uid: str, occurrence: str) -> dict:
    return Expression().request(table, occurrence_answers_key(uid, occurrence), ConsistentRead=True)


def attendees_query(table: str, uid: str) -> dict:
    """The first page of every attendee item of the event (strongly consistent)."""
    return _items_query(table, uid, ATTENDEE_PREFIX)


def occurrence_answers_query(table: str, uid: str) -> dict:
    """The first page of every occurrence answers item (the counts per occurrence) of the event."""
    return _items_query(table, uid, OCCURRENCE_ANSWERS_PREFIX)


def overrides_query(table: str, uid: str) -> dict:
    """The first page of every override item of the event (strongly consistent)."""
    return _items_query(table, uid, OCCURRENCE_PREFIX)


def _items_query(table: str, uid: str, sort_key_prefix: str) -> dict:
    e = Expression()
    condition = (
        f"{e.name(PARTITION_KEY)} = {e.value(event_pk(uid))}"
        f" AND begins_with({e.name(SORT_KEY)}, {e.value(sort_key_prefix)})"
    )
    return e.query(table, KeyConditionExpression=condition, ConsistentRead=True)


def release(table: str, uid: str, email: str, token: str, claim: str = "pending") -> dict:
    """UpdateItem: give a claim back, if this delivery still holds it (``claim``: the send's, or a
    REFRESH answer's ``refresh_pending``)."""
    e = Expression()
    pending = e.name(claim)
    return e.request(
        table,
        attendee_key(uid, email),
        UpdateExpression=f"REMOVE {pending}",
        ConditionExpression=f"{pending}.{e.name('token')} = {e.value(token, 'token')}",
    )


def message_mapping(table: str, ses_message_id: str, uid: str, email: str, sent_at: str) -> dict:
    """The message item: which attendee an SES message id went to, for its delivery feedback. Any
    send that records itself adds it to its own write (docs/feedback.md).

    Unconditional: the email left through SES whoever records its attendee, so its feedback is
    true even when the attendee's own record is dropped (a claim taken over after its lease).
    It expires (the table's TTL) once no feedback on the email can still arrive.
    """
    e = Expression()
    assignments = {
        "uid": e.value(uid, "uid"),
        "email": e.value(email, "email"),
        "sent_at": e.value(sent_at, "at"),
        MESSAGE_EXPIRY_ATTRIBUTE: e.value(message_expiry(sent_at), "expires"),
    }
    expression = "SET " + ", ".join(f"{e.name(name)} = {value}" for name, value in assignments.items())
    return {"Update": e.request(table, message_key(ses_message_id), UpdateExpression=expression)}
